import random
from datetime import UTC, datetime

import pytest

from rosterhub.connectors.outbound.delivery import backoff_s, retriable_status
from rosterhub.connectors.signing import sign, verify
from rosterhub.errors import SignatureError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))


def test_valid_signature_passes() -> None:
    body = b'{"event":"shift.created"}'
    verify(b"s3cret", TS, sign(b"s3cret", TS, body), body, now=NOW, tolerance_s=300)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "message"),
    [
        (TS, None, b"{}", "missing"),
        (TS, "00" * 32, b"{}", "does not match"),
        (str(int(NOW.timestamp()) - 301), "sig", b"{}", "away from now"),
        ("yesterday", "sig", b"{}", "Unix seconds"),
    ],
)
def test_bad_signatures_are_refused(timestamp: str, signature: str | None, body: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(b"s3cret", timestamp, signature, body, now=NOW, tolerance_s=300)


def test_tampered_body_is_refused() -> None:
    sig = sign(b"s3cret", TS, b'{"rate": "20.00"}')
    with pytest.raises(SignatureError):
        verify(b"s3cret", TS, sig, b'{"rate": "90.00"}', now=NOW, tolerance_s=300)


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)]
)
def test_retriable_statuses(status: int, retry: bool) -> None:
    assert retriable_status(status) is retry


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    caps = [min(30.0, 0.5 * 2 ** (n - 1)) for n in range(1, 12)]
    for attempt, cap in enumerate(caps, start=1):
        assert 0 <= backoff_s(attempt, rng=rng) <= cap
