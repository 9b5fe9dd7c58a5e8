"""``rosterhub identity ...``: list conflicts, show a person, merge and split.

Reads fold ``events.identity`` from the beginning (the same view the API keeps);
``merge`` and ``split`` check against that view, send a command record to
``_rosterhub.identity-in`` and wait for the worker's PersonsMerged / PersonSplit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from rosterhub.cli.common import JsonFlag, echo_json, fail, fail_with
from rosterhub.errors import RosterhubError

app = typer.Typer(no_args_is_help=True)

_By = Annotated[str, typer.Option("--by", help="Who decides (your user id); recorded with the decision.")]
_Reason = Annotated[str, typer.Option("--reason", help="Why; recorded with the decision. No personal data.")]
_Wait = Annotated[float, typer.Option("--wait", help="Seconds to wait for the worker's answer (0: do not wait).")]


@contextmanager
def _client() -> Iterator[Any]:
    from rosterhub.kafka.producer import EventSink
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.runtime import TopicNames, make_codec
    from rosterhub.settings import load_settings
    from rosterhub.streams.identity.client import IdentityClient

    settings = load_settings()
    try:
        kafka = resolve_broker(settings, keep_running=True).access
    except RosterhubError as exc:
        fail(exc)
    names = TopicNames(settings.topic_prefix)
    sink = EventSink(kafka, client_id="rosterhub-identity-cli")
    client = IdentityClient(
        kafka, names.events("identity"), names.identity_in, make_codec(settings, kafka), sink, "/rosterhub/cli"
    ).start()
    try:
        yield client
    finally:
        client.stop()
        sink.close()


@app.command()
def conflicts(
    person: Annotated[str | None, typer.Option(help="Only conflicts involving this person.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List open identity conflicts (oldest first): kind, people and records involved."""
    with _client() as client:
        found = client.read(lambda v: v.open_conflicts(person))
    if as_json:
        echo_json(found)
        return
    if not found:
        typer.echo("no open conflicts")
    for c in found:
        ids = ", ".join(f"{i['system'].rsplit('/', 1)[-1]}={i['value']}" for i in c["identifiers"])
        extra = " + identity_match_key" if c["match_key_involved"] else ""
        typer.echo(f"{c['conflict_id']}  {c['kind']}\n  people:  {' '.join(c['person_ids'])}")
        typer.echo(f"  records: {' '.join(c['worker_ids'])}\n  identifiers: {ids or '-'}{extra}")
        typer.echo(f"  {c['detail'] or ''}")


@app.command()
def show(
    person: Annotated[str, typer.Argument(help="Person id (p-...) or a local worker id.")], as_json: JsonFlag = False
) -> None:
    """Show a person: records, merged-into, open conflicts (a local worker id shows its person)."""
    with _client() as client:
        found = client.read(lambda v: v.person(person) or v.person(v.person_of(person) or ""))
    if found is None:
        fail_with(f"unknown person or record {person}")
    if as_json:
        echo_json(found)
        return
    typer.echo(f"{found['person_id']}" + (f"  (merged into {found['merged_into']})" if found["merged_into"] else ""))
    for r in found["records"]:
        typer.echo(f"  record   {r}")
    for c in found["open_conflicts"]:
        typer.echo(f"  conflict {c}")


def _submit(client: Any, cmd: Any, refusal: str | None, wait: float) -> None:
    if refusal:
        fail_with(refusal)
    command_id = client.send(cmd)
    typer.echo(f"sent {cmd.kind} command {command_id}")
    if wait <= 0:
        return
    result = client.result(command_id, wait)
    if result is None:
        fail_with(
            f"no answer from the worker within {wait}s (is `rosterhub worker` running?); command {command_id} "
            "stays queued on _rosterhub.identity-in"
        )
    if result["kind"] == "merge":
        typer.echo(
            f"merged {result['merged_person_id']} into {result['person_id']}: {len(result['worker_ids'])} "
            f"record(s), {len(result['credential_ids'])} credential(s), resolved {len(result['resolves'])} "
            "conflict(s)"
        )
    else:
        typer.echo(
            f"split {len(result['worker_ids'])} record(s) off {result['person_id']} into "
            f"{result['new_person_id']}{' (revived)' if result['revived'] else ''}"
        )


@app.command()
def merge(
    into: Annotated[str, typer.Argument(help="Surviving person id.")],
    other: Annotated[str, typer.Argument(help="Person id merged away into the first.")],
    reason: _Reason,
    by: _By,
    wait: _Wait = 30.0,
) -> None:
    """Merge person OTHER into person INTO (undo: split OTHER's records off INTO)."""
    from rosterhub.streams.identity.commands import MergeCommand

    with _client() as client:
        refusal = client.read(lambda v: v.check_merge(into, other))
        _submit(client, MergeCommand(into=into, merge=other, reason=reason, requested_by=by), refusal, wait)


@app.command()
def split(
    person: Annotated[str, typer.Argument(help="Person id to split.")],
    records: Annotated[list[str], typer.Option("--records", help="Local worker id leaving the person (repeat).")],
    reason: _Reason,
    by: _By,
    wait: _Wait = 30.0,
) -> None:
    """Move RECORDS off PERSON to a new person (or back to the person an earlier merge absorbed)."""
    from rosterhub.streams.identity.commands import SplitCommand

    with _client() as client:
        refusal = client.read(lambda v: v.check_split(person, records))
        _submit(client, SplitCommand(person=person, records=records, reason=reason, requested_by=by), refusal, wait)
