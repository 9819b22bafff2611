"""What a JSON Schema comparison reports: differences, their change types and the policy.

Change types follow the names the Confluent schema registry uses (``MAX_LENGTH_DECREASED``,
``PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL``, ...) so that people who know
that tool read our reports without a glossary. Whether a difference breaks compatibility is
*not* looked up from its name: the checker decides it from the constraint sets, and the name
only describes what changed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CHANGE_TEXT",
    "Difference",
    "Policy",
    "child",
    "describe",
    "has_breaking",
    "is_proven",
]


class Policy(enum.Enum):
    """How open content models are read.

    * ``strict`` (the default): plain JSON Schema semantics. An object without
      ``additionalProperties: false`` may carry any undeclared property, so declaring a
      new property with a type, or closing the model, breaks readers of old documents.
    * ``lenient``: assume documents carry only the properties their schema declares (the
      writer never adds undeclared ones) and readers ignore unknown properties, so
      ``additionalProperties`` changes and properties added to or removed from open models
      are accepted. Such differences are reported as *assumed* compatible.
    """

    STRICT = "strict"
    LENIENT = "lenient"


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference between an old and a new JSON Schema.

    ``pointer`` is a JSON pointer into the *new* schema where the keyword sits (into the
    old one for removed keywords), ``#``-prefixed like the registry's reports. ``breaking``
    tells whether it lets the new schema reject a value the old one accepted (backward) —
    the verdict. ``assumed`` marks a difference counted compatible by convention or by the
    lenient policy rather than proven: a report should still show it.
    """

    type: str
    pointer: str
    breaking: bool
    detail: str = ""
    assumed: bool = False

    def render(self) -> str:
        """Return ``TYPE #/pointer: detail`` for messages and test output."""
        text = f"{self.type} {self.pointer}"
        return f"{text}: {self.detail}" if self.detail else text


