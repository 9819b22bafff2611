"""Build the module-level functions of an entity module: reducers, command parsing, spec."""

from __future__ import annotations

from collections.abc import Mapping

from persist_tool import ir
from persist_tool.emit import types as ty
from persist_tool.emit.blocks import schema_constant_names
from persist_tool.emit.model import EntityPlan, FieldPlan
from persist_tool.emit.pycode import (
    LINE_LENGTH,
    Code,
    assign,
    call,
    def_line,
    docstring,
    hugging_call,
    if_all,
    join_lines,
    long_string,
    py_literal,
    py_str,
    split_string,
)
from persist_tool.emit.types import field_schema

__all__ = [
    "apply_command_fn",
    "bulk_builder_fn",
    "change_tracking_fns",
    "user_class_constructor",
    "apply_patch_fn",
    "commands_constant",
    "create_fn",
    "parse_command_fn",
    "spec_constant",
    "value_functions",
]


def _construct(plan: EntityPlan) -> str:
    """Return the callable that builds an entity from keyword arguments."""
    if plan.user_class is not None and plan.user_class[2] == "plain":
        return f"_new_{plan.var}"
    return plan.name


def user_class_constructor(plan: EntityPlan) -> str | None:
    """Return ``_new_<var>`` for plain user classes, which have no keyword constructor."""
    if plan.user_class is None or plan.user_class[2] != "plain":
        return None
    params = ", ".join(
        f"{fp.name}: {ty.annotation(fp.field.type, plan.names)}"
        + (" | None" if fp.field.nullable else "")
        for fp in plan.fields
    )
    head = f"def _new_{plan.var}(*, {params}) -> {plan.name}:"
    # The parameters are the fields: the new instance's variable must be none of them.
    one = _fresh(plan.var, {plan.name, *(fp.name for fp in plan.fields)})
    body = [f"    {one} = {plan.name}.__new__({plan.name})"]
    body += [f"    {one}.{fp.name} = {fp.name}" for fp in plan.fields]
    body.append(f"    return {one}")
    return join_lines(
        head,
        f'    """Build a ``{plan.name}`` without running its constructor (it has none)."""',
        *body,
    )


def create_fn(plan: EntityPlan) -> str:
    """Return ``create_<var>(draft, *, generated...)``."""
    e = plan.entity
    d = plan.draft_param
    params = [f"{d}: {e.name}Draft"]
    if plan.generated_fields:
        params.append("*")
    args: list[str] = []
    for fp in plan.generated_fields:
        ann = ty.annotation(fp.field.type, plan.names)
        if fp.field.nullable or _has_factory(fp.field):
            params.append(f"{fp.name}: {ann} | None = None")
        else:
            params.append(f"{fp.name}: {ann}")
    for fp in plan.fields:
        if fp.field.generated:
            factory = _generated_factory(fp.field)
            if factory is not None:
                args.append(f"{fp.name}={factory}() if {fp.name} is None else {fp.name}")
            else:
                args.append(f"{fp.name}={fp.name}")
        else:
            args.append(f"{fp.name}={d}.{fp.name}")
    doc = (
        f"Build a ``{e.name}`` from a draft and the values the database generated."
        if plan.generated_fields
        else f"Build a ``{e.name}`` from a draft."
    )
    return join_lines(
        call(f"def create_{plan.var}", params, 0, f" -> {e.name}:"),
        docstring(doc, 1),
        call(f"return {_construct(plan)}", args, 1),
    )


def _has_factory(f: ir.Field) -> bool:
    return _generated_factory(f) is not None


def _generated_factory(f: ir.Field) -> str | None:
    """Return the factory that stands in for the database for a generated timestamp."""
    if not isinstance(f.type, ir.DateTimeType) or f.default is None:
        return None
    return "_p.now_utc" if f.type.tz else "_p.now"


def apply_patch_fn(plan: EntityPlan) -> str:
    """Return ``apply_patch(entity, patch) -> frozenset[str]``."""
    e = plan.entity
    v = plan.var
    body: list[str] = []
    if plan.patch_fields:
        body.append("    changed: set[str] = set()")
        for fp in plan.patch_fields:
            body.append(
                if_all([f"patch.{fp.name} is not UNSET", f"patch.{fp.name} != {v}.{fp.name}"], 1)
            )
            body.append(assign(f"{v}.{fp.name}", f"patch.{fp.name}", 2))
            body.append(f"        changed.add({py_str(fp.name)})")
        body.append("    return frozenset(changed)")
    else:
        body.append("    return frozenset()")
    return join_lines(
        call(
            "def apply_patch", [f"{v}: {e.name}", f"patch: {e.name}Patch"], 0, " -> frozenset[str]:"
        ),
        '    """Apply the fields a patch sets; return the names of the fields that changed."""',
        *body,
    )


