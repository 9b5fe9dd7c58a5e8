"""Named converter functions for mapping files (see docs/mapping.md, "Functions").

Importing this package registers every converter in :data:`REGISTRY`.
"""

from rosterhub.mapping.functions import identifiers, identity, times, values  # noqa: F401  (registration)
from rosterhub.mapping.functions.registry import REGISTRY, CodeList, ConversionError, Converter, RunContext, converter

__all__ = ["REGISTRY", "CodeList", "ConversionError", "Converter", "RunContext", "converter"]
