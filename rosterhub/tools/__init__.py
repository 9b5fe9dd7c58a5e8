"""Checkers nobody on the project wrote, fetched from package registries and cached like Kafka's jars.

* :mod:`.hapi`: HAPI FHIR's validator (``ca.uhn.hapi.fhir`` jars from Maven Central), run offline on
  the R4 core profiles, for every FHIR resource the hub emits;
* :mod:`.asyncapi`: the official AsyncAPI parser (``@asyncapi/parser`` from npm) for
  ``docs/asyncapi.yaml``.

``rosterhub tools fetch`` (run by ``./dev test``) installs both into ``cache_dir``; the tests call
the same functions, so a check whose tool cannot be had fails with the reason instead of skipping.
"""
