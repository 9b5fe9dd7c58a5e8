"""HealthRoster-style e-rostering (RLDatix/Allocate): scheduled exports of Temp Staff Requests.

Each trust's HealthRoster drops XML or CSV exports into that trust's inbox (SFTP); the
file name picks the mapping (``timesheets_*.csv``: the timesheet export), the inbox's trust
picks the trust variant (RXY's HealthRoster uses job titles as grades:
``healthroster.RXY.yaml``). Reference wire format: docs/vendors/healthroster.md.
"""

from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.kinds.filedrop import FileDropQuirks, FileKind

SPEC = ConnectorSpec(
    id="healthroster",
    kind="filedrop",
    title="HealthRoster-style e-rostering (XML/CSV export files)",
    content_type="application/xml",
    quirks=FileDropQuirks(
        files=(
            # before *.csv: the first pattern that matches picks the mapping
            FileKind("timesheets_*.csv", "healthroster_timesheets", "text/csv; charset=utf-8", "timesheet export"),
            FileKind("*.xml", "healthroster", "application/xml", "Temp Staff Request export (XML)"),
            FileKind("*.csv", "healthroster_csv", "text/csv; charset=utf-8", "Temp Staff Request export (CSV)"),
        ),
    ),
)
