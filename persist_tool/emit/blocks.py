"""Build the code blocks of an entity module from its plan.

Each function returns finished, black-laid-out source text for one part of the module
(a class, a function, a constant); the template only puts them in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from persist_tool import ir
from persist_tool.emit import exact
from persist_tool.emit import types as ty
from persist_tool.emit.model import CommandPlan, EntityPlan, EnumPlan, FieldPlan
from persist_tool.emit.pycode import (
    LINE_LENGTH,
    assign,
    call,
    def_line,
    dict_item,
    docstring,
    if_all,
    join_lines,
    py_literal,
    py_str,
    wrapped_literal,
)

__all__ = [
    "command_class",
    "draft_class",
    "entity_class",
    "enum_class",
    "patch_class",
    "schema_constants",
]


def _attr_doc(f: ir.Field, level: int) -> str | None:
    return docstring(f.doc, level)


def _with_unset(annotation: str) -> str:
    """Add ``Unset`` to an annotation, keeping ``None`` last as ruff wants."""
    if annotation.endswith(" | None"):
        return annotation[: -len(" | None")] + " | Unset | None"
    return annotation + " | Unset"


def _field_annotation(fp: FieldPlan, plan: EntityPlan) -> str:
    text = ty.annotation(fp.field.type, plan.names)
    if fp.field.nullable:
        text += " | None"
    return text


def enum_class(e: EnumPlan) -> str:
    """Return an enum class definition."""
    body = [f"    {member} = {py_literal(value)}" for member, value in e.members]
    return join_lines(f"class {e.name}({e.base}):", docstring(e.doc, 1), "", *body)


def _schema_sources(plan: EntityPlan) -> dict[str, Any]:
    """Return constant name -> JSON sub-schema for every ``json`` field and parameter."""
    out: dict[str, Any] = {}
    every = list(plan.fields)
    for c in plan.commands:
        every.extend(c.params)
    for fp in every:
        t = fp.field.type
        while isinstance(t, ir.ArrayType):
            t = t.item
        if not isinstance(t, ir.JsonType | ir.ObjectType) or fp.schema_const in out:
            continue
        if isinstance(t, ir.JsonType) and not t.schema:
            continue
        out[fp.schema_const] = dict(t.schema) if isinstance(t, ir.JsonType) else {"type": "object"}
    return out


def schema_constant_names(plan: EntityPlan) -> list[str]:
    """Return the names of the module's JSON sub-schema constants."""
    return list(_schema_sources(plan))


def schema_constants(plan: EntityPlan) -> list[str]:
    """Return the module constants holding JSON sub-schemas of ``json`` fields."""
    out: list[str] = []
    for name, schema in _schema_sources(plan).items():
        head = f"{name}: Final[Mapping[str, Any]] = "
        out.append(head + py_literal(schema, 0, len(head)))
    if plan.entity_schema_const is not None:
        head = f"{plan.entity_schema_const}: Final[Mapping[str, Any]] = "
        out.append(head + py_literal(dict(plan.entity.extra["json_schema"]), 0, len(head)))
    return out


def entity_class(plan: EntityPlan) -> str:
    """Return the entity dataclass (for sources other than Python classes)."""
    e = plan.entity
    body: list[str] = []
    for fp in plan.fields:
        body.append(f"    {fp.name}: {_field_annotation(fp, plan)}")
        doc = _attr_doc(fp.field, 1)
        if doc:
            body.append(doc)
    return join_lines(
        "@dataclass(slots=True, kw_only=True)",
        f"class {e.name}:",
        docstring(e.doc or f"A ``{e.name}`` stored in table ``{e.table}``.", 1),
        "",
        *body,
    )


_FACTORY_LAMBDA = "default_factory=lambda: "


def _annotated(name: str, annotation: str, default: str | None, literal: Any = None) -> str:
    """Return a class-level ``name: annotation = default`` line, split as black would.

    ``literal`` is the list or dict a ``default_factory`` lambda returns: laid out for the
    line the argument takes when the call is split.
    """
    if default is None:
        return f"    {name}: {annotation}"
    if default.startswith("field("):
        argument = default[len("field(") : -1]
        if literal is not None and argument.startswith(_FACTORY_LAMBDA):
            argument = _FACTORY_LAMBDA + py_literal(literal, 2, len(_FACTORY_LAMBDA))
        return call(f"{name}: {annotation} = field", [argument], 1)
    return assign(f"{name}: {annotation}", default, 1)


