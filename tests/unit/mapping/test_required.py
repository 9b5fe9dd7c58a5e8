"""`required: true` names the vendor's missing field instead of a later function's complaint."""

import json
from datetime import UTC, datetime

from rosterhub.mapping.engine import apply_mapping, find_mapping, load_mapping


def test_missing_required_path_is_named() -> None:
    spec = load_mapping(find_mapping("patchwork"))
    payload = {
        "event": "shift.created",
        "id": "e1",
        "created_at": "2026-03-25T09:14:02Z",
        "data": {
            "shift_id": "1",
            "version": 1,
            "organisation_ods": "RXX",
            "ward": "W",
            "staff_group": "Registered Nursing",
            "grade": "Band 5",
            "end_time": "2026-03-29T08:00:00+01:00",
            "rate": "24.50",
        },
    }
    outcome = apply_mapping(spec, json.dumps(payload).encode(), received_at=datetime.now(UTC))
    [rejection] = outcome.rejected
    assert rejection.error.message == "data.start_time is required but missing"
    # the vendor's path is the field; the let value the mapping could not make is the target
    assert (rejection.error.field, rejection.error.target) == ("data.start_time", "let.start")
    assert rejection.error.value is None
    assert rejection.error.rule is not None and rejection.error.rule.startswith("patchwork.yaml:")
    assert outcome.events == []
