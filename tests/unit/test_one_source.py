"""Shared vocabulary is declared once; these read the source tree so a second declaration cannot come back.

Each test names the one home of its piece of vocabulary, and fails with the file and line of any other
declaration in the hub's code (``rosterhub/``, ``streams/``, ``connectors/``, ``mapping/``):

* event types: the generated models' ``AVRO_NAME`` (``rosterhub/events/models``), never a spelled-out
  ``"rosterhub.<domain>.v<N>.<Event>"`` or namespace prefix;
* epoch milliseconds: ``to_ms``/``from_ms``/``optional_ms`` in ``rosterhub/instants.py``;
* ODS codes: ``rosterhub/ods.py``;
* bank holidays: ``rosterhub/bank_holidays.py``, the only importer of the ``holidays`` package;
* the hub's zone: ``LONDON`` in ``rosterhub/instants.py``, the only ``ZoneInfo("Europe/London")`` in the tree
  (tests and benches included);
* the booking processor's CloudEvents source: ``SOURCE`` in ``streams/booking/outcome.py``.

Tests, benches and ``examples/`` (written as a trust would, without rosterhub) may spell names out.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("rosterhub", "streams", "connectors", "mapping")
EVERYWHERE = (*SOURCES, "tests", "bench")  # examples/ is written as a trust would, without rosterhub
GENERATED = ROOT / "rosterhub" / "events" / "models"  # `rosterhub schemas gen`: where AVRO_NAME is declared


@cache
def _modules(folders: tuple[str, ...] = SOURCES) -> tuple[tuple[str, ast.Module], ...]:
    return tuple(
        (str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8")))
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if GENERATED not in path.parents
    )


def _strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """String (and bytes) constants in code: docstrings and other bare string statements are prose."""
    prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in prose and isinstance(node.value, str | bytes):
            value = node.value.decode("utf-8", "replace") if isinstance(node.value, bytes) else node.value
            yield node.lineno, value


def _spelled(wanted: Callable[[str], bool], home: str | None = None) -> list[str]:
    """``file:line: value`` of each string constant ``wanted`` picks in the hub's code outside ``home``."""
    return [
        f"{name}:{line}: {value!r}"
        for name, tree in _modules()
        if name != home
        for line, value in _strings(tree)
        if wanted(value)
    ]


def _nodes(wanted: Callable[[ast.AST], bool], home: str, folders: tuple[str, ...] = SOURCES) -> list[str]:
    """``file:line`` of each node ``wanted`` picks in ``folders`` outside ``home``."""
    return [
        f"{name}:{getattr(node, 'lineno', 0)}"
        for name, tree in _modules(folders)
        if name != home
        for node in ast.walk(tree)
        if wanted(node)
    ]


def test_event_types_come_from_the_generated_models() -> None:
    # a full name (rosterhub.booking.v1.ShiftFilled) or a namespace prefix to append to (rosterhub.shift.v1.)
    spelled = re.compile(r"rosterhub\.[a-z_]+\.v\d+\.(?:[A-Z]\w*)?")
    found = _spelled(lambda value: spelled.fullmatch(value) is not None)
    assert found == [], f"use the model's AVRO_NAME (rosterhub.events.models) instead of: {found}"


def _is_epoch_ms(node: ast.AST) -> bool:
    """``int(<x>.timestamp() * 1000)``: the conversion itself."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "int"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Mult)
        and "timestamp()" in ast.unparse(node.args[0].left)
        and ast.unparse(node.args[0].right) == "1000"
    )


def test_epoch_milliseconds_are_converted_in_one_place() -> None:
    home = "rosterhub/instants.py"
    found = []
    for name, tree in _modules():
        if name == home:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            wraps = len(body) == 1 and isinstance(body[0], ast.Return) and _is_epoch_ms(body[0].value)
            if node.name in ("to_ms", "from_ms", "optional_ms") or wraps:
                found.append(f"{name}:{node.lineno}: def {node.name}")
    assert found == [], f"import to_ms/from_ms/optional_ms from {home} instead of defining: {found}"


def test_the_ods_code_pattern_is_declared_once() -> None:
    home = "rosterhub/ods.py"
    patterns = ("[A-Z0-9]{3,5}", "[A-Z][A-Z0-9]{2}")
    found = _spelled(lambda value: any(p in value for p in patterns), home)
    assert found == [], f"use ODS / ODS_PATTERN / ODS_CODE / ODS_LIKE from {home} instead of: {found}"


def _imports_holidays(node: ast.AST) -> bool:
    return (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "holidays" for a in node.names)) or (
        isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "holidays"
    )


def test_bank_holidays_are_wrapped_once() -> None:
    home = "rosterhub/bank_holidays.py"
    found = _nodes(_imports_holidays, home)
    assert found == [], f"ask {home} (bank_holiday, subdivisions) instead of importing holidays in: {found}"


def _is_london(node: ast.AST) -> bool:
    """``ZoneInfo("Europe/London")`` (or ``zoneinfo.ZoneInfo(...)``): building the hub's zone."""
    return (
        isinstance(node, ast.Call)
        and ast.unparse(node.func).split(".")[-1] == "ZoneInfo"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == "Europe/London"
    )


def test_the_london_zone_is_built_once() -> None:
    home = "rosterhub/instants.py"
    found = _nodes(_is_london, home, EVERYWHERE)
    assert found == [], f"import LONDON from {home} instead of building the zone in: {found}"


BOOKING_SOURCE = "/rosterhub/booking"


def test_the_booking_source_is_declared_once() -> None:
    home = "streams/booking/outcome.py"
    found = _spelled(lambda value: value == BOOKING_SOURCE, home)
    assert found == [], f"import SOURCE from {home} (rosterhub.streams.booking.outcome) instead of: {found}"


def test_each_guard_would_see_a_repeat() -> None:
    """The guards' own patterns match what they are meant to refuse (so an empty result means something)."""
    tree = ast.parse(
        'X = "rosterhub.booking.v1.ShiftFilled"\nP = b"rosterhub.shift.v1."\n'
        "def to_ms(dt):\n    return int(dt.timestamp() * 1000)\n"
        "def _ms(v):\n    return int(v.timestamp() * 1000)\n"
        'ODS = r"^[A-Z0-9]{3,5}$"\n'
        'TZ = ZoneInfo("Europe/London")\nTZ2 = zoneinfo.ZoneInfo("Europe/London")\n'
        'HUB = b"/rosterhub/booking"\n'
    )
    values = [v for _, v in _strings(tree)]
    assert "rosterhub.booking.v1.ShiftFilled" in values and "rosterhub.shift.v1." in values
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert all(_is_epoch_ms(f.body[0].value) for f in functions)  # type: ignore[attr-defined]
    assert any("[A-Z0-9]{3,5}" in v for v in values)
    assert sum(_is_london(n) for n in ast.walk(tree)) == 2
    assert BOOKING_SOURCE in values
