"""The OpenAPI document says who may call each operation; the access matrix test is generated from it.

FastAPI already puts each operation's roles in its ``security`` (the ``scopes`` of its ``Security``
dependency). This adds what FastAPI cannot know:

* a requirement naming several roles becomes one alternative per role (OpenAPI lists *alternatives*
  as separate requirement objects; the roles inside one are all required, and the hub asks for any);
* ``x-rosterhub-trust-scope``: the parameter that must equal the caller's trust, from the route's own
  declaration (:class:`~rosterhub.auth.web.Authenticate` ``trust_param``);
* ``x-rosterhub-audit``: the audit resource of a route that reads personal data;
* ``security: []`` on an operation anyone may call, so "public" is said, not implied;
* ``x-rosterhub-roles``: every role with its meaning (:class:`~rosterhub.auth.roles.Role`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from rosterhub.auth.roles import Role

__all__ = ["access_declarations", "access_table", "api_routes", "install_openapi"]


def _walk(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _walk(dep)


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route of ``app``, those of included routers too (FastAPI >= 0.13x keeps an included router as one
    entry of ``app.routes``; its route contexts carry the effective path, methods and dependencies)."""
    from fastapi import routing

    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:  # older FastAPI: included routes are copied into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [ctx for ctx in iterate(app.routes) if isinstance(getattr(ctx, "original_route", ctx), APIRoute)]


def access_declarations(route: Any) -> list[Any]:
    """The access dependencies (objects with ``rosterhub_access``) a route declares, outermost first."""
    return [call for call in _walk(route.dependant) if getattr(call, "rosterhub_access", False)]


def decorate(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    schema["x-rosterhub-roles"] = {role.value: role.description for role in Role}
    paths = schema.get("paths", {})
    for route in api_routes(app):
        if not route.include_in_schema or route.path_format not in paths:
            continue
        declared = access_declarations(route)
        for method in route.methods:
            op = paths[route.path_format].get(method.lower())
            if op is None:
                continue
            alternatives: list[dict[str, list[str]]] = []
            for requirement in op.get("security", []):
                for name, roles in requirement.items():
                    alternatives += [{name: [r]} for r in roles] if len(roles) > 1 else [{name: roles}]
            op["security"] = alternatives
            named = {p["name"] for p in op.get("parameters", [])}
            for decl in declared:
                if getattr(decl, "trust_param", None) in named:  # e.g. /fhir/{trust}/R4, not /fhir/R4
                    op["x-rosterhub-trust-scope"] = decl.trust_param
                if getattr(decl, "audit", None):
                    op["x-rosterhub-audit"] = decl.audit
    return schema


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = decorate(generate(), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend its schema


def access_table(documents: dict[str, dict[str, Any]]) -> str:
    """Who may call what, as the Markdown table docs/security.md carries (checked against the served documents by
    tests/integration/test_access_matrix.py): one row per operation of each named document."""
    rows = []
    for app, doc in sorted(documents.items()):
        for path, item in sorted(doc.get("paths", {}).items()):
            for method, op in sorted(item.items()):
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                who = sorted({f"`{r}`" for req in op.get("security", []) for rs in req.values() for r in rs})
                signed = sorted(
                    {
                        f"{n.removesuffix('_signature')} signature"
                        for req in op.get("security", [])
                        for n in req
                        if n.endswith("_signature")
                    }
                )
                anyone = "anyone" if not op.get("security") else ", ".join(who + (["or " + s for s in signed]))
                scope = op.get("x-rosterhub-trust-scope")
                rows.append(
                    f"| {app} | {method.upper()} | `{path}` | {anyone} | {f'`{scope}`' if scope else ''} "
                    f"| {op.get('x-rosterhub-audit', '')} |"
                )
    head = [
        "| app | method | path | who may call | must be the caller's trust | audited as |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    return "\n".join([*head, *rows]) + "\n"