def _container_default(fp: FieldPlan) -> Any:
    """Return the list or dict a field defaults to (made by a factory), else ``None``."""
    d = fp.field.default
    if d is not None and d.kind == ir.Default.LITERAL and isinstance(d.value, (dict, list)):
        return d.value
    return None


def _default_expr(fp: FieldPlan, plan: EntityPlan) -> str | None:
    """Return the dataclass default (``= ...``) of a draft field, or ``None``."""
    f = fp.field
    d = f.default
    if d is None:
        return "None" if f.nullable else None
    if d.kind == ir.Default.FACTORY:
        factory = _FACTORIES.get((str(d.value), _tz(f)))
        if factory is None:
            return "None" if f.nullable else None
        return f"field(default_factory={factory})"
    if d.kind == ir.Default.LITERAL:
        if d.value is None:
            return "None"
        if isinstance(d.value, (dict, list)):
            literal = py_literal(d.value)
            return f"field({_FACTORY_LAMBDA}{literal})"
        expr = ty.literal_default(f, plan.names)
        # A value built by a call goes through field(): it is made once either way, and
        # ruff (RUF009) asks for it to be spelled so.
        return f"field(default={expr})" if isinstance(expr, ty.BuiltValue) else expr
    return "None" if f.nullable else None


def _tz(f: ir.Field) -> bool:
    return isinstance(f.type, ir.DateTimeType) and f.type.tz


_FACTORIES: dict[tuple[str, bool], str] = {
    ("now", False): "_p.now",
    ("now", True): "_p.now_utc",
    ("today", False): "date.today",
    ("uuid4", False): "uuid4",
    ("list", False): "list",
    ("dict", False): "dict",
}


def uses_field_default(plan: EntityPlan) -> bool:
    """Tell whether a draft field default needs ``dataclasses.field``."""
    return any((_default_expr(fp, plan) or "").startswith("field(") for fp in plan.draft_fields)


def factory_imports(plan: EntityPlan) -> set[tuple[str, str]]:
    """Return imports the draft's default factories and its payload fast path need."""
    out: set[tuple[str, str]] = set()
    for fp in plan.draft_fields:
        expr = _default_expr(fp, plan) or ""
        if "uuid4" in expr:
            out.add(("uuid", "uuid4"))
        if "date.today" in expr:
            out.add(("datetime", "date"))
    return out | exact.imports(_fast_fields(plan) or [])


# The payload readers' own locals, and the builtins and modules their fast paths call: a
# field of one of these names gets a local variable with a trailing underscore.
_HELPER_LOCALS = frozenset({"payload", "data", "issues", "cls", "exact", "type", "len", "math"})


def local(fp: FieldPlan) -> str:
    """Return the local variable holding a field's value inside a payload reader."""
    return fp.name + "_" if fp.name in _HELPER_LOCALS else fp.name


def _reader_call(
    fp: FieldPlan, plan: EntityPlan, value: str, path: str, level: int, head: str
) -> str:
    fn, extra = ty.read_expr(
        fp.field.type, value, path, fp.field.constraints, plan.names, fp.schema_const
    )
    return call(head + fn, [value, path, "issues", *extra], level)