CHANGE_TEXT: dict[str, str] = {
    "TYPE_CHANGED": "type changed",
    "TYPE_NARROWED": "type narrowed",
    "TYPE_EXTENDED": "type extended",
    "SCHEMA_NARROWED": "schema no longer accepts anything",
    "ENUM_ARRAY_NARROWED": "allowed values narrowed",
    "ENUM_ARRAY_CHANGED": "allowed values changed",
    "ENUM_ARRAY_EXTENDED": "allowed values extended",
    "MIN_LENGTH_ADDED": "minLength added",
    "MIN_LENGTH_INCREASED": "minLength increased",
    "MIN_LENGTH_DECREASED": "minLength decreased",
    "MIN_LENGTH_REMOVED": "minLength removed",
    "MAX_LENGTH_ADDED": "maxLength added",
    "MAX_LENGTH_DECREASED": "maxLength decreased",
    "MAX_LENGTH_INCREASED": "maxLength increased",
    "MAX_LENGTH_REMOVED": "maxLength removed",
    "PATTERN_ADDED": "pattern added",
    "PATTERN_CHANGED": "pattern changed",
    "PATTERN_REMOVED": "pattern removed",
    "FORMAT_ADDED": "format added",
    "FORMAT_CHANGED": "format changed",
    "MINIMUM_ADDED": "lower bound added",
    "MINIMUM_INCREASED": "lower bound increased",
    "MINIMUM_DECREASED": "lower bound decreased",
    "MINIMUM_REMOVED": "lower bound removed",
    "MAXIMUM_ADDED": "upper bound added",
    "MAXIMUM_DECREASED": "upper bound decreased",
    "MAXIMUM_INCREASED": "upper bound increased",
    "MAXIMUM_REMOVED": "upper bound removed",
    "MULTIPLE_OF_ADDED": "multipleOf added",
    "MULTIPLE_OF_CHANGED": "multipleOf changed",
    "MULTIPLE_OF_REDUCED": "multipleOf reduced",
    "MULTIPLE_OF_REMOVED": "multipleOf removed",
    "MIN_ITEMS_ADDED": "minItems added",
    "MIN_ITEMS_INCREASED": "minItems increased",
    "MIN_ITEMS_DECREASED": "minItems decreased",
    "MIN_ITEMS_REMOVED": "minItems removed",
    "MAX_ITEMS_ADDED": "maxItems added",
    "MAX_ITEMS_DECREASED": "maxItems decreased",
    "MAX_ITEMS_INCREASED": "maxItems increased",
    "MAX_ITEMS_REMOVED": "maxItems removed",
    "UNIQUE_ITEMS_ADDED": "uniqueItems added",
    "UNIQUE_ITEMS_REMOVED": "uniqueItems removed",
    "CONTAINS_CHANGED": "contains changed",
    "MIN_PROPERTIES_ADDED": "minProperties added",
    "MIN_PROPERTIES_INCREASED": "minProperties increased",
    "MIN_PROPERTIES_DECREASED": "minProperties decreased",
    "MIN_PROPERTIES_REMOVED": "minProperties removed",
    "MAX_PROPERTIES_ADDED": "maxProperties added",
    "MAX_PROPERTIES_DECREASED": "maxProperties decreased",
    "MAX_PROPERTIES_INCREASED": "maxProperties increased",
    "MAX_PROPERTIES_REMOVED": "maxProperties removed",
    "PROPERTY_NAMES_CHANGED": "propertyNames narrowed",
    "REQUIRED_ATTRIBUTE_ADDED": "property made required",
    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED": "property with a default made required",
    "REQUIRED_ATTRIBUTE_REMOVED": "property no longer required",
    "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL": "required property added",
    "REQUIRED_UNDECLARED_PROPERTY_ADDED": "undeclared property name made required",
    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL": "property added to an open object",
    "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL": "property added",
    "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "added property may clash",
    "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL": "property removed from a closed object",
    "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "removed property now rejected",
    "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL": "property removed from an open object",
    "PATTERN_PROPERTY_NARROWED": "patternProperties narrowed",
    "ADDITIONAL_PROPERTIES_NARROWED": "additionalProperties narrowed",
    "ADDITIONAL_PROPERTIES_REMOVED": "additionalProperties closed",
    "DEPENDENCY_ARRAY_ADDED": "property dependency added",
    "DEPENDENCY_ARRAY_EXTENDED": "property dependency extended",
    "DEPENDENCY_SCHEMA_ADDED": "schema dependency added",
    "DEPENDENCY_SCHEMA_CHANGED": "schema dependency narrowed",
    "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "tuple item added, may clash",
    "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": "removed item now rejected",
    "ITEM_CHANGED": "tuple item narrowed",
    "ADDITIONAL_ITEMS_NARROWED": "additionalItems narrowed",
    "ADDITIONAL_ITEMS_REMOVED": "additionalItems closed",
    "SCHEMA_ADDED": "item schema added",
    "SUM_TYPE_NARROWED": "alternatives narrowed",
    "SUM_TYPE_EXTENDED": "alternatives extended",
    "ONE_OF_OVERLAP": "oneOf alternatives may both match an old value",
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED": "combined sub-schemas changed",
    "PRODUCT_TYPE_EXTENDED": "allOf constraint added",
    "NOT_TYPE_EXTENDED": "not excludes more",
    "CONDITIONAL_CHANGED": "if/then/else narrowed",
    "REFERENCE_UNRESOLVED": "reference cannot be resolved",
    "REFERENCE_EXTERNAL": "reference to another document",
    "KEYWORD_NOT_UNDERSTOOD": "keyword the checker cannot compare",
}
"""A short human phrase per change type, for messages."""


def describe(change_type: str) -> str:
    """Return the human phrase for ``change_type`` (the type itself when unknown)."""
    return CHANGE_TEXT.get(change_type, change_type.lower().replace("_", " "))


def child(pointer: str, *tokens: str | int) -> str:
    """Return ``pointer`` extended by ``tokens`` (JSON-pointer escaped)."""
    out = pointer.rstrip("/")
    for token in tokens:
        out += "/" + str(token).replace("~", "~0").replace("/", "~1")
    return out


def has_breaking(diffs: Sequence[Difference]) -> bool:
    """Tell whether any difference breaks compatibility."""
    return any(d.breaking for d in diffs)


def is_proven(diffs: Sequence[Difference]) -> bool:
    """Tell whether the differences prove inclusion: none breaks and none is only assumed."""
    return not any(d.breaking or d.assumed for d in diffs)
