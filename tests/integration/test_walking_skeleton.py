"""One slice through every stage, on the real broker:

vendor JSON over HTTP -> raw.patchwork -> ShiftPosted / BookingRequested on events.* ->
identity -> booking saga (shift stage, person stage with the passport) -> BookingConfirmed /
BookingRejected -> outbound HTTP delivery to a simulated trust endpoint. Malformed input
lands on dlq.mapping with its original bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer

from rosterhub.api import create_api
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.simulators.patchwork import booking_requested, shift_created, signed_headers
from rosterhub.connectors.simulators.trust_endpoint import create_trust_endpoint
from rosterhub.envelope import decode_record, headers_dict
from rosterhub.instants import LONDON
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import topic_counts
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.identity.match import person_id_for
from tests.auth_support import Tokens
from tests.integration.helpers import read_topic, serve_in_thread, wait_for, worker_process
from tests.support import free_port
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

SECRET = "integration-secret"
SECRETS = {"patchwork": {"RHQ": SECRET}}  # RHQ's own signing secret: the webhook is RHQ's


def _post(ingress: str, payload: dict | bytes, *, secret: str = SECRET) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(
        f"{ingress}/ingest/patchwork", content=body, headers=signed_headers(secret.encode(), body), timeout=30
    )


def _passport_cleared(port: int, person: str, at: datetime, tokens: Tokens) -> None:
    """Wait until the worker's passport clears ``person`` at RHQ (credentials travel through identity first)."""
    headers = tokens.caller("RHQ", user="test")
    params = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5", "at": at.isoformat()}

    def cleared() -> bool:
        try:
            r = httpx.get(
                f"http://127.0.0.1:{port}/passport/{person}/clearance", params=params, headers=headers, timeout=5
            )
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and r.json()["cleared"]

    wait_for(cleared, timeout=90, what=f"passport of {person} cleared at RHQ")


def test_shift_to_delivered_confirmation(declared_hub: Settings, tmp_path: Path) -> None:
    bootstrap = declared_hub.kafka_bootstrap_servers
    assert bootstrap
    kafka = access_from_settings(declared_hub)
    names = TopicNames(declared_hub.topic_prefix)
    codec = SingleObjectCodec(default_catalogue())
    # The first worker is a Patchwork bank nurse at RHQ with a passport RHQ clears (issued long enough
    # ago to cover the March shift); the second is unknown to the hub.
    local = "patchwork:RHQ:w-71A2998E"
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    publish_schemas(producer, names.schemas, list(default_catalogue()))
    encoder = Encoder(codec, names, default_catalogue())
    for env in [
        worker(local, nmc="71A2998E"),
        *nurse_passport(local, "RHQ", datetime.now(UTC), age=timedelta(days=400)),
    ]:
        rec = encoder.encode(env)
        producer.send(rec.topic, key=rec.key, value=rec.value, headers=rec.headers)
    producer.close()
    web = free_port()
    tokens = Tokens(tmp_path / "issuer")
    with serve_in_thread(create_trust_endpoint(), free_port()) as trust_url:
        settings = tokens.accepting(
            declared_hub, outbound_endpoints={"RHQ": f"{trust_url}/outcomes/RHQ"}, webhook_secrets=SECRETS
        )
        with (
            worker_process(settings, tmp_path / "worker.log", ROSTERHUB_WORKER_WEB_PORT=str(web), **tokens.env()),
            serve_in_thread(create_api(settings, kafka), free_port()) as ingress,
        ):
            person = person_id_for("reg:nmc:71A2998E")
            _passport_cleared(web, person, datetime(2026, 3, 28, 20, tzinfo=LONDON), tokens)
            # a night shift across the spring clock change: 20:00 GMT -> 08:00 BST is 11 hours
            start = datetime(2026, 3, 28, 20, 0, tzinfo=LONDON)
            r = _post(ingress, shift_created("S-1", "RHQ", start, 11, grade="Band 5", ward="Ward 3B"))
            assert r.status_code == 202, r.text
            assert r.json()["event_types"] == ["rosterhub.shift.v1.ShiftPosted"]

            [posted] = read_topic(bootstrap, names.events("shift"), at_least=1)
            env = decode_record(posted.value, posted.headers, codec)
            assert env.type == "rosterhub.shift.v1.ShiftPosted"
            assert (env.data["end"] - env.data["start"]).total_seconds() == 11 * 3600
            assert posted.key == env.data["shift_id"].encode()

            now = datetime.now(UTC)
            nurse = {"grade": "Band 5", "staff_group": "Registered Nursing"}
            assert _post(ingress, booking_requested("B-1", "S-1", "RHQ", "71A2998E", now, **nurse)).status_code == 202
            assert _post(ingress, booking_requested("B-2", "S-1", "RHQ", "04C1234D", now, **nurse)).status_code == 202

            def delivered() -> list[dict] | None:
                got = httpx.get(f"{trust_url}/outcomes", timeout=5).json()["received"]
                return got if len(got) >= 2 else None

            outcomes = wait_for(delivered, timeout=120, what="two outcomes at the trust endpoint")
            by_type = {o["type"].rsplit(".", 1)[-1]: o for o in outcomes}
            assert set(by_type) == {"BookingConfirmed", "BookingRejected"}
            assert by_type["BookingConfirmed"]["data"]["booking_id"].endswith("B-1")
            assert by_type["BookingRejected"]["data"]["reason_codes"] == ["SHIFT_ALREADY_FILLED"]
            assert [o["trust"] for o in outcomes] == ["RHQ", "RHQ"]

            # the decisions are on events.booking too, decodable by any consumer
            records = read_topic(bootstrap, names.events("booking"), at_least=5)
            types = sorted(decode_record(r.value, r.headers, codec).type.rsplit(".", 1)[-1] for r in records)
            want = ["BookingConfirmed", "BookingRejected", "BookingRequested", "BookingRequested", "ShiftFilled"]
            assert types == want


