"""Map a (merged) JSON Schema to a column type, its constraints and its nullability.

Plain values get column types: strings by ``format`` (``date``, ``date-time``, ``time``,
``uuid``, ``byte``/``contentEncoding: base64``, ``decimal``; ``email``, ``uri`` and other
formats stay strings that remember the format), integers (``format: int16/int32/int64``
choose the width, 64 bits otherwise), numbers, booleans, enums of strings or of integers,
``const`` values, and arrays of such values. Everything else — nested objects, ``oneOf``/
``anyOf`` unions, tuples, ``additionalProperties``/``patternProperties`` maps, arrays of
objects, conditionals — is a ``json`` type that keeps its self-contained sub-schema
(``jsonschema_bundle``) for validation at run time. ``x-persist-type`` (the IR type's JSON
form, e.g. ``{"kind": "decimal", "precision": 10, "scale": 2}``) overrides the mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from persist_tool import ir, naming
from persist_tool.readers.jsonschema_bundle import Bundler
from persist_tool.readers.jsonschema_merge import View, flatten, merge, persist_of
from persist_tool.readers.jsonschema_refs import SchemaNode

__all__ = ["EnumNames", "Mapped", "map_schema"]

_STRING_FORMATS: dict[str, Callable[[], ir.FieldType]] = {
    "date": ir.DateType,
    "date-time": lambda: ir.DateTimeType(tz=True),
    "time": ir.TimeType,
    "uuid": ir.UuidType,
    "byte": ir.BytesType,
    "binary": ir.BytesType,
}
_INTEGER_BITS = {
    "int8": 16,
    "int16": 16,
    "int32": 32,
    "int64": 64,
    "uint8": 16,
    "uint16": 32,
    "uint32": 64,
}
_FLOAT_BITS = {"float": 32, "double": 64}


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a property's schema maps to."""

    type: ir.FieldType
    constraints: ir.Constraints
    nullable: bool
    view: View


class EnumNames:
    """Give each enum of an entity its own class name, reusing one name per definition."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.values: dict[str, tuple[str | int, ...]] = {}

    def name(self, wanted: list[str], values: tuple[str | int, ...]) -> str:
        """Return the first free (or same-valued) name of ``wanted``, else one made free."""
        for candidate in wanted:
            if not candidate:
                continue
            if self.values.get(candidate) == values:
                return candidate
            if candidate not in self.values and candidate not in self.taken:
                self.values[candidate] = values
                return candidate
        name = wanted[-1] or "Enum"
        while name in self.values or name in self.taken:
            name += "_"
        self.values[name] = values
        return name


def map_schema(nodes: list[SchemaNode], scope: str, enums: EnumNames) -> Mapped:
    """Map the conjunction ``nodes`` of a value's schema; ``scope`` names inline enums."""
    parts = [part for node in nodes for part in flatten(node)]
    view = merge(parts)
    view.persist = persist_of(nodes, through_values=True)
    nullable = bool(
        (view.types is not None and "null" in view.types)
        or view.openapi_nullable
        or (view.enum is not None and None in view.enum)
        or (view.const is not None and view.const[0] is None)
    )
    unwrapped = _nullable_union(view, scope, enums)
    if unwrapped is not None:
        return unwrapped
    column = None if view.never else _column(view, scope, enums)
    if column is None:
        return Mapped(
            ir.JsonType(schema=Bundler().bundle_all(nodes)), ir.Constraints(), nullable, view
        )
    field_type, constraints = column
    return Mapped(field_type, constraints, nullable, view)


def _nullable_union(view: View, scope: str, enums: EnumNames) -> Mapped | None:
    """Map ``anyOf``/``oneOf`` of a schema and ``{"type": "null"}`` as that schema, nullable."""
    if len(view.residual) != 1 or view.types is not None or view.enum is not None:
        return None
    node, keywords = view.residual[0]
    if len(keywords) != 1 or keywords[0] not in ("anyOf", "oneOf") or view.has_object_keywords:
        return None
    branches = node.schema[keywords[0]]
    if not isinstance(branches, list) or len(branches) != 2:
        return None
    nulls = [i for i, b in enumerate(branches) if b == {"type": "null"}]
    if len(nulls) != 1:
        return None
    other = node.child(keywords[0], 1 - nulls[0])
    inner = map_schema([other], scope, enums)
    annotated = View(
        parts=view.parts,
        annotations={**inner.view.annotations, **view.annotations},
        persist=view.persist,
    )
    return Mapped(inner.type, inner.constraints, True, annotated)


