"""A booking rule is one declaration: a rule module outside the package is run, configured and explained.

The rule below is written to a temporary directory and imported, as a trust's own rule module would be: no
central file is edited, yet the decider runs it at its stage, the policy loader validates its section, a
policy may switch it off, and its reason code has a meaning (docs/booking.md, "Adding a rule").
"""

from __future__ import annotations

import ast
import importlib
import shutil
import sys
import typing
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from rosterhub.errors import ConfigError
from rosterhub.streams.booking.policy import BookingPolicies, BookingPolicy, load_booking_policies
from rosterhub.streams.booking.rules import PERSON, SHIFT, RuleResult, reason_codes, registry, rule_ids, rules, stage
from tests.unit.streams import saga_harness
from tests.unit.streams.saga_harness import Saga, posted, request

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "policies" / "booking"

RULE_MODULE = """
from pydantic import BaseModel, ConfigDict, Field

from rosterhub.streams.booking.rules import Section, rule


class LongShiftPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_hours: float = Field(default=24, gt=0)


LONG_SHIFT = Section("long_shift", LongShiftPolicy)


@rule(
    "long_shift_cap",
    stage="{stage}",
    order=950,
    codes={{"LONG_SHIFT_CAP": "the shift is longer than the host trust allows"}},
    config=(LONG_SHIFT,),
)
def long_shift_cap(ctx, out):
    cap = ctx.policy.config(LONG_SHIFT).max_hours
    hours = ctx.shift.duration.total_seconds() / 3600
    if hours > cap:
        return out.fail("LONG_SHIFT_CAP", f"{{hours:g}} h is over {{cap:g}} h")
    return out.ok(f"{{hours:g}} h is within {{cap:g}} h")
"""


