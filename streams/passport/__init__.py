"""The credential passport: one passport per hub person, trust policies, clearance, VCs, FHIR export.

Pure modules (``policy``, ``state``, ``clearance``, ``expiry``, ``vc``, ``fhir_export``,
``audit``) hold the logic; ``agents`` and ``api`` are the thin faust layer. See
docs/passport.md.
"""