def apply_command_fn(plan: EntityPlan) -> str:
    """Return ``apply_command(entity, command) -> frozenset[str]``."""
    e = plan.entity
    v = plan.var
    body = ["    match command:"]
    for c in plan.commands:
        body.append(f"        case {c.class_name}():")
        if c.kind == "setter":
            assert c.target is not None
            name = c.target.name
            body.append(f"            if {v}.{name} == command.value:")
            body.append("                return frozenset()")
            body.append(f"            {v}.{name} = command.value")
            body.append(f"            return frozenset({{{py_str(name)}}})")
        elif c.kind == "touch":
            body.append("            return frozenset()")
        else:
            args = [f"{p.name}=command.{p.name}" for p in c.params]
            body.append(f"            before = _field_values({v})")
            body.append(call(f"{v}.{c.method}", args, 3))
            body.append(f"            return _changed_fields(before, {v})")
    return join_lines(
        call(
            "def apply_command",
            [f"{v}: {e.name}", f"command: {e.name}Command"],
            0,
            " -> frozenset[str]:",
        ),
        '    """Apply a command; return the names of the fields that changed."""',
        *body,
    )


def change_tracking_fns(plan: EntityPlan) -> list[str]:
    """Return ``_field_values`` / ``_changed_fields`` for entities with user commands."""
    if not any(c.kind == "user" for c in plan.commands):
        return []
    v = plan.var
    values = [f"{v}.{fp.name}" for fp in plan.fields]
    names = py_literal(tuple(fp.name for fp in plan.fields), 0, 20)
    return [
        f"_FIELD_NAMES: Final = {names}",
        join_lines(
            def_line("_field_values", [f"{v}: {plan.name}"], "tuple[Any, ...]"),
            '    """Return a deep copy of every field value, to see what a method changed."""',
            "    values = (",
            *[f"        {x}," for x in values],
            "    )",
            "    return copy.deepcopy(values)",
        ),
        join_lines(
            def_line(
                "_changed_fields",
                ["before: tuple[Any, ...]", f"{v}: {plan.name}"],
                "frozenset[str]",
            ),
            '    """Return the names of the fields whose value differs from ``before``."""',
            f"    after = _field_values({v})",
            "    return frozenset(",
            "        name",
            "        for name, old, new in zip(_FIELD_NAMES, before, after, strict=True)",
            "        if old != new",
            "    )",
        ),
    ]


def parse_command_fn(plan: EntityPlan) -> str:
    """Return ``parse_<var>_command(envelope)`` and its name table."""
    e = plan.entity
    return join_lines(
        def_line(f"parse_{plan.var}_command", ["envelope: object"], f"{e.name}Command"),
        '    """Read a command envelope: ``{"command", "payload", "payload_version"}``.',
        "",
        "    Problems are reported with pointers into the envelope (``/payload/value``).",
        '    """',
        "    issues: list[Issue] = []",
        '    data = _p.expect_object(envelope, "", issues)',
        '    _p.check_keys(data, _ENVELOPE_KEYS, "", issues)',
        '    name = _p.read_str(data.get("command", _p.MISSING), "/command", issues)',
        f"    command_type = _{plan.const}_COMMAND_TYPES.get(name)",
        "    if command_type is None and not issues:",
        '        issues.append(Issue("/command", f"unknown command {name!r}"))',
        "    version = command_type.payload_version if command_type else 1",
        '    if "payload_version" in data:',
        '        given = _p.read_int(data["payload_version"], "/payload_version", issues)',
        "        if command_type is not None and given != version:",
        '            message = f"payload version {given} of {name} is not {version}"',
        '            issues.append(Issue("/payload_version", message))',
        "    if issues or command_type is None:",
        f"        raise ValidationError(issues, entity={py_str(e.name)})",
        "    try:",
        '        return command_type.from_payload(data.get("payload", {}))',
        "    except ValidationError as error:",
        f'        raise _p.nest_error(error, "/payload", {py_str(e.name)}) from None',
    )


