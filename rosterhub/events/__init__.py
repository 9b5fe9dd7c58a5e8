"""The canonical event model: pydantic models generated from ``schemas/avro``, code lists, examples.

The ``.avsc`` files are the wire contract; :mod:`rosterhub.events.models` is generated
from them (``rosterhub schemas gen``) and re-exported here, so callers write
``from rosterhub.events import ShiftPosted``. Build an event through its model (which
validates grades, CSTF subjects, aware instants and decimal places), then
``event.to_avro()`` for the codecs or ``event.to_envelope(source)`` for
:func:`rosterhub.envelope.encode_event`.
"""

from __future__ import annotations

from rosterhub.events.base import AvroEvent, AvroRecord, UtcInstant
from rosterhub.events.codes import CODE_LISTS, CodeList, check_code
from rosterhub.events.models import *  # noqa: F403  (the generated models, listed in their own __all__)
from rosterhub.events.models import __all__ as _models_all

__all__ = ["CODE_LISTS", "AvroEvent", "AvroRecord", "CodeList", "UtcInstant", "check_code", *_models_all]  # noqa: PLE0604
