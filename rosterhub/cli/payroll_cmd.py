"""``rosterhub payroll ...``: list batches and their lines, export CSV, close and re-send a batch, statements.

Reads fold events.payroll and events.recharge from the beginning (:mod:`rosterhub.streams.payroll.ledger`,
the same view the API keeps); ``close`` sends a command the worker's batch stage handles in order with
the trust's lines, and waits for its PayrollBatchClosed; ``resend`` publishes the batch's records again,
byte for byte (docs/payroll.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rosterhub.cli.common import JsonFlag, echo_json, fail_with
from rosterhub.errors import RosterhubError

if TYPE_CHECKING:
    from rosterhub.kafka.access import KafkaAccess

app = typer.Typer(no_args_is_help=True)


@dataclass
class _Hub:
    settings: Any
    kafka: KafkaAccess
    names: Any
    codec: Any

    def ledger(self) -> Any:
        from rosterhub.streams.payroll.reader import read_ledger

        return read_ledger(self.kafka, [self.names.events("payroll"), self.names.events("recharge")], self.codec)


@contextmanager
def _hub() -> Iterator[_Hub]:
    from rosterhub.cli.common import fail, prepare
    from rosterhub.runtime import TopicNames, make_codec
    from rosterhub.settings import load_settings

    settings = load_settings()
    try:
        kafka = prepare(settings)
    except RosterhubError as exc:
        fail(exc)
    yield _Hub(settings, kafka, TopicNames(settings.topic_prefix), make_codec(settings, kafka))


@app.command("list")
def list_batches(
    trust: Annotated[str | None, typer.Option(help="Only this employing trust's batches (ODS code).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Batches with their status, line count and total."""
    with _hub() as hub:
        rows = [b.summary() for b in hub.ledger().of_trust(trust)]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['batch_id']:22} {r['employing_trust']:5} {r['cycle']:7} {r['period_start']}..{r['period_end']} "
            f"{r['status']:6} {r['lines']:5} lines  GBP {r['amount']:>12}"
        )
    typer.echo(f"{len(rows)} batch(es)")


@app.command()
def lines(
    batch: Annotated[str, typer.Argument(help="Batch id, e.g. RCU-BANK-2026-W14.")], as_json: JsonFlag = False
) -> None:
    """A batch's lines, in line order."""
    with _hub() as hub:
        found = hub.ledger().batches.get(batch)
    if found is None:
        fail_with(f"no batch {batch!r} on the payroll topic")
    rows = found.ordered()
    if as_json:
        echo_json({"batch": found.summary(), "lines": rows})
        return
    for d in rows:
        typer.echo(
            f"{d['line_id']:26} {d['pay_code']:22} {d['hours'] or '':>7} x {d['rate'] or '':>7} = {d['amount']:>10}  "
            f"{d['host_trust']['ods_code']} {d['booking_id']}{'  reverses ' + d['reverses'] if d['reverses'] else ''}"
        )
    s = found.summary()
    typer.echo(f"{s['lines']} line(s), GBP {s['amount']}, {s['status']}")


@app.command()
def export(
    batch: Annotated[str, typer.Argument(help="Batch id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write (- for stdout).")] = Path("-"),
) -> None:
    """Write a batch's lines as CSV (columns in docs/payroll.md)."""
    from rosterhub.streams.payroll.ledger import lines_csv

    with _hub() as hub:
        found = hub.ledger().batches.get(batch)
    if found is None:
        fail_with(f"no batch {batch!r} on the payroll topic")
    text = lines_csv(found.ordered())
    if str(out) == "-":
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{len(found.lines)} line(s) written to {out}")


