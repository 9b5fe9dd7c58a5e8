"""``GET /bookings/{id}/explain`` and ``rosterhub explain <booking-id>`` through the real broker.

Decisions are produced onto events.booking as the booking processor writes them (Avro body,
CloudEvents headers, key shift id); the API and the CLI find them by booking id and explain
them from the rule results they carry. No worker is needed: the read model reads the output.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rosterhub.api import create_api
from rosterhub.cli.main import app as cli
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.producer import EventSink
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.booking.rules import evaluate, explain, failed_codes
from tests.auth_support import Tokens
from tests.integration.helpers import read_topic, serve_in_thread, settings_env
from tests.support import free_port
from tests.unit.streams.test_booking_decisions import confirmed_decision, rejected_decision
from tests.unit.streams.test_rules_evaluate import registrar_fifth_night

pytestmark = pytest.mark.integration


def test_a_decision_on_events_booking_is_explained_by_booking_id(declared_hub: Settings, tmp_path: Path) -> None:
    tokens = Tokens(tmp_path / "issuer")
    settings = tokens.accepting(declared_hub)
    kafka = access_from_settings(declared_hub)
    encoder = Encoder(
        SingleObjectCodec(default_catalogue()), TopicNames(declared_hub.topic_prefix), default_catalogue()
    )
    sink = EventSink(kafka)
    try:
        sink.send([encoder.encode(rejected_decision())])
        with serve_in_thread(create_api(settings, kafka), free_port()) as url:
            # produced after the API started, asked for at once: the read model catches up before saying 404
            sink.send([encoder.encode(confirmed_decision())])
            # the host trust's bank office (the rejected booking concerns RHQ only; the confirmed one RHQ, the
            # host, and RCU, whose platform asked)
            with httpx.Client(base_url=url, timeout=60, headers=tokens.caller("RHQ", "bank-office-9")) as http:
                confirmed = http.get("/bookings/patchwork:RCU:5513/explain")
                rejected = http.get("/bookings/patchwork:RHQ:90412/explain")
                text = http.get("/bookings/patchwork:RHQ:90412/explain", params={"format": "text"})
                unknown = http.get("/bookings/patchwork:RHQ:nope/explain")
            with httpx.Client(base_url=url, timeout=60, headers=tokens.caller("RCU", "bank-office-3")) as http:
                partner = http.get("/bookings/patchwork:RCU:5513/explain")
                not_theirs = http.get("/bookings/patchwork:RHQ:90412/explain")
            stranger = httpx.get(
                f"{url}/bookings/patchwork:RHQ:90412/explain", headers=tokens.caller("RFR", "x"), timeout=60
            )
            anonymous = httpx.get(f"{url}/bookings/patchwork:RHQ:90412/explain", timeout=60)
    finally:
        sink.close()

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["outcome"] == "CONFIRMED"
    assert rejected.status_code == 200, rejected.text
    doc = rejected.json()
    results = evaluate(registrar_fifth_night())
    assert doc["outcome"] == "REJECTED"
    assert [c["code"] for c in doc["reason_codes"]] == failed_codes(results)
    assert all(c["meaning"] for c in doc["reason_codes"])
    assert len(doc["rules"]) == len(results)
    assert doc["event"]["source"] == "/rosterhub/booking"
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.rstrip("\n") == doc["explanation"]
    assert doc["explanation"].endswith(explain(results))
    assert unknown.status_code == 404
    assert "patchwork:RHQ:nope" in unknown.json()["detail"]
    # the explanation names the worker: only the trusts the booking concerns may read it, and each read is audited
    assert partner.status_code == 200 and partner.json()["outcome"] == "CONFIRMED"
    assert not_theirs.status_code == 403 and stranger.status_code == 403 and anonymous.status_code == 401
    assert "p-4711" not in not_theirs.text + stranger.text + anonymous.text
    audit = [json.loads(r.value) for r in read_topic(kafka, TopicNames(settings.topic_prefix).audit, at_least=6)]
    reads = sorted((a["person"], a["trust"], a["user"], a["status"]) for a in audit)
    assert reads == sorted(
        [
            ("p-0815", "RHQ", "bank-office-9", 200),
            ("p-4711", "RHQ", "bank-office-9", 200),
            ("p-4711", "RHQ", "bank-office-9", 200),
            ("p-0815", "RCU", "bank-office-3", 200),
            ("p-4711", "RCU", "bank-office-3", 403),
            ("p-4711", "RFR", "x", 403),
        ]
    )

    env = settings_env(declared_hub)
    out = CliRunner().invoke(cli, ["explain", "patchwork:RHQ:90412"], env=env)
    assert out.exit_code == 0, out.output
    assert out.output.rstrip("\n") == doc["explanation"]
    as_json = CliRunner().invoke(cli, ["explain", "patchwork:RCU:5513", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["outcome"] == "CONFIRMED"
    missing = CliRunner().invoke(cli, ["explain", "patchwork:RHQ:nope"], env=env)
    assert missing.exit_code == 2
    assert "no decision for booking 'patchwork:RHQ:nope'" in missing.output
