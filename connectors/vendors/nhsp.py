"""NHS Professionals-style managed bank: daily bookings and timesheets CSV files in a drop folder.

Under BankShare one file carries every member trust's rows (each row names its trust),
so an NHSP inbox need not name a trust. The file name picks the mapping:
``bookings_*.csv`` -> ``nhsp.yaml`` (Windows cp1252 export), ``timesheets_*.csv`` ->
``nhsp_timesheets.yaml`` (UTF-8). Reference wire format: docs/vendors/nhsp.md.
"""

from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.kinds.filedrop import FileDropQuirks, FileKind

SPEC = ConnectorSpec(
    id="nhsp",
    kind="filedrop",
    title="NHS Professionals-style managed bank (bookings and timesheets CSV files)",
    content_type="text/csv",
    quirks=FileDropQuirks(
        files=(
            FileKind("bookings_*.csv", "nhsp", "text/csv; charset=windows-1252", "bookings"),
            FileKind("timesheets_*.csv", "nhsp_timesheets", "text/csv; charset=utf-8", "timesheets"),
        ),
    ),
)