def _column(view: View, scope: str, enums: EnumNames) -> tuple[ir.FieldType, ir.Constraints] | None:
    if view.residual or view.has_object_keywords:
        return None
    types = None if view.types is None else view.types - {"null"}
    if view.enum is not None:
        return _enum(view, types, scope, enums)
    if view.const is not None:
        return _const(view, types)
    if types is None or not types:
        return None
    if types == {"integer", "number"}:
        types = {"number"}
    if len(types) != 1:
        return None
    return _BY_TYPE[next(iter(types))](view, scope, enums)


def _enum(
    view: View, types: set[str] | None, scope: str, enums: EnumNames
) -> tuple[ir.FieldType, ir.Constraints] | None:
    values = [v for v in view.enum or () if v is not None]
    if not values:
        return None
    texts = all(isinstance(v, str) for v in values)
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    fits = types is None or (texts and "string" in types) or (whole and "integer" in types)
    if not fits or not (texts or whole):
        return None
    ordered = tuple(dict.fromkeys(values))
    wanted = [scope]
    node = view.enum_node
    if (
        node is not None
        and node.pointer.count("/") == 2
        and node.pointer.split("/")[1] in ("definitions", "$defs")
    ):
        definition = node.pointer.split("/")[2].replace("~1", "/").replace("~0", "~")
        wanted = [naming.pascal_case(definition), scope]
    return ir.EnumType(name=enums.name(wanted, ordered), values=ordered), ir.Constraints()


def _const(view: View, types: set[str] | None) -> tuple[ir.FieldType, ir.Constraints] | None:
    value = (view.const or (None,))[0]
    kinds: dict[type, tuple[str, ir.FieldType]] = {
        str: ("string", ir.StringType()),
        bool: ("boolean", ir.BooleanType()),
        int: ("integer", ir.IntegerType()),
        float: ("number", ir.FloatType()),
    }
    kind = kinds.get(type(value))
    if kind is None or (types is not None and kind[0] not in types):
        return None
    return kind[1], ir.Constraints(const=value, has_const=True)


def _string(view: View, scope: str, enums: EnumNames) -> tuple[ir.FieldType, ir.Constraints]:
    strings = view.strings
    fmt = strings.get("format")
    field_type: ir.FieldType = ir.StringType(format=fmt if isinstance(fmt, str) else None)
    if fmt == "decimal":  # decimals travel as strings; their bounds are numeric
        return _numeric(view, ir.DecimalType())
    if isinstance(fmt, str) and fmt in _STRING_FORMATS:
        field_type = _STRING_FORMATS[fmt]()
    elif strings.get("contentEncoding") == "base64":
        field_type = ir.BytesType()
    return field_type, ir.Constraints(
        min_length=strings.get("minLength"),
        max_length=strings.get("maxLength"),
        pattern=strings.get("pattern"),
    )


def _numeric(view: View, field_type: ir.FieldType) -> tuple[ir.FieldType, ir.Constraints]:
    n = view.numbers
    return field_type, ir.Constraints(
        minimum=n.get("minimum"),
        maximum=n.get("maximum"),
        exclusive_minimum=n.get("exclusiveMinimum"),
        exclusive_maximum=n.get("exclusiveMaximum"),
        multiple_of=n.get("multipleOf"),
    )


def _integer(view: View, scope: str, enums: EnumNames) -> tuple[ir.FieldType, ir.Constraints]:
    fmt = view.strings.get("format")
    return _numeric(view, ir.IntegerType(bits=_INTEGER_BITS.get(str(fmt), 64)))


def _number(view: View, scope: str, enums: EnumNames) -> tuple[ir.FieldType, ir.Constraints]:
    fmt = str(view.strings.get("format"))
    if fmt == "decimal":
        return _numeric(view, ir.DecimalType())
    return _numeric(view, ir.FloatType(bits=_FLOAT_BITS.get(fmt, 64)))


def _boolean(view: View, scope: str, enums: EnumNames) -> tuple[ir.FieldType, ir.Constraints]:
    return ir.BooleanType(), ir.Constraints()


def _array(view: View, scope: str, enums: EnumNames) -> tuple[ir.FieldType, ir.Constraints] | None:
    if not view.items:
        return None
    item = map_schema(view.items, scope + "Item", enums)
    if item.nullable or isinstance(item.type, ir.JsonType | ir.ArrayType):
        return None
    a = view.arrays
    constraints = ir.Constraints(
        min_items=a.get("minItems"),
        max_items=a.get("maxItems"),
        unique_items=bool(a.get("uniqueItems")),
    )
    item_constraints = None if item.constraints.is_empty() else item.constraints
    return ir.ArrayType(item=item.type, item_constraints=item_constraints), constraints


def _not_a_column(view: View, scope: str, enums: EnumNames) -> None:
    return None


_BY_TYPE: dict[
    str, Callable[[View, str, EnumNames], tuple[ir.FieldType, ir.Constraints] | None]
] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "array": _array,
    "object": _not_a_column,
    "null": _not_a_column,
}
