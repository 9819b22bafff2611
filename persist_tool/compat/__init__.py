"""Compatibility checks: JSON Schema inclusion, entity diffs, and the findings they give.

Pure functions over ``persist_tool.ir`` values; they import only the IR, the rule catalog
and the standard library.
"""

from persist_tool.compat.changes import Difference, Policy
from persist_tool.compat.jsonschema import (
    SchemaComparison,
    compare_schemas,
    is_compatible,
)

__all__ = [
    "Difference",
    "Policy",
    "SchemaComparison",
    "compare_schemas",
    "is_compatible",
]
