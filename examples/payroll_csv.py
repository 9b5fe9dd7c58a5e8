"""A payroll consumer, as a trust's payroll team would write one: the hub's pay lines to a CSV file.

It uses nothing of rosterhub: kafka-python reads ``events.payroll``, and every value is decoded with
the writer schema it names, fetched from where the hub publishes its schemas:

* Avro single-object encoding (the hub's default): the value starts ``C3 01`` and the 8-byte
  CRC-64-AVRO fingerprint (little endian); the schema is the record keyed by that fingerprint (hex)
  on the compacted ``_rosterhub.schemas`` topic;
* the Confluent wire format (``--registry URL``, a hub configured with ``SCHEMA_REGISTRY_URL``):
  ``00`` and a 4-byte schema id, fetched from the registry's REST API.

CloudEvents attributes are Kafka headers: ``ce_type`` says which event a record is (this consumer
keeps ``rosterhub.payroll.v1.PayrollLineIssued``). Lines are deduplicated on ``line_id`` (a re-sent
batch repeats them) and written in batch and line order. Corrections are lines too: a reversal has
negative hours and amount and names the line it reverses (docs/payroll.md).

    python examples/payroll_csv.py --bootstrap localhost:9092 --trust RCU --out rcu-payroll.csv
    python examples/payroll_csv.py --bootstrap localhost:9092 --batch RCU-BANK-2026-W14 --out w14.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import urllib.request
from decimal import Decimal
from typing import Any

from fastavro import parse_schema, schemaless_reader
from kafka import KafkaConsumer, TopicPartition

LINE = "rosterhub.payroll.v1.PayrollLineIssued"
COLUMNS = [
    "batch_id",
    "line_number",
    "line_id",
    "employing_trust",
    "host_trust",
    "person_id",
    "worker_name",
    "pay_code",
    "hours",
    "rate",
    "amount",
    "worked_start",
    "worked_end",
    "booking_id",
    "timesheet_id",
    "reverses",
]


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` from the beginning to its end now, partition by partition."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[Any] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend(records)
        return out
    finally:
        consumer.close()


class Schemas:
    """Writer schemas by the value's prefix: from the schemas topic, or from a Confluent registry."""

    def __init__(self, bootstrap: str, schemas_topic: str, registry: str | None) -> None:
        if registry and not registry.startswith(("http://", "https://")):
            raise ValueError(f"a schema registry URL is http(s), got {registry!r}")
        self.bootstrap, self.topic, self.registry = bootstrap, schemas_topic, registry
        self.by_fingerprint: dict[bytes, Any] = {}
        self.by_id: dict[int, Any] = {}

    def _load_topic(self) -> None:
        for r in read_all(self.bootstrap, self.topic):
            if r.key and r.value:
                self.by_fingerprint[bytes.fromhex(r.key.decode())] = parse_schema(json.loads(r.value))

    def decode(self, value: bytes) -> dict[str, Any]:
        if value[:2] == b"\xc3\x01":
            fp = value[2:10]
            if fp not in self.by_fingerprint:
                self._load_topic()
            return schemaless_reader(io.BytesIO(value[10:]), self.by_fingerprint[fp], None)
        if value[:1] == b"\x00" and self.registry:
            schema_id = int.from_bytes(value[1:5], "big")
            if schema_id not in self.by_id:
                url = f"{self.registry.rstrip('/')}/schemas/ids/{schema_id}"
                with urllib.request.urlopen(url) as answer:  # noqa: S310  (http(s) only, checked above)
                    self.by_id[schema_id] = parse_schema(json.loads(json.load(answer)["schema"]))
            return schemaless_reader(io.BytesIO(value[5:]), self.by_id[schema_id], None)
        raise ValueError(f"unknown framing {value[:2].hex()} (a Confluent-framed topic needs --registry)")


def lines(bootstrap: str, topic: str, schemas: Schemas) -> dict[str, dict[str, Any]]:
    """Every pay line on the topic, once each, by line id."""
    out: dict[str, dict[str, Any]] = {}
    for r in read_all(bootstrap, topic):
        headers = dict(r.headers or [])
        if headers.get("ce_type", b"").decode() != LINE:
            continue
        line = schemas.decode(r.value)
        out.setdefault(line["line_id"], line)
    return out


def row(line: dict[str, Any]) -> list[str]:
    worker = line.get("worker") or {}
    values = {
        **line,
        "employing_trust": line["employing_trust"]["ods_code"],
        "host_trust": line["host_trust"]["ods_code"],
        "person_id": worker.get("person_id") or "",
        "worker_name": worker.get("display_name") or "",
    }
    out = []
    for column in COLUMNS:
        v = values.get(column)
        out.append(
            ""
            if v is None
            else f"{v:.2f}"
            if isinstance(v, Decimal)
            else v.isoformat()
            if hasattr(v, "isoformat")
            else str(v)
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, host:port[,host:port]")
    parser.add_argument("--topic", default="events.payroll", help="the payroll topic (with the hub's topic prefix)")
    parser.add_argument("--schemas-topic", default="_rosterhub.schemas", help="the hub's schemas topic")
    parser.add_argument("--registry", default=None, help="Confluent schema registry URL, when the hub uses one")
    parser.add_argument("--trust", default=None, help="only this employing trust's lines (ODS code)")
    parser.add_argument("--batch", default=None, help="only this batch")
    parser.add_argument("--out", default="-", help="CSV file to write (- for stdout)")
    args = parser.parse_args(argv)
    schemas = Schemas(args.bootstrap, args.schemas_topic, args.registry)
    chosen = [
        line
        for line in lines(args.bootstrap, args.topic, schemas).values()
        if (args.trust is None or line["employing_trust"]["ods_code"] == args.trust)
        and (args.batch is None or line["batch_id"] == args.batch)
    ]
    chosen.sort(key=lambda line: (line["batch_id"], line["line_number"]))
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(row(line) for line in chosen)
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{len(chosen)} line(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