@pytest.fixture(params=[SHIFT, PERSON])
def new_rule(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    name = f"trust_rule_long_shift_{request.param}"
    (tmp_path / f"{name}.py").write_text(RULE_MODULE.format(stage=request.param), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield importlib.import_module(name)
    finally:
        registry.unregister("long_shift_cap")
        sys.modules.pop(name, None)


def policies(tmp_path: Path, rhq_extra: str) -> dict[str, BookingPolicy]:
    folder = tmp_path / "policies"
    shutil.copytree(SHIPPED, folder)
    rhq = folder / "RHQ.yaml"
    rhq.write_text(rhq.read_text(encoding="utf-8") + rhq_extra, encoding="utf-8")
    return dict(load_booking_policies([folder]).trusts)


def decide_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rhq_extra: str) -> Saga:
    loaded = policies(tmp_path, rhq_extra)
    monkeypatch.setattr(saga_harness, "POLICIES", BookingPolicies(loaded))
    saga = Saga()
    saga.send(posted())  # 13 hours
    saga.send(request("b1"))
    return saga


def test_the_decider_runs_a_new_rule_at_its_stage(
    new_rule: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = registry.get("long_shift_cap")
    assert rule_ids()[-1] == "long_shift_cap" and declared in stage(declared.stage)
    saga = decide_one(tmp_path, monkeypatch, "long_shift:\n  max_hours: 12\n")
    [check] = saga.to_person
    in_check = "long_shift_cap" in [r["rule"] for r in check["shift_results"]]
    assert in_check == (declared.stage == SHIFT)  # the shift stage runs it before the hold, or the person stage
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingRejected", ["LONG_SHIFT_CAP"])}
    [rejected] = saga.events
    assert rejected.data["rule_results"][-1] == {
        "rule": "long_shift_cap",
        "passed": False,
        "reason_code": "LONG_SHIFT_CAP",
        "detail": "13 h is over 12 h",
    }


def test_a_new_rule_passes_by_its_own_config_and_can_be_switched_off(
    new_rule: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saga = decide_one(tmp_path, monkeypatch, "long_shift:\n  max_hours: 14\n")
    saga.settle()
    assert saga.decisions() == {"b1": ("BookingConfirmed", [])}
    assert saga.events[0].data["rule_results"][-1]["detail"] == "13 h is within 14 h"
    off = decide_one(tmp_path / "off", monkeypatch, "long_shift:\n  max_hours: 1\nrules:\n  long_shift_cap: false\n")
    off.settle()
    assert off.decisions() == {"b1": ("BookingConfirmed", [])}
    assert "long_shift_cap" not in [r["rule"] for r in off.events[0].data["rule_results"]]


def test_policy_validation_takes_a_new_rules_section_from_the_rule(new_rule: ModuleType, tmp_path: Path) -> None:
    assert policies(tmp_path / "default", "")["RHQ"].config(new_rule.LONG_SHIFT).max_hours == 24  # its default
    with pytest.raises(ConfigError) as bad:
        policies(tmp_path / "bad", "long_shift:\n  max_hours: -1\n")
    assert bad.value.context["key"] == "long_shift.max_hours" and bad.value.context["file"].endswith("RHQ.yaml")


def test_without_the_rule_its_section_and_id_are_unknown(tmp_path: Path) -> None:
    assert "long_shift_cap" not in rule_ids() and "LONG_SHIFT_CAP" not in reason_codes()
    with pytest.raises(ConfigError, match="long_shift"):
        policies(tmp_path / "section", "long_shift:\n  max_hours: 12\n")
    with pytest.raises(ConfigError, match="unknown rule"):
        policies(tmp_path / "rule", "rules:\n  long_shift_cap: false\n")


def test_a_new_rules_reason_code_is_known(new_rule: ModuleType) -> None:
    assert reason_codes()["LONG_SHIFT_CAP"] == "the shift is longer than the host trust allows"


def test_a_rule_cannot_take_another_rules_id_order_code_or_section() -> None:
    shift_open = registry.get("shift_open")
    for clash, message in [
        ({"id": "shift_open", "module": "elsewhere"}, "registered twice"),
        ({"id": "x", "order": shift_open.order}, "both have order"),
        ({"id": "x", "order": 1, "codes": {"SHIFT_UNKNOWN": "something else"}}, "another meaning"),
        ({"id": "x", "order": 1, "codes": {}, "config": (registry.Section("agency", BaseModel),)}, "another model"),
    ]:
        fields = {"module": "elsewhere", **clash}
        with pytest.raises(ValueError, match=message):
            registry.register(replace(shift_open, **fields))
    assert registry.get("shift_open") is shift_open and "x" not in rule_ids()


def test_built_in_sections_are_the_policy_fields_the_rules_declare() -> None:
    """A built-in rule's section is a typed field of the policy model, of the model the rule declares."""
    hints = typing.get_type_hints(BookingPolicy)
    declared = {s.key: s.model for r in rules() for s in r.config}
    assert declared and all(hints[key] is model for key, model in declared.items())


def test_a_rule_can_give_only_the_codes_it_declares() -> None:
    """The registry hands a rule its own outcomes: a code it did not declare is refused, naming rule and code."""
    out = registry.get("grade_match").outcomes
    assert out.fail("GRADE_TOO_LOW", "why") == RuleResult("grade_match", False, "GRADE_TOO_LOW", "why")
    assert out.note("GRADE_TOLERANCE_USED", "why") == RuleResult("grade_match", True, "GRADE_TOLERANCE_USED", "why")
    assert out.ok() == RuleResult("grade_match", True, None, None)
    for give in (out.fail, out.note):
        with pytest.raises(ValueError, match="'grade_match' gave reason code 'DOUBLE_BOOKED', which it does not"):
            give("DOUBLE_BOOKED", "not one of grade_match's")


def test_each_built_in_rule_names_its_id_once_in_its_module() -> None:
    """A rule is declared once: its id stands in its module only where the rule is declared."""
    for r in rules():
        tree = ast.parse(Path(sys.modules[r.module].__file__ or "").read_text(encoding="utf-8"))
        exported = {
            id(n)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
            for n in ast.walk(node)
        }
        named = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == r.id and id(n) not in exported]
        sections = sum(s.key == r.id for s in r.config)  # moonlighting's policy section has the rule's name
        assert len(named) == 1 + sections, f"{r.id} stands {len(named)} times in {r.module}"


def test_a_familys_rules_share_its_exemption() -> None:
    """The junior doctors' and the agency rules each declare their applicability once, for the whole family."""
    for family in ("junior_doctors", "agency"):
        members = [r for r in rules() if r.module.endswith(f".{family}")]
        assert len(members) > 1 and len({r.exempt for r in members}) == 1 and members[0].exempt is not None