def commands_constant(plan: EntityPlan) -> list[str]:
    """Return the command union, the name table and ``<CONST>_COMMANDS``."""
    e = plan.entity
    union_items = [c.class_name for c in plan.commands]
    joined = " | ".join(union_items)
    union = f"{e.name}Command: TypeAlias = {joined}"
    if len(union) > LINE_LENGTH:
        # black wraps the right-hand side in parentheses, one line inside when it fits
        # there, else one operand a line.
        if 4 + len(joined) <= LINE_LENGTH:
            inner = [joined]
        else:
            inner = [union_items[0], *(f"| {u}" for u in union_items[1:])]
        union = join_lines(
            f"{e.name}Command: TypeAlias = (", *[f"    {line}" for line in inner], ")"
        )
    # A comprehension over one class a line: black leaves long ``Cls.name: Cls`` entries
    # alone, but they would not fit the line. A one-class tuple's comma is no magic
    # trailing comma to black, which joins it (an entity with no mutable field, a join
    # table, has the one command ``Touch``).
    annotation = f"dict[str, type[{e.name}Command]]"
    head = f"_{plan.const}_COMMAND_TYPES: Final[{annotation}] = {{"
    long_head = len(head) > LINE_LENGTH
    if long_head:
        # black splits the annotation's brackets first.
        head = f"_{plan.const}_COMMAND_TYPES: Final[\n    {annotation}\n] = {{"
    if len(plan.commands) == 1:
        body = f"command.name: command for command in ({plan.commands[0].class_name},)"
        if long_head and len(f"] = {{{body}}}") <= LINE_LENGTH:
            table = f"{head}{body}}}"  # black joins a table that fits after the annotation
        else:
            table = join_lines(head, f"    {body}", "}")
    else:
        table = join_lines(
            head,
            "    command.name: command",
            "    for command in (",
            *[f"        {c.class_name}," for c in plan.commands],
            "    )",
            "}",
        )
    specs: list[str] = []
    consts = frozenset(schema_constant_names(plan))
    for c in plan.commands:
        schema = {
            "type": "object",
            "properties": {p.key: _param_schema(p, consts) for p in c.params},
            "required": [p.key for p in c.params if p.field.required],
            "additionalProperties": False,
        }
        specs.append(
            join_lines(
                "    CommandSpec(",
                f"        name={c.class_name}.name,",
                f"        type={c.class_name},",
                f"        payload_version={c.class_name}.payload_version,",
                f"        payload_schema={py_literal(schema, 2, len('payload_schema=') + 1)},",
                f"        doc={py_str(c.doc)},",
                "    ),",
            )
        )
    commands = join_lines(
        f"{plan.const}_COMMANDS: Final[tuple[CommandSpec, ...]] = (",
        *specs,
        ")",
    )
    return [union, table, commands]


def _param_schema(p: FieldPlan, consts: frozenset[str]) -> Mapping[str, object]:
    """Return a payload property's schema, naming the module's schema constant if it has one.

    A ``json`` field's sub-schema can be large; the command list refers to the constant the
    readers already use instead of repeating it.
    """
    schema = field_schema(p.field)
    if p.schema_const not in consts:
        return schema
    inner = schema["anyOf"][0] if p.field.nullable else schema
    if inner.get("type") == "array" or not isinstance(p.field.type, ir.JsonType | ir.ObjectType):
        return schema
    ref = Code(p.schema_const)
    if p.field.nullable:
        return {"anyOf": [ref, {"type": "null"}]}
    return {"allOf": [ref]}


def value_functions(plan: EntityPlan) -> list[str]:
    """Return the row and draft converters the store calls (tuples in field order)."""
    e = plan.entity
    v = plan.var
    d = plan.draft_param
    to_values = [f"{v}.{fp.name}" for fp in plan.fields]
    from_values = [f"{fp.name}=values[{i}]" for i, fp in enumerate(plan.fields)]
    draft_values = [f"{d}.{fp.name}" for fp in plan.draft_fields]
    gen_args = [f"{fp.name}=generated[{py_str(fp.name)}]" for fp in plan.generated_fields]
    return [
        join_lines(
            def_line(f"_{v}_to_values", [f"{v}: {e.name}"], "tuple[Any, ...]"),
            _tuple_return(to_values),
        ),
        join_lines(
            def_line(f"_{v}_from_values", ["values: Sequence[Any]"], e.name),
            call(f"return {_construct(plan)}", from_values, 1),
        ),
        join_lines(
            def_line(f"_{v}_draft_values", [f"{d}: {e.name}Draft"], "tuple[Any, ...]"),
            _tuple_return(draft_values),
        ),
        join_lines(
            hugging_call(
                f"def _{v}_from_draft",
                [f"{d}: {e.name}Draft", "generated: Mapping[str, Any]"],
                0,
                f" -> {e.name}:",
            ),
            call(f"return create_{v}", [d, *gen_args], 1),
        ),
    ]