def _payload_reader(
    fps: Sequence[FieldPlan],
    plan: EntityPlan,
    *,
    cls_name: str,
    mode: str,
    base_path: str = "",
    entity_label: str,
) -> list[str]:
    """Return the body lines of a ``from_payload``: read every field, then build or raise.

    ``mode`` is ``draft`` (required fields must be present, defaults fill the rest),
    ``patch`` (every field optional, absent means ``UNSET``) or ``record`` (every field
    present).
    """
    lines = [
        "        issues: list[Issue] = []",
        '        data = _p.expect_object(payload, "", issues)',
    ]
    rest = rest_field(fps) if mode != "patch" else None
    named = [fp for fp in fps if fp is not rest]
    # Laid out for the exploded call (level 3); when the whole call fits on one line, so
    # does this argument.
    known = (
        wrapped_literal("frozenset", sorted(fp.key for fp in named), 3, ",")
        if named
        else "frozenset()"
    )
    if rest is None:
        lines.append(call("_p.check_keys", ["data", known, '""', "issues"], 2))
    else:
        # Members beyond the named properties are kept (the schema allows them) and
        # checked against the schema of what is allowed, at their own pointers.
        lines.append(call(f"{local(rest)} = _p.rest_of", ["data", known], 2))
        lines.append(call("_p.read_json", [local(rest), '""', "issues", rest.schema_const], 2))
    if mode != "patch" and plan.entity_schema_const is not None:
        lines.append(call("_p.read_json", ["data", '""', "issues", plan.entity_schema_const], 2))
    for fp in named:
        key = py_str(fp.key)
        path = py_str(base_path + "/" + fp.key.replace("~", "~0").replace("/", "~1"))
        f = fp.field
        name = local(fp)
        optional = mode == "patch" or (mode == "draft" and not f.required)
        if mode == "record":
            optional = f.nullable
        ann = _field_annotation(fp, plan)
        if not optional:
            lines.append(
                _reader_call(fp, plan, f"data.get({key}, _p.MISSING)", path, 2, f"{name} = ")
            )
            continue
        if mode == "patch":
            initial = "UNSET"
            ann = _with_unset(ann)
        elif mode == "record":
            initial = "None"
        else:
            initial = _default_value_expr(fp, plan)
        literal = _container_default(fp) if mode == "draft" else None
        if literal is not None:
            # Laid out for this line: exploded, as black would, when it does not fit (the
            # line ends with the literal: no comma follows, which py_literal leaves room for).
            target = f"{name}: {ann} = "
            lines.append(f"        {target}{py_literal(literal, 2, len(target) - 1)}")
        else:
            lines.append(f"        {name}: {ann} = {initial}")
        if f.nullable and initial == "None":
            # Absent and null both mean None: one test covers both.
            lines.append(f"        if data.get({key}) is not None:")
            lines.append(_reader_call(fp, plan, f"data[{key}]", path, 3, f"{name} = "))
        elif f.nullable:
            lines.append(if_all([f"{key} in data", f"data[{key}] is None"], 2))
            lines.append(f"            {name} = None")
            lines.append(f"        elif {key} in data:")
            lines.append(_reader_call(fp, plan, f"data[{key}]", path, 3, f"{name} = "))
        else:
            lines.append(f"        if {key} in data:")
            lines.append(_reader_call(fp, plan, f"data[{key}]", path, 3, f"{name} = "))
    lines.append("        if issues:")
    lines.append(call("raise ValidationError", ["issues", f"entity={py_str(entity_label)}"], 3))
    lines.append(call(f"return {cls_name}", [f"{fp.name}={local(fp)}" for fp in fps], 2))
    return lines


def _default_value_expr(fp: FieldPlan, plan: EntityPlan) -> str:
    """Return an expression for the value a missing optional draft field takes."""
    expr = _default_expr(fp, plan)
    if expr is None:
        return "None"
    if expr.startswith("field(default_factory="):
        inner = expr[len("field(default_factory=") : -1]
        return inner[len("lambda: ") :] if inner.startswith("lambda: ") else f"{inner}()"
    if expr.startswith("field(default="):
        return expr[len("field(default=") : -1]
    return expr


def _dump(fp: FieldPlan, expr: str, plan: EntityPlan) -> str:
    t = fp.field.type
    if isinstance(t, ir.EnumType) and t.name in plan.names.literals:
        inner = expr  # a Literal[...] value is already its JSON form
    else:
        inner = ty.dump_expr(t, expr)
    if inner == expr or not fp.field.nullable:
        return inner
    return f"None if {expr} is None else {inner}"


def rest_field(fps: Sequence[FieldPlan]) -> FieldPlan | None:
    """Return the field collecting members beyond the named ones (JSON Schema sources)."""
    for fp in fps:
        if fp.field.extra.get("json_rest"):
            return fp
    return None


