"""Locum's Nest-style locum platform: a cursor-paged REST "changes" endpoint, polled.

Reference wire format (page body, parameters, headers, rate limits, outbound endpoints):
docs/vendors/locums_nest.md. Mapping: mapping/vendors/locums_nest.yaml. Simulator:
``rosterhub simulate locums_nest``. Deployment options (base URL, trusts, API keys):
:class:`rosterhub.connectors.kinds.poll.PollOptions`.
"""

from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.kinds.poll import PollQuirks

SPEC = ConnectorSpec(
    id="locums_nest",
    kind="poll",
    title="Locum's Nest-style locum platform (REST changes feed)",
    quirks=PollQuirks(
        changes_path="/api/v2/changes",
        cursor_param="cursor",
        since_param="since",
        limit_param="limit",
        organisation_param="organisation",
        changes_field="changes",
        next_cursor_field="next_cursor",
        has_more_field="has_more",
        changed_at_field="changed_at",
        organisation_field="organisation.ods_code",
        next_cursor_header="X-Next-Cursor",
        has_more_header="X-Has-More",
        rate_limit_remaining_header="X-RateLimit-Remaining",
        rate_limit_reset_header="X-RateLimit-Reset",
        auth_header="Authorization",
        auth_scheme="Bearer",
        cursor_expired_status=410,
    ),
)
