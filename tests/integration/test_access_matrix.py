"""Who may call what, generated from the OpenAPI documents the ingress and a worker serve (real broker).

For every operation of both documents, so a new route cannot be missed:

* no credentials -> 401 with a Bearer challenge (nothing but the listed public operations answer);
* a token with each role the operation does not list -> 403;
* the right role but another trust, where the operation is trust-scoped (``x-rosterhub-trust-scope``) -> 403;
* the right role and trust -> neither 401 nor 403 (the route lets its callers in);
* a refused authenticated read of personal data (``x-rosterhub-audit``) leaves an audit record naming the
  token's subject.

Trust B reading trust A's passport evidence and staff details has its own tests (test_access_findings,
test_booking_explain, test_passport); this one is about coverage.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rosterhub.api import create_api
from rosterhub.auth.openapi import access_table
from rosterhub.auth.roles import Role
from rosterhub.connectors.registry import connectors
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import ensure_topics
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import declared_topics
from tests.auth_support import Tokens
from tests.integration.helpers import read_topic, serve_in_thread, wait_serving, worker_process
from tests.support import free_port, isolated_settings
from tests.unit.streams.passport_builders import POLICIES

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

OWN, OTHER = "RHQ", "RCU"
METHODS = ("get", "post", "put", "patch", "delete")
#: operations anyone may call; any other unauthenticated answer fails the test
PUBLIC = {
    "ingress": {
        ("GET", "/health"),
        ("GET", "/fhir/R4/metadata"),
        ("GET", "/fhir/{trust}/R4/metadata"),
        ("GET", "/dashboard"),  # the page only: its figures come from /kpi with the caller's token
    },
    "worker": {("GET", "/health")},
}


@dataclass(frozen=True)
class Op:
    app: str
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def roles(self) -> set[Role]:
        return {
            Role(r) for req in self.spec.get("security", []) for name, rs in req.items() if name == "bearer" for r in rs
        }

    @property
    def trust_param(self) -> dict[str, Any] | None:
        name = self.spec.get("x-rosterhub-trust-scope")
        return next((p for p in self.spec.get("parameters", []) if p["name"] == name), None)

    def request(self, base: str, headers: dict[str, str], trust: str = OWN) -> httpx.Response:
        path, params = self.path, {}
        for p in self.spec.get("parameters", []):
            value = trust if p is self.trust_param else "matrix-x"
            if p["in"] == "path":
                path = path.replace("{" + p["name"] + "}", value)
            elif p["in"] == "query" and p is self.trust_param:
                params[p["name"]] = value
        if "x-rosterhub-audit" in self.spec:
            headers = {**headers, "X-Rosterhub-Purpose": "access-matrix"}
        body = b"{}" if self.method in ("POST", "PUT") else None
        content_type = {"content-type": "application/json"} if body is not None else {}
        return httpx.request(
            self.method, base + path, params=params, content=body, headers={**content_type, **headers}, timeout=60
        )


def operations(app: str, doc: dict[str, Any]) -> list[Op]:
    return [
        Op(app, method.upper(), path, spec)
        for path, item in doc["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def hub(kafka: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Tokens, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("matrix")
    tokens = Tokens(tmp / "issuer")
    settings = isolated_settings(
        kafka.bootstrap,
        tmp,
        partitions=2,
        auth_issuers=[tokens.issuer.accepted()],
        webhook_secrets={"patchwork": {OWN: "matrix-secret"}},
    )
    ensure_topics(
        kafka.access,
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=2,
        replication_factor=1,
    )
    port = free_port()
    env = {"ROSTERHUB_WORKER_WEB_PORT": str(port), "ROSTERHUB_PASSPORT_POLICY_DIR": str(POLICIES)}
    with (
        worker_process(settings, tmp / "worker.log", **env) as proc,
        serve_in_thread(create_api(settings, kafka.access), free_port()) as ingress,
    ):
        worker = f"http://127.0.0.1:{port}"

        wait_serving(
            proc,
            tmp / "worker.log",
            lambda: httpx.get(f"{worker}/health", timeout=2).status_code == 200,
            what="the worker's web server",
        )
        yield settings, tokens, {"ingress": ingress, "worker": worker}


def test_every_operation_of_both_documents_refuses_and_admits_as_declared(
    hub: tuple[Settings, Tokens, dict[str, str]],
) -> None:
    settings, tokens, bases = hub
    docs = {app: httpx.get(f"{base}/openapi.json", timeout=30).json() for app, base in bases.items()}
    ops = [op for app, doc in docs.items() for op in operations(app, doc)]
    by_app = {app: {(op.method, op.path) for op in ops if op.app == app} for app in bases}
    assert {("POST", "/ingest/patchwork"), ("POST", "/fhir/{trust}/R4"), ("GET", "/metrics")} <= by_app["ingress"]
    assert {("GET", "/passport/{person}/fhir"), ("GET", "/availability/shifts"), ("GET", "/metrics")} <= by_app[
        "worker"
    ]
    for doc in docs.values():
        assert set(doc["x-rosterhub-roles"]) == {r.value for r in Role}
    subjects = itertools.count()
    audited: list[tuple[Op, str]] = []
    for op in ops:
        where = f"{op.app} {op.method} {op.path}"
        if (op.method, op.path) in PUBLIC[op.app]:
            assert op.spec["security"] == [] and not op.roles, where
            assert op.request(bases[op.app], {}).status_code not in (401, 403), where
            continue
        assert op.roles, f"{where} names no role"
        schemes = {name for req in op.spec["security"] for name in req}
        assert schemes <= {"bearer"} | {f"{v}_signature" for v in connectors()}, where
        anonymous = op.request(bases[op.app], {})
        assert anonymous.status_code == 401, (where, anonymous.status_code, anonymous.text[:200])
        assert anonymous.headers["www-authenticate"].startswith("Bearer"), where
        for role in sorted(set(Role) - op.roles):
            subject = f"matrix-{next(subjects)}"
            r = op.request(bases[op.app], tokens.bearer(role, OWN if role.trust_bound else None, subject=subject))
            assert r.status_code == 403, (where, role, r.status_code, r.text[:200])
            if "x-rosterhub-audit" in op.spec:
                audited.append((op, subject))
        right = min(op.roles)
        trust = OWN if right.trust_bound else None
        if op.trust_param is not None:
            r = op.request(bases[op.app], tokens.bearer(right, trust), trust=OTHER)
            assert r.status_code == 403, (where, "other trust", r.status_code, r.text[:200])
        admitted = op.request(bases[op.app], tokens.bearer(right, trust))
        assert admitted.status_code not in (401, 403), (where, right, admitted.status_code, admitted.text[:200])
    assert audited, "the worker's personal-data routes are in the matrix"
    assert settings.kafka_bootstrap_servers
    records = read_topic(
        settings.kafka_bootstrap_servers, TopicNames(settings.topic_prefix).audit, at_least=len(audited)
    )
    refusals = {(a["user"], a["status"], a["resource"]) for a in (json.loads(r.value) for r in records)}
    for op, subject in audited:
        assert (subject, 403, op.spec["x-rosterhub-audit"]) in refusals, f"{op.app} {op.method} {op.path}"


def test_docs_security_md_says_who_may_call_what_as_the_documents_do(
    hub: tuple[Settings, Tokens, dict[str, str]],
) -> None:
    _settings, _tokens, bases = hub
    docs = {app: httpx.get(f"{base}/openapi.json", timeout=30).json() for app, base in bases.items()}
    text = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    start, end = text.index("<!-- access-table"), text.index("<!-- /access-table -->")
    written = text[text.index("\n", start) + 1 : end]
    assert written == access_table(docs), "docs/security.md's route table is stale; it should read:\n" + access_table(
        docs
    )


def test_every_route_of_both_apps_is_in_its_openapi_document(hub: tuple[Settings, Tokens, dict[str, str]]) -> None:
    """A route left out of the document would escape the matrix above."""
    from rosterhub.auth.openapi import api_routes
    from rosterhub.streams.app import create_app

    settings, _tokens, _bases = hub
    assert settings.kafka_bootstrap_servers
    worker_settings = Settings(
        **{**settings.model_dump(), "worker_web_port": free_port(), "passport_policy_dir": Path(POLICIES)}
    )
    _app, ctx = create_app(worker_settings, access_from_settings(settings))
    for app in (create_api(settings, access_from_settings(settings)), ctx.web.api):
        routes = api_routes(app)
        assert len(routes) >= 8
        assert [r.path_format for r in routes if not r.include_in_schema] == []
