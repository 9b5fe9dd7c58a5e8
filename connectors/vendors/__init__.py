"""One module per vendor, each exposing ``SPEC``; found by ``rosterhub.connectors.registry``."""