# Names the bulk builder binds or reads besides its own locals, which never take one of
# them (a local ``zip`` would hide the builtin in the whole function).
_BULK_NAMES = frozenset({"drafts", "generated", "new", "built", "append", "zip", "_p"})


def _fresh(name: str, taken: set[str]) -> str:
    """Return ``name``, underscores appended until it is none of ``taken``; add it there."""
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def bulk_builder_fn(plan: EntityPlan) -> str:
    """Return ``_<var>_from_drafts(drafts, generated)``: ``_<var>_from_draft`` in one loop.

    The store's bulk inserts build many entities at once. A generated class is built the
    way its dataclass ``__init__`` builds it (``__new__``, then one store per field in
    field order), a user's class by the constructor ``create_<var>`` calls: never around
    it. Generated values are read as ``_<var>_from_draft`` reads them, and a missing
    timestamp falls back to ``create_<var>``'s factory.
    """
    e = plan.entity
    v = plan.var
    construct = _construct(plan)
    taken = {*_BULK_NAMES, e.name, construct}
    one = _fresh(v, taken)
    d = _fresh("draft", taken)
    values = _fresh("values", taken) if plan.generated_fields else ""
    reads: list[str] = []
    # (field, value, key): the key when the value is the generated one read as it is.
    stores: list[tuple[str, str, str | None]] = []
    for fp in plan.fields:
        if not fp.field.generated:
            stores.append((fp.name, f"{d}.{fp.name}", None))
            continue
        key = py_str(fp.name)
        factory = _generated_factory(fp.field)
        if factory is None:
            stores.append((fp.name, f"{values}[{key}]", key))
            continue
        local = _fresh(fp.name, taken)
        reads.append(_subscript_assign(local, values, key, 2))
        stores.append((fp.name, f"{factory}() if {local} is None else {local}", None))
    head = f"Build the ``{e.name}`` of each draft, as ``_{v}_from_draft`` does."
    if plan.user_class is not None:
        doc = (
            f"{head}\n\nBulk inserts build many entities: each is made by ``{construct}(...)``"
            f" (what ``create_{v}`` calls), sparing the two calls around it."
        )
        setup: list[str] = []
        build = [call(f"{one} = {construct}", [f"{n}={x}" for n, x, _ in stores], 2)]
    else:
        doc = (
            f"{head}\n\nBulk inserts build many entities: each is made here as the "
            f"dataclass's ``__init__`` makes it, one store per field, sparing the three calls "
            f"``_{v}_from_draft`` costs."
        )
        setup = [f"    new = {e.name}.__new__"]
        build = [f"        {one} = new({e.name})"]
        for name, value, read_key in stores:
            if read_key is None:
                build.append(assign(f"{one}.{name}", value, 2))
            else:
                build.append(_subscript_assign(f"{one}.{name}", values, read_key, 2))
    loop = (
        f"    for {d}, {values} in zip(drafts, generated, strict=False):"
        if plan.generated_fields
        else f"    for {d} in drafts:"
    )
    return join_lines(
        hugging_call(
            f"def _{v}_from_drafts",
            [f"drafts: Sequence[{e.name}Draft]", "generated: Iterable[Mapping[str, Any]]"],
            0,
            f" -> list[{e.name}]:",
        ),
        docstring(doc, 1),
        *setup,
        f"    built: list[{e.name}] = []",
        "    append = built.append",
        loop,
        *reads,
        *build,
        f"        append({one})",
        "    return built",
    )


def _subscript_assign(target: str, mapping: str, key: str, indent_level: int) -> str:
    """Return ``target = mapping[key]``, split inside the brackets as black does when long."""
    pad = "    " * indent_level
    flat = f"{pad}{target} = {mapping}[{key}]"
    if len(flat) <= LINE_LENGTH:
        return flat
    opening = f"{pad}{target} = {mapping}["
    if len(opening) <= LINE_LENGTH and len(pad) + 4 + len(key) <= LINE_LENGTH:
        return f"{opening}\n{pad}    {key}\n{pad}]"
    return assign(target, f"{mapping}[{key}]", indent_level)


def _tuple_return(items: list[str]) -> str:
    if not items:
        return "    return ()"
    flat = f"    return ({', '.join(items)}{',' if len(items) == 1 else ''})"
    if len(flat) <= 88:
        return flat
    return join_lines("    return (", *[f"        {x}," for x in items], "    )")