def test_malformed_input_is_dead_lettered_with_original_bytes(declared_hub: Settings) -> None:
    bootstrap = declared_hub.kafka_bootstrap_servers
    assert bootstrap
    kafka = access_from_settings(declared_hub)
    names = TopicNames(declared_hub.topic_prefix)
    settings = Settings(**{**declared_hub.model_dump(), "webhook_secrets": SECRETS})
    with serve_in_thread(create_api(settings, kafka), free_port()) as ingress:
        broken = b'{"event": "shift.created", "data": {"shift_id": '
        r = _post(ingress, broken)
        assert r.status_code == 422
        assert r.json()["rejected"][0]["code"] == "parse_error"

        may_day = datetime(2026, 5, 1, 7, tzinfo=LONDON)
        unknown_grade = shift_created("S-9", "RHQ", may_day, 8, grade="Band 55", ward="W")
        r = _post(ingress, unknown_grade)
        assert r.status_code == 422
        rejection = r.json()["rejected"][0]
        assert (rejection["code"], rejection["field"], rejection["value"]) == ("mapping_error", "data.grade", "Band 55")
        assert rejection["target"] == "grade"  # the vendor's path is the field; the event field is the target
        assert "patchwork.yaml" in rejection["rule"]

        # a bad signature is refused and nothing is written
        before = topic_counts(kafka, [names.raw("patchwork")])[0].messages
        assert _post(ingress, unknown_grade, secret="wrong").status_code == 401
        assert topic_counts(kafka, [names.raw("patchwork")])[0].messages == before

    raw = {(r.partition, r.offset): r.value for r in read_topic(bootstrap, names.raw("patchwork"), at_least=2)}
    assert broken in raw.values()  # raw first: the untouched payload is kept
    dlq = {headers_dict(r.headers)["dlq_code"]: r for r in read_topic(bootstrap, names.dlq("mapping"), at_least=2)}
    assert set(dlq) == {b"parse_error", b"mapping_error"}
    parse = headers_dict(dlq[b"parse_error"].headers)
    assert dlq[b"parse_error"].value == broken
    assert parse["dlq_stage"] == b"mapping" and parse["dlq_connector"] == b"patchwork"
    assert parse["dlq_origin_topic"] == names.raw("patchwork").encode()
    assert raw[(int(parse["dlq_origin_partition"]), int(parse["dlq_origin_offset"]))] == broken
    mapping = headers_dict(dlq[b"mapping_error"].headers)
    assert (mapping["dlq_field"], mapping["dlq_value"], mapping["dlq_target"]) == (b"data.grade", b"Band 55", b"grade")
    assert json.loads(dlq[b"mapping_error"].value)["data"]["grade"] == "Band 55"  # the original bytes, untouched


