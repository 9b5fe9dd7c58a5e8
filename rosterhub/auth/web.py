"""Access control for FastAPI apps (the ingress and the worker's web server): one dependency per route.

A route declares who may call it once, in its signature::

    caller: Caller = Security(Authenticate(trust_param="trust", audit="fhir"), scopes=[Role.TRUST_USER])

``scopes`` are the roles that may call it (any of them); they land in the operation's OpenAPI
``security`` (:mod:`rosterhub.auth.openapi`), which is what the access matrix test is generated
from. ``trust_param`` names the path or query parameter that must equal the caller's trust (403
otherwise); ``audit`` marks a read of personal data: the caller must state a purpose
(``X-Rosterhub-Purpose``) and the route writes an audit record (:func:`audit`) — a refusal of an
authenticated caller (wrong role, other trust, no purpose) is audited here. An unauthenticated
request is refused with 401 and leaves nothing behind: neither a record nor an audit entry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, ClassVar, NoReturn

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from rosterhub.auth.audit import PURPOSE_HEADER, AuditRecord
from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import InvalidToken, TokenVerifier

__all__ = [
    "BEARER",
    "Access",
    "AccessRefused",
    "Authenticate",
    "Renderer",
    "audit",
    "install_access",
    "refusal_headers",
]

BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An OAuth 2.0 access token (RFC 6750 bearer, JWT per RFC 9068) from one of the hub's accepted "
    "issuers. Its `roles` claim grants roles; the role names an operation lists in `security` are its "
    "alternatives: any one of them is enough. Trust-bound roles come with a `trust` claim (ODS code).",
    auto_error=False,
)

#: Renders a refusal in a router's own format (FHIR answers an OperationOutcome): (status, code, message).
Renderer = Callable[[int, str, str], Response]
AuditWrite = Callable[[AuditRecord], Awaitable[None]]


@dataclass
class Access:
    """What the dependency needs at request time, held on ``app.state.access`` (one per process)."""

    verifier: TokenVerifier
    served_by: str  # written into audit records: which process answered
    write_audit: AuditWrite | None = None  # None: the app serves no personal data


class AccessRefused(Exception):
    """Raised by the dependencies; rendered by the handler :func:`install_access` adds."""

    def __init__(self, status: int, code: str, message: str, *, challenge: str, render: Renderer | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.challenge, self.render = status, code, message, challenge, render


def refusal_headers(exc: AccessRefused) -> dict[str, str]:
    return {"WWW-Authenticate": exc.challenge}


async def _render(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccessRefused)
    if exc.render is not None:
        response = exc.render(exc.status, exc.code, exc.message)
    else:
        response = JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)
    response.headers.update(refusal_headers(exc))
    return response


def install_access(app: FastAPI, access: Access) -> None:
    """Give ``app`` its verifier and audit writer, the refusal handler, and the role-aware OpenAPI document."""
    from rosterhub.auth.openapi import install_openapi

    app.state.access = access
    app.add_exception_handler(AccessRefused, _render)
    install_openapi(app)


def _quoted(text: str) -> str:
    return text.replace("\\", "'").replace('"', "'")


def unauthenticated(message: str, *, invalid: bool, render: Renderer | None = None) -> AccessRefused:
    """401 with an RFC 6750 challenge (no error code when the request carried no credentials at all)."""
    challenge = 'Bearer realm="rosterhub"'
    if invalid:
        challenge += f', error="invalid_token", error_description="{_quoted(message)}"'
    return AccessRefused(401, "unauthenticated", message, challenge=challenge, render=render)


def forbidden(code: str, message: str, roles: frozenset[Role], render: Renderer | None = None) -> AccessRefused:
    challenge = f'Bearer realm="rosterhub", error="insufficient_scope", scope="{" ".join(sorted(roles))}"'
    return AccessRefused(403, code, message, challenge=challenge, render=render)


async def verify_bearer(
    request: Request, credentials: HTTPAuthorizationCredentials | None, render: Renderer | None = None
) -> Caller:
    access: Access = request.app.state.access
    if credentials is None or not credentials.credentials:
        raise unauthenticated("a bearer token is required (Authorization: Bearer ...)", invalid=False, render=render)
    try:
        return await access.verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        raise unauthenticated(exc.message, invalid=True, render=render) from None


@dataclass(frozen=True)
class Authenticate:
    """The route's caller, verified and allowed (see the module docstring)."""

    rosterhub_access: ClassVar[bool] = True  # found by rosterhub.auth.openapi in the route's dependencies
    trust_param: str | None = None
    audit: str | None = None
    person_param: str | None = "person"
    render: Renderer | None = None

    async def __call__(
        self,
        request: Request,
        security_scopes: SecurityScopes,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    ) -> Caller:
        caller = await verify_bearer(request, credentials, self.render)
        request.state.caller, request.state.audit_resource = caller, self.audit
        allowed = frozenset(Role(s) for s in security_scopes.scopes)
        if allowed and not caller.holds_any(allowed):
            granted = ", ".join(sorted(caller.roles))
            wants = f"this needs one of the roles {', '.join(sorted(allowed))}; the token grants {granted}"
            await self._refuse(request, forbidden("wrong_role", wants, allowed, self.render))
        if self.trust_param is not None:
            asked = request.path_params.get(self.trust_param) or request.query_params.get(self.trust_param)
            if asked and asked.strip().upper() != caller.trust:
                acts = f"the token acts for {caller.trust or 'no trust'}, not {asked}"
                await self._refuse(request, forbidden("other_trust", acts, allowed, self.render))
        if self.audit is not None and not (request.headers.get(PURPOSE_HEADER) or "").strip():
            refused = AccessRefused(
                400,
                "purpose_required",
                f"a read of personal data states its purpose in {PURPOSE_HEADER} (e.g. booking, subject-access)",
                challenge='Bearer realm="rosterhub"',
                render=self.render,
            )
            await self._refuse(request, refused)
        return caller

    async def _refuse(self, request: Request, refused: AccessRefused) -> NoReturn:
        """Audit the refusal of a read of personal data (who was refused, and why), then refuse."""
        if self.audit is not None:
            person = request.path_params.get(self.person_param or "", "")
            await audit(request, refused.status, f"refused: {refused.code}", person=person)
        raise refused


async def audit(request: Request, status: int, outcome: str, *, person: str) -> None:
    """Write the audit record of this request's read of ``person``'s data, and wait for the broker's ack.

    Who comes from the verified caller the route's :class:`Authenticate` left on the request; the
    resource is the one it declared."""
    access: Access = request.app.state.access
    caller: Caller = request.state.caller
    if access.write_audit is None:
        raise RuntimeError("this app has no audit writer, yet a route reads personal data")
    record = AuditRecord(
        person=person,
        trust=caller.trust or "",
        user=caller.subject,
        purpose=(request.headers.get(PURPOSE_HEADER) or "").strip(),
        resource=request.state.audit_resource or "",
        at=datetime.now(UTC),
        status=status,
        outcome=outcome,
        query=dict(request.query_params),
        served_by=access.served_by,
        issuer=caller.issuer,
        token_id=caller.token_id or "",
        roles=tuple(sorted(caller.roles)),
    )
    await access.write_audit(record)