def spec_constant(
    plan: EntityPlan, ddl: Mapping[str, tuple[str, ...]], sql_types: Mapping[str, Mapping[str, str]]
) -> str:
    """Return ``<CONST>_SPEC = EntitySpec(...)``."""
    e = plan.entity
    v = plan.var
    primary = set(e.primary_key)
    fields: list[str] = []
    for fp in plan.fields:
        f = fp.field
        args = [
            f"name={py_str(f.name)}",
            f"column={py_str(f.column)}",
            f"kind={py_str(f.type.kind)}",
            f"sql_types={py_literal(dict(sql_types[f.name]), 3, len('sql_types=') + 1)}",
        ]
        for flag, on in (
            ("nullable", f.nullable),
            ("generated", f.generated),
            ("immutable", f.immutable),
            ("primary_key", f.name in primary),
            ("tz", isinstance(f.type, ir.DateTimeType) and f.type.tz),
        ):
            if on:
                args.append(f"{flag}=True")
        fields.append(call("FieldSpec", args, 2).lstrip() + ",")
    indexes = [
        call(
            "IndexSpec",
            [py_str(i.name), py_literal(tuple(i.columns)), *(["unique=True"] if i.unique else [])],
            2,
        ).lstrip()
        + ","
        for i in e.indexes
    ]
    draft_fields = py_literal(
        tuple(fp.name for fp in plan.draft_fields), 1, len("draft_fields=") + 1
    )
    ddl_lines = ["        {"]
    for dialect, statements in ddl.items():
        ddl_lines.append(f"            {py_str(dialect)}: (")
        for s in statements:
            ddl_lines.append(long_string(s, 4))
        ddl_lines.append("            ),")
    ddl_lines.append("        },")
    return join_lines(
        f"{plan.const}_SPEC: Final = EntitySpec(",
        f"    name={py_str(e.name)},",
        f"    table={py_str(e.table)},",
        "    schema_version=SCHEMA_VERSION,",
        "    fields=(",
        *[f"        {x}" for x in fields],
        "    ),",
        f"    primary_key={py_literal(tuple(e.primary_key))},",
        f"    unique={py_literal(tuple(tuple(u) for u in e.unique), 1, len('unique=') + 1)},",
        *_indexesjoin_lines(indexes),
        "    ddl=MappingProxyType(",
        *ddl_lines,
        "    ),",
        "    fingerprint=FINGERPRINT,",
        f"    entity_type={e.name},",
        f"    draft_type={e.name}Draft,",
        f"    patch_type={e.name}Patch,",
        f"    commands={plan.const}_COMMANDS,",
        f"    draft_fields={draft_fields},",
        f"    from_draft=_{v}_from_draft,",
        f"    from_drafts=_{v}_from_drafts,",
        f"    draft_values=_{v}_draft_values,",
        f"    to_values=_{v}_to_values,",
        f"    from_values=_{v}_from_values,",
        f"    to_record={v}_to_record,",
        f"    from_record={v}_from_record,",
        "    apply_patch=apply_patch,",
        "    apply_command=apply_command,",
        f"    parse_command=parse_{v}_command,",
        _keyword("doc", e.doc),
        *_spec_extra(plan),
        ")",
    )


def _indexesjoin_lines(indexes: list[str]) -> list[str]:
    """Return the ``indexes=`` argument; black keeps a one-element tuple on one line."""
    if not indexes:
        return ["    indexes=(),"]
    if len(indexes) == 1:
        flat = f"    indexes=({indexes[0]}),"
        if len(flat) <= 88 and "\n" not in flat:
            return [flat]
    return ["    indexes=(", *[f"        {x}" for x in indexes], "    ),"]


def _keyword(name: str, text: str | None) -> str:
    """Return a ``name=...,`` argument line of the spec, a long text split over lines."""
    if text is None:
        return f"    {name}=None,"
    flat = f"    {name}={py_str(text)},"
    if len(flat) <= 88:
        return flat
    return f"    {name}={split_string(text, 1)},"


def _spec_extra(plan: EntityPlan) -> list[str]:
    """Return the ``extra=`` lines of the spec: enum classes by field, for the store."""
    enums = [
        (fp.name, plan.names.enums[fp.field.type.name])
        for fp in plan.fields
        if isinstance(fp.field.type, ir.EnumType) and fp.field.type.name not in plan.names.literals
    ]
    if not enums:
        return []
    items = [f"{py_str(name)}: {cls}" for name, cls in enums]
    flat = f'    extra={{"enum_types": {{{", ".join(items)}}}}},'
    if len(flat) <= 88:
        return [flat]
    return [
        "    extra={",
        '        "enum_types": {',
        *[f"            {item}," for item in items],
        "        },",
        "    },",
    ]