def test_redelivery_is_not_published_twice_and_replay_publishes_after_a_fix(
    declared_hub: Settings, tmp_path: Path
) -> None:
    from rosterhub.connectors.pipeline import IngestContext, packaged_mapping
    from rosterhub.connectors.replay import dlq_origins, replay_raw
    from rosterhub.connectors.state import ConnectorState, state_file
    from rosterhub.kafka.producer import EventSink
    from rosterhub.mapping.engine import find_mapping, load_mapping
    from rosterhub.runtime import Encoder

    bootstrap = declared_hub.kafka_bootstrap_servers
    assert bootstrap
    kafka = access_from_settings(declared_hub)
    names = TopicNames(declared_hub.topic_prefix)
    settings = Settings(**{**declared_hub.model_dump(), "webhook_secrets": SECRETS})
    start = datetime(2026, 6, 1, 7, tzinfo=LONDON)
    good = shift_created("S-20", "RHQ", start, 12.5, grade="Band 5", ward="AMU")
    bad = shift_created("S-21", "RHQ", start, 12.5, grade="Band 5 (Enhanced)", ward="AMU")
    with serve_in_thread(create_api(settings, kafka), free_port()) as ingress:
        first = _post(ingress, good)
        again = _post(ingress, good)  # the vendor redelivers the same webhook
        assert first.status_code == again.status_code == 202
        assert (first.json()["accepted"], again.json()["accepted"], again.json()["duplicates"]) == (1, 0, 1)
        assert _post(ingress, bad).status_code == 422
    assert topic_counts(kafka, [names.events("shift")])[0].messages == 1
    assert topic_counts(kafka, [names.raw("patchwork")])[0].messages == 3  # raw keeps every receipt

    # The trust tells us "Band 5 (Enhanced)" is their Band 5: fix the mapping, replay the dead letters.
    band5 = "      Band 5: BAND_5\n"
    text = find_mapping("patchwork", None).read_text().replace(band5, band5 + "      Band 5 (Enhanced): BAND_5\n")
    assert "Band 5 (Enhanced)" in text
    fixed_file = tmp_path / "patchwork.yaml"
    fixed_file.write_text(text)
    fixed = load_mapping(fixed_file)
    sink = EventSink(kafka)
    catalogue = default_catalogue()
    from rosterhub.runtime import make_codec

    ctx = IngestContext(
        sink=sink,
        encoder=Encoder(make_codec(settings, kafka, catalogue), names, catalogue),
        names=names,
        state=ConnectorState(state_file(settings.state_dir, "ingress"), recover=False),
        mapping_for=lambda vendor, trust: fixed if vendor == "patchwork" else packaged_mapping(vendor, trust),
    )
    try:
        only = dlq_origins(kafka, names.dlq("mapping"), "patchwork", names.raw("patchwork"))
        assert len(only) == 1
        summary = replay_raw(ctx, kafka, "patchwork", only=only)
        assert (summary.payloads, summary.published, summary.rejected) == (1, 1, 0)
        everything = replay_raw(ctx, kafka, "patchwork")  # replaying it all publishes nothing new
        assert (everything.payloads, everything.published, everything.duplicates) == (3, 0, 3)
    finally:
        sink.close()
    shifts = read_topic(bootstrap, names.events("shift"), at_least=2)
    codec = SingleObjectCodec(catalogue)
    assert sorted(decode_record(r.value, r.headers, codec).data["vendor_shift_id"] for r in shifts) == ["S-20", "S-21"]
