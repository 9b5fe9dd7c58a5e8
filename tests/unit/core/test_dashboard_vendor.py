"""The dashboard's charting library is shipped with the hub: the vendored files are the ones the manifest names."""

from __future__ import annotations

import hashlib
import json
import re

from rosterhub.dashboard.router import STATIC

VENDOR = STATIC / "vendor"


def test_every_vendored_file_matches_its_manifest_hash() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    on_disk = {p.name for p in VENDOR.iterdir() if p.name != "MANIFEST.json"}
    assert on_disk == set(manifest["sha256"]), "re-run tools/vendor-charts"
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for package in manifest["packages"].values():
        assert set(package["files"]) <= on_disk and package["npm_integrity"].startswith("sha512-")


def test_the_page_and_its_script_load_nothing_from_elsewhere() -> None:
    page = (STATIC / "index.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/dashboard/static/") for s in sources), sources
    script = (STATIC / "dashboard.js").read_text()
    assert not re.search(r"https?://", script)
