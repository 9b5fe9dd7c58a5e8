"""Broker-free harness for the FHIR endpoint: an in-memory sink in place of Kafka.

No tests here; imported by the FHIR unit and conformance tests.
Integration tests (tests/integration/connectors/test_fhir.py) run the same code on the real broker.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, install_access
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.kinds.fhir.endpoint import fhir_router
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.state import ConnectorState
from rosterhub.envelope import KafkaRecord, decode_record
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.settings import Settings
from tests.auth_support import Tokens


class MemorySink:
    """Keeps what would have been sent; offsets count per topic."""

    def __init__(self) -> None:
        self.records: list[KafkaRecord] = []

    def send(self, records: Iterable[KafkaRecord]) -> list[tuple[int, int]]:
        out = []
        for r in records:
            out.append((0, sum(1 for x in self.records if x.topic == r.topic)))
            self.records.append(r)
        return out

    def on(self, topic: str) -> list[KafkaRecord]:
        return [r for r in self.records if r.topic == topic]


class Harness:
    """The FHIR router on an app with the hub's access control; ``client`` sends as ``trust``'s integration."""

    def __init__(self, tmp: Path, trust: str = "RXX", **settings: object) -> None:
        catalogue = default_catalogue()
        self.codec = SingleObjectCodec(catalogue)
        self.names = TopicNames("")
        self.sink = MemorySink()
        self.state = ConnectorState(tmp / "state.sqlite")
        self.ctx = IngestContext(
            sink=self.sink,
            encoder=Encoder(self.codec, self.names, catalogue),  # type: ignore[arg-type]
            names=self.names,
            state=self.state,
        )
        self.tokens = Tokens(tmp / "issuer")
        self.settings = Settings(state_dir=tmp, auth_issuers=[self.tokens.issuer.accepted()], **settings)  # type: ignore[arg-type]
        app = FastAPI()
        install_access(app, Access(TokenVerifier.from_settings(self.settings), "test"))
        app.include_router(fhir_router(self.settings, self.ctx))
        self.client = TestClient(app, headers=self.as_trust(trust))

    def as_trust(self, trust: str) -> dict[str, str]:
        """Headers of ``trust``'s integration (role trust_integration)."""
        return self.tokens.bearer(Role.TRUST_INTEGRATION, trust)

    def events(self, domain: str) -> list:
        return [decode_record(r.value, r.headers, self.codec) for r in self.sink.on(self.names.events(domain))]

    def all_events(self) -> list:
        out = []
        for domain in ("worker", "shift", "credential"):
            out += self.events(domain)
        return out