def _to_payload_dict(
    fps: Sequence[FieldPlan], owner: str, level: int, plan: EntityPlan
) -> list[str]:
    """Return the lines of a ``to_payload`` body.

    Fields whose schema has no ``null`` (``json_omit_null``) are left out when ``None``,
    and the members of a rest field are spread back beside the named ones.
    """
    pad = "    " * level
    if not fps:
        return [f"{pad}return {{}}"]
    rest = rest_field(fps)
    omitted = [fp for fp in fps if fp.field.extra.get("json_omit_null")]
    plain = [fp for fp in fps if fp is not rest and fp not in omitted]
    pairs = [(py_str(fp.key), _dump(fp, f"{owner}.{fp.name}", plan)) for fp in plain]
    items = [f"{key}: {value}" for key, value in pairs]
    if rest is not None:
        items.append(f"**{owner}.{rest.name}")
    head = "return " if not omitted else "payload: dict[str, Any] = "
    flat = f"{pad}{head}{{{', '.join(items)}}}"
    inner = "    " * (level + 1)
    if len(flat) <= LINE_LENGTH:
        lines = [flat]
    else:
        lines = [
            f"{pad}{head}{{",
            *[dict_item(key, value, level + 1) for key, value in pairs],
            *([f"{inner}**{owner}.{rest.name},"] if rest is not None else []),
            f"{pad}}}",
        ]
    if not omitted:
        return lines
    for fp in omitted:
        value = f"{owner}.{fp.name}"
        lines.append(f"{pad}if {value} is not None:")
        lines.append(assign(f"payload[{py_str(fp.key)}]", _dump_value(fp, value, plan), level + 1))
    lines.append(f"{pad}return payload")
    return lines


def _dump_value(fp: FieldPlan, expr: str, plan: EntityPlan) -> str:
    """Return the JSON form of a value known not to be ``None``."""
    t = fp.field.type
    if isinstance(t, ir.EnumType) and t.name in plan.names.literals:
        return expr
    return ty.dump_expr(t, expr)


def _fast_fields(plan: EntityPlan) -> list[exact.FastField] | None:
    """Return the draft's fields as its fast path reads them, or ``None`` for a draft that
    has none (a field type without an inline check, members beyond the named ones, or an
    entity-wide schema)."""
    fps = plan.draft_fields
    if not fps or rest_field(fps) is not None or plan.entity_schema_const is not None:
        return None
    out: list[exact.FastField] = []
    for fp in fps:
        check = exact.check(fp.field, local(fp))
        if check is None:
            return None
        f = fp.field
        initial = _default_value_expr(fp, plan)
        out.append(
            exact.FastField(fp.key, local(fp), fp.name, f.required, f.nullable, initial, check)
        )
    return out


def draft_class(plan: EntityPlan) -> str:
    """Return the ``Draft`` dataclass with its payload reader and writer (and fast path)."""
    e = plan.entity
    cls = f"{e.name}Draft"
    body: list[str] = []
    for fp in plan.draft_fields:
        default = _default_expr(fp, plan)
        body.append(
            _annotated(fp.name, _field_annotation(fp, plan), default, _container_default(fp))
        )
        doc = _attr_doc(fp.field, 1)
        if doc:
            body.append(doc)
    reader = _payload_reader(
        plan.draft_fields, plan, cls_name="cls", mode="draft", entity_label=e.name
    )
    fast = _fast_fields(plan)
    text = join_lines(
        "@dataclass(frozen=True, slots=True, kw_only=True)",
        f"class {cls}:",
        docstring(
            f"The payload that creates a ``{e.name}``; fields the database makes are left out.",
            1,
        ),
        *(["", *body] if body else []),
        "",
        "    def to_payload(self) -> dict[str, Any]:",
        '        """Return the JSON payload of this draft."""',
        *_to_payload_dict(plan.draft_fields, "self", 2, plan),
        "",
        "    @classmethod",
        f"    def from_payload(cls, payload: object) -> {cls}:",
        '        """Read a draft from JSON; ``ValidationError`` lists every problem."""',
        *(exact.from_payload_head(cls, plan.var) if fast else []),
        *reader,
    )
    if fast is None:
        return text
    return f"{text}\n\n\n{exact.fast_path(cls, plan.var, plan.const, fast)}"