@app.command()
def close(
    batch: Annotated[list[str] | None, typer.Argument(help="Batch id(s) to close.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who closes it (your user id); recorded on the batch.")] = "",
    due: Annotated[bool, typer.Option("--due", help="Close every open batch whose cut-off has passed.")] = False,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the close (0: do not wait).")] = 60.0,
) -> None:
    """Close batches: nothing is added to a closed batch; a later correction goes to the next one."""
    from rosterhub.kafka.producer import EventSink
    from rosterhub.streams.payroll.commands import batch_trust, close_command
    from rosterhub.topics import PAYROLL_PRICED

    if not by:
        fail_with("say who closes the batch: --by <user id>")
    with _hub() as hub:
        wanted = list(batch or [])
        if due:
            wanted += _due(hub)
        if not wanted:
            fail_with("no batch to close (name one, or --due)")
        try:
            for b in wanted:
                batch_trust(b)
        except ValueError as exc:
            fail_with(str(exc))
        sink = EventSink(hub.kafka, client_id="rosterhub-payroll-cli")
        try:
            now = datetime.now(UTC)
            sink.send([close_command(hub.names.of(PAYROLL_PRICED), b, by=by, at=now) for b in wanted])
        finally:
            sink.close()
        typer.echo(f"close sent for {', '.join(wanted)}")
        if wait > 0:
            deadline = time.monotonic() + wait
            while True:
                ledger = hub.ledger()
                pending = [b for b in wanted if not (ledger.batches.get(b) and ledger.batches[b].closed)]
                if not pending:
                    break
                if time.monotonic() > deadline:
                    fail_with(f"not closed within {wait:.0f}s (is a worker running?): {', '.join(pending)}")
                time.sleep(1)
            for b in wanted:
                c = ledger.batches[b].closed
                typer.echo(f"{b} closed by {c['closed_by']}: {c['line_count']} line(s), GBP {c['amount']}")


def _due(hub: _Hub) -> list[str]:
    """Open batches (with lines) whose period's cut-off has passed, by the employing trust's pay policy."""
    from rosterhub.streams.payroll.load import load_payroll_policies
    from rosterhub.streams.payroll.periods import period_of

    policies = load_payroll_policies([hub.settings.payroll_policy_dir])
    now = datetime.now(UTC)
    out = []
    for b in hub.ledger().of_trust(None):
        policy = policies.get(b.employing_trust)
        period = period_of(b.employing_trust, policy.pay, b.batch_id) if policy else None
        if b.closed is None and period is not None and period.cutoff < now:
            out.append(b.batch_id)
    return out


@app.command()
def resend(batch: Annotated[str, typer.Argument(help="Batch id to publish again.")]) -> None:
    """Publish a batch's lines (and its close) again, byte for byte: consumers and ESR end as they were."""
    from kafka import KafkaConsumer, TopicPartition

    from rosterhub.envelope import KafkaRecord
    from rosterhub.kafka.position import next_offset
    from rosterhub.kafka.producer import EventSink
    from rosterhub.streams.payroll.commands import resend_records

    with _hub() as hub:
        topic = hub.names.events("payroll")
        consumer = KafkaConsumer(enable_auto_commit=False, **hub.kafka.kafka_python())
        try:
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            ends = consumer.end_offsets(tps)
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            found: list[KafkaRecord] = []
            while any(next_offset(consumer, tp) < ends[tp] for tp in tps):
                for records in consumer.poll(timeout_ms=500).values():
                    found += [KafkaRecord(topic, r.key, r.value, list(r.headers)) for r in records]
        finally:
            consumer.close()
        again = resend_records(found, batch)
        if not again:
            fail_with(f"no records of batch {batch!r} on {topic}")
        sink = EventSink(hub.kafka, client_id="rosterhub-payroll-cli")
        try:
            sink.send(again)
        finally:
            sink.close()
    typer.echo(f"{batch}: {len(again)} record(s) published again (same ids)")


@app.command()
def statement(
    between: Annotated[tuple[str, str], typer.Option("--between", help="The two trusts (ODS codes).")],
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: every month).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The monthly recharge statements between two trusts (each way round), reconciled line by line."""
    with _hub() as hub:
        found = [s.document() for s in hub.ledger().statements_between(*between, month)]
    if as_json:
        echo_json(found)
        return
    for s in found:
        typer.echo(f"{s['statement_id']}: {s['raised_by']} recharges {s['charged_to']} for {s['month']}")
        for r in s["lines"]:
            typer.echo(
                f"  {r['line_id']:26} {r['pay_code']:22} pay {r['pay_amount']:>10} on-cost {r['on_cost_amount']:>9}"
            )
        typer.echo(
            f"  {s['recharges']} line(s): pay {s['pay_amount']}, on-costs {s['on_cost_amount']}, total {s['amount']}"
        )
