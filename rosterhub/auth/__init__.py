"""Who may call what: bearer tokens, roles, the caller, the local issuer and the FastAPI dependencies.

Modules: :mod:`.roles` (the roles, declared once), :mod:`.caller`, :mod:`.tokens` (verification
against the configured issuers), :mod:`.issuer` (the local issuer), :mod:`.web` (route
dependencies and audit), :mod:`.push` (vendor pushes: token or signature), :mod:`.openapi`.
docs/security.md says who may call what.
"""