def patch_class(plan: EntityPlan) -> str:
    """Return the ``Patch`` dataclass: every mutable field, ``UNSET`` when not given."""
    e = plan.entity
    cls = f"{e.name}Patch"
    body = [
        f"    {fp.name}: {_with_unset(_field_annotation(fp, plan))} = UNSET"
        for fp in plan.patch_fields
    ]
    if plan.patch_fields:
        empty = "return " + " and ".join(f"self.{fp.name} is UNSET" for fp in plan.patch_fields)
        if len(empty) + 8 > LINE_LENGTH:
            parts = [f"self.{fp.name} is UNSET" for fp in plan.patch_fields]
            empty_lines = ["        return (", "            " + parts[0]]
            empty_lines += [f"            and {p}" for p in parts[1:]]
            empty_lines.append("        )")
        else:
            empty_lines = ["        " + empty]
        dump = ["        payload: dict[str, Any] = {}"]
        for fp in plan.patch_fields:
            dump.append(f"        if self.{fp.name} is not UNSET:")
            dump.append(assign(f"payload[{py_str(fp.key)}]", _dump(fp, f"self.{fp.name}", plan), 3))
        dump.append("        return payload")
    else:
        empty_lines = ["        return True"]
        dump = ["        return {}"]
    reader = _payload_reader(
        plan.patch_fields, plan, cls_name="cls", mode="patch", entity_label=e.name
    )
    return join_lines(
        "@dataclass(frozen=True, slots=True, kw_only=True)",
        f"class {cls}:",
        docstring(
            f"A partial update of a ``{e.name}``: fields left ``UNSET`` stay as they are.", 1
        ),
        *(["", *body] if body else []),
        "",
        "    def is_empty(self) -> bool:",
        '        """Tell whether the patch changes nothing."""',
        *empty_lines,
        "",
        "    def to_payload(self) -> dict[str, Any]:",
        '        """Return the JSON payload of the fields this patch sets."""',
        *dump,
        "",
        "    @classmethod",
        f"    def from_payload(cls, payload: object) -> {cls}:",
        '        """Read a patch from JSON; ``ValidationError`` lists every problem."""',
        *reader,
    )


def command_class(plan: EntityPlan, c: CommandPlan) -> str:
    """Return a command dataclass with its payload reader and writer."""
    body: list[str] = [
        f"    name: ClassVar[str] = {py_str(c.command_name)}",
        f"    payload_version: ClassVar[int] = {c.payload_version}",
    ]
    fields: list[str] = []
    for fp in c.params:
        default = _default_expr(fp, plan) if not fp.field.required else None
        fields.append(
            _annotated(fp.name, _field_annotation(fp, plan), default, _container_default(fp))
        )
        doc = _attr_doc(fp.field, 1)
        if doc:
            fields.append(doc)
    reader = _payload_reader(
        c.params, plan, cls_name="cls", mode="draft", entity_label=f"{plan.name}.{c.command_name}"
    )
    decorator = (
        "@dataclass(frozen=True, slots=True, kw_only=True)"
        if c.params
        else "@dataclass(frozen=True, slots=True)"
    )
    return join_lines(
        decorator,
        f"class {c.class_name}:",
        docstring(c.doc, 1),
        "",
        *body,
        *(["", *fields] if fields else []),
        "",
        "    def to_payload(self) -> dict[str, Any]:",
        '        """Return the JSON payload of this command."""',
        *_to_payload_dict(c.params, "self", 2, plan),
        "",
        "    @classmethod",
        f"    def from_payload(cls, payload: object) -> {c.class_name}:",
        '        """Read the command from JSON; ``ValidationError`` lists every problem."""',
        *reader,
    )


def record_functions(plan: EntityPlan) -> list[str]:
    """Return ``<var>_to_record`` and ``<var>_from_record`` (the snapshot form)."""
    e = plan.entity
    to_lines = _to_payload_dict(plan.fields, plan.var, 1, plan)
    plain = plan.user_class is not None and plan.user_class[2] == "plain"
    build = f"_new_{plan.var}" if plain else e.name
    reader = _payload_reader(plan.fields, plan, cls_name=build, mode="record", entity_label=e.name)
    # One level less than in a class body; an element may hold several lines.
    reader = ["\n".join(part[4:] for part in line.split("\n")) for line in reader]
    return [
        join_lines(
            def_line(f"{plan.var}_to_record", [f"{plan.var}: {e.name}"], "dict[str, Any]"),
            f'    """Return the JSON record of a ``{e.name}`` (as stored in snapshots)."""',
            *to_lines,
        ),
        join_lines(
            def_line(f"{plan.var}_from_record", ["payload: object"], e.name),
            f'    """Read a ``{e.name}`` from its JSON record; ``ValidationError`` on problems."""',
            *reader,
        ),
    ]
