"""HAPI FHIR's validator, offline: jars from Maven Central, one JVM for any number of resources.

``fetch_jars`` copies ``hapi-fhir-validation``, ``hapi-fhir-structures-r4``,
``hapi-fhir-validation-resources-r4`` (the R4 core profiles, value sets and code systems) and
``hapi-fhir-caching-caffeine`` with their dependencies (``hapi-validator/pom.xml``) into
``<cache_dir>/hapi/<version>/libs`` once, like Kafka's jars (:mod:`rosterhub.kafka.local`).
``validate`` writes the resources to files and runs ``hapi-validator/FhirValidate.java`` as a single-file
source program (``java -cp <libs>/* FhirValidate.java``): no build step, one JVM start (~7 s).

The validation support chain is the R4 core only, with no terminology server: codes from systems
it does not know (the hub's own ``https://rosterhub.org/CodeSystem/...``) are **warnings**, set by
HAPI's ``UnknownCodeSystemWarningValidationSupport``; every other finding keeps HAPI's severity.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rosterhub.errors import ToolUnavailable
from rosterhub.maven import copy_dependencies
from rosterhub.settings import Settings

__all__ = ["HAPI_VERSION", "FileReport", "Finding", "fetch_jars", "jars_dir", "validate"]

#: The newest ``hapi-fhir-validation`` Maven Central serves here (8.x is not served for that module).
HAPI_VERSION = "7.6.1"
_SOURCE = "FhirValidate.java"


def jars_dir(settings: Settings, version: str = HAPI_VERSION) -> Path:
    return settings.cache_dir.expanduser() / "hapi" / version / "libs"


def fetch_jars(settings: Settings, *, version: str = HAPI_VERSION, quiet: bool = True) -> Path:
    """Download the validator's jars with Maven unless they are already cached; return the folder."""
    return copy_dependencies(
        resources.files("rosterhub.tools") / "hapi-validator" / "pom.xml",
        jars_dir(settings, version),
        properties={"hapi.version": version},
        expect=f"hapi-fhir-validation-{version}.jar",
        what=f"HAPI FHIR {version}'s validator",
        error=ToolUnavailable,
        quiet=quiet,
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One message of the validator: ``severity`` is fatal, error, warning or information."""

    severity: str
    location: str
    message_id: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.severity} {self.location}: {self.message}" + (f" [{self.message_id}]" if self.message_id else "")


@dataclass(frozen=True, slots=True)
class FileReport:
    """What the validator said about one resource, named as the caller named it."""

    name: str
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in {"fatal", "error"}]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java:
        raise ToolUnavailable("Java 17+ is needed to run HAPI FHIR's validator and is not on PATH")
    return java


def validate(
    resources_by_name: Mapping[str, dict[str, Any] | str], settings: Settings | None = None, *, timeout: float = 600
) -> dict[str, FileReport]:
    """Validate FHIR R4 resources in one JVM: JSON dicts, or text (FHIR JSON or XML, as served).

    A report per name, in the given order."""
    libs = fetch_jars(settings or Settings())
    with tempfile.TemporaryDirectory(prefix="rosterhub-hapi-") as tmp:
        files: list[str] = []
        for i, doc in enumerate(resources_by_name.values()):
            text = doc if isinstance(doc, str) else json.dumps(doc)
            path = Path(tmp) / f"{i:04d}.{'xml' if text.lstrip().startswith('<') else 'json'}"
            path.write_text(text, encoding="utf-8")
            files.append(str(path))
        reports = _run(libs, files, timeout)
        return {name: FileReport(name, r.findings) for name, r in zip(resources_by_name, reports, strict=True)}


def validate_files(
    paths: Sequence[Path], settings: Settings | None = None, *, timeout: float = 600
) -> list[FileReport]:
    """Validate FHIR R4 JSON files in one JVM (``rosterhub tools fhir-validate``)."""
    libs = fetch_jars(settings or Settings())
    reports = _run(libs, [str(p) for p in paths], timeout)
    return [FileReport(str(p), r.findings) for p, r in zip(paths, reports, strict=True)]


def _run(libs: Path, files: list[str], timeout: float) -> list[FileReport]:
    if not files:
        return []
    with resources.as_file(resources.files("rosterhub.tools") / "hapi-validator" / _SOURCE) as source:
        cmd = [_java(), "-Xss4m", "-cp", f"{libs}/*", str(source), *files]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise ToolUnavailable(f"HAPI FHIR's validator failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise ToolUnavailable(f"HAPI FHIR's validator printed no JSON ({exc}):\n{proc.stdout[-2000:]}") from None
    return [
        FileReport(
            item["file"],
            tuple(
                Finding(m["severity"], m["location"] or "", m.get("messageId"), m["message"]) for m in item["messages"]
            ),
        )
        for item in out
    ]
