"""HealthRoster-style e-rostering (RLDatix/Allocate): scheduled exports of Temp Staff Requests.

Each trust's HealthRoster drops XML or CSV exports into that trust's inbox (SFTP); the
file extension picks the mapping, the inbox's trust picks the trust variant (RXY's
HealthRoster uses job titles as grades: ``healthroster.RXY.yaml``). Reference wire
format: docs/vendors/healthroster.md.
"""

from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.kinds.filedrop_routes import FileKind

SPEC = ConnectorSpec(
    id="healthroster",
    kind="filedrop",
    title="HealthRoster-style e-rostering (XML/CSV export files)",
    content_type="application/xml",
    quirks={
        "files": (
            FileKind("*.xml", "healthroster", "application/xml", "Temp Staff Request export (XML)"),
            FileKind("*.csv", "healthroster_csv", "text/csv; charset=utf-8", "Temp Staff Request export (CSV)"),
        ),
    },
)
