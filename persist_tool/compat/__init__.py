"""Compatibility checks: JSON Schema inclusion, entity diffs, and the findings they give.

Pure functions over ``persist_tool.ir`` values; they import only the IR, the rule catalog
and the standard library.

* ``compare_schemas``/``is_compatible``: JSON Schema vs JSON Schema, backward, forward or
  full, strict or lenient policy, with typed differences and JSON pointers;
* ``check_entity``/``check_history``/``check_schemas``: entity versions -> ``Finding``s of
  the rule catalog (``persist_tool.rules``), ``--transitive`` through ``check_history``.
"""

from persist_tool.compat.changes import Difference, Policy
from persist_tool.compat.entity import check_entity, check_history, check_schemas, has_failures
from persist_tool.compat.jsonschema import SchemaComparison, compare_schemas, is_compatible

__all__ = [
    "Difference",
    "Policy",
    "SchemaComparison",
    "check_entity",
    "check_history",
    "check_schemas",
    "compare_schemas",
    "has_failures",
    "is_compatible",
]
