"""Render a migration module: one entity, one step, SQL per dialect and the state upgrade.

The module ``migrations/<entity>_v<from>_to_v<to>.py`` holds the step's statements per
dialect as literal strings, ``migrate_state(record) -> record`` written out as straight-line
code (renames, backfills, conversions, removals), command migrations for setters whose
field was renamed or dropped, and ``STEP = MigrationStep(...)``. Every line that loses data
starts after a ``# data loss:`` comment and every line a person must check after a
``# review:`` comment. What cannot be derived (a lossy conversion with no single right
answer) is a ``raise NotImplementedError`` under a ``# stub:`` comment, and the step is
marked ``stub=True`` so that ``plan.apply`` refuses it and compat-check reports it.
A step that renames the entity names its old name (``previous_entity``), so records and
commands stored under it are upgraded as the renamed entity; a step that drops the entity
says so (``drops_entity=True``), so a plan accepts it although the code no longer defines
the entity.

The decisions live here; ``templates/migration.py.jinja`` only lays the parts out.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from persist_tool import ir, naming
from persist_tool.diff import (
    AddField,
    AlterCommand,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    AlterPrimaryKey,
    Change,
    Classification,
    DropCommand,
    DropEntity,
    DropField,
    RenameEntity,
    RenameField,
    added_value,
    apply_change,
    describe_type,
)
from persist_tool.emit.entity import GeneratedFile, header
from persist_tool.emit.model import plan_entity
from persist_tool.emit.pycode import LINE_LENGTH, call, long_string, py_literal, py_str
from persist_tool.emit.templating import render_template

__all__ = ["MigrationModule", "migration_path", "render_migration"]


def migration_path(entity: str, from_version: int, to_version: int) -> str:
    """Return the module's file name: ``<entity_snake>_v<from>_to_v<to>.py``."""
    return f"{naming.snake_case(entity)}_v{from_version}_to_v{to_version}.py"


@dataclass(frozen=True, slots=True)
class MigrationModule:
    """A rendered migration module and what a caller reports about it."""

    file: GeneratedFile
    entity: str
    from_version: int
    to_version: int
    stubs: tuple[str, ...]
    """What a person must still write (empty when the step is complete)."""
    destructive: bool


# --------------------------------------------------------------------------- state lines


@dataclass(slots=True)
class _Body:
    """The lines of ``migrate_state`` (relative indentation) and what they need."""

    entity: str
    label: str
    lines: list[str] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)
    stubs: list[str] = field(default_factory=list)

    def comment(self, prefix: str, text: str, indent: int = 0) -> None:
        pad = "    " * indent
        width = LINE_LENGTH - 4 - len(pad)
        words = f"{prefix}{text}" if prefix else text
        wrapped = textwrap.wrap(words, width - 2, break_long_words=False)
        self.lines += [f"{pad}# {line}" for line in wrapped]

    def stub(self, what: str) -> None:
        message = f"{self.label}: {what}"
        self.stubs.append(what)
        self.comment("stub: ", f"{what}. Write the conversion, then drop stub=True below.")
        self.lines.append(f"raise NotImplementedError({py_str(message)})")


def _key(name: str) -> str:
    return f"record[{py_str(name)}]"


# JSON forms (DESIGN §7): (old kind, new kind) -> (expression over ``v``, note kind, note).
# A note of kind "review" asks a person to check the data; "loss" marks lost information.
_Conversion = tuple[str, str | None, str | None]
_SAME: _Conversion = ("{v}", None, None)

_CONVERSIONS: dict[tuple[str, str], _Conversion] = {
    ("integer", "integer"): _SAME,
    ("float", "float"): _SAME,
    ("decimal", "decimal"): _SAME,
    ("string", "string"): _SAME,
    ("enum", "enum"): _SAME,
    ("json", "json"): _SAME,
    ("array", "array"): _SAME,
    ("datetime", "datetime"): _SAME,
    ("integer", "float"): ("float({v})", None, None),
    ("integer", "decimal"): ("str({v})", None, None),
    ("integer", "string"): ("str({v})", None, None),
    ("integer", "boolean"): ("{v} != 0", "review", "every non-zero number becomes true"),
    ("boolean", "integer"): ("int({v})", None, None),
    ("float", "decimal"): ("repr({v})", "review", "binary fractions become exact decimals"),
    ("decimal", "float"): ("float({v})", "loss", "decimals beyond float precision round"),
    ("decimal", "string"): _SAME,
    ("string", "integer"): ("int({v})", "review", "text that is no whole number fails here"),
    ("string", "float"): ("float({v})", "review", "text that is no number fails here"),
    ("string", "decimal"): ("str(Decimal({v}))", "review", "text that is no number fails here"),
    ("string", "uuid"): ("str(UUID({v}))", "review", "text that is no UUID fails here"),
    ("string", "date"): ("date.fromisoformat({v}).isoformat()", "review", "needs ISO dates"),
    ("string", "enum"): ("{v}", "review", "values outside the enumeration fail validation"),
    ("uuid", "string"): _SAME,
    ("date", "string"): _SAME,
    ("time", "string"): _SAME,
    ("enum", "string"): _SAME,
    ("date", "datetime"): ('{v} + "T00:00:00"', None, None),
    ("datetime", "date"): ("{v}[:10]", "loss", "the time of day is dropped"),
    ("datetime", "string"): ("{v}", "review", "the database's text form of a timestamp differs"),
}
"""How a stored JSON value converts between two type kinds (absent pairs are stubbed)."""

_EXPRESSION_IMPORTS = {
    "Decimal(": ("decimal", "Decimal"),
    "UUID(": ("uuid", "UUID"),
    "date.": ("datetime", "date"),
    "datetime.": ("datetime", "datetime"),
    "uuid.uuid4": ("uuid", ""),
    "UTC": ("datetime", "UTC"),
}


def _uses(body: _Body, expression: str) -> None:
    for token, needed in _EXPRESSION_IMPORTS.items():
        if token in expression:
            body.imports.add(needed)


_FACTORIES: dict[str, tuple[str, str | None]] = {
    "now": ("datetime.now(UTC).isoformat()", "stored records get the time of the upgrade"),
    "today": ("date.today().isoformat()", "stored records get the day of the upgrade"),
    "uuid4": ("str(uuid.uuid4())", "every record gets a new random UUID"),
    "list": ("[]", None),
    "dict": ("{}", None),
}


def _value_expression(body: _Body, value: ir.Default) -> tuple[str, str | None]:
    """Return Python source for a backfill value and a note for values made at upgrade time."""
    if value.kind == ir.Default.FACTORY:
        expression, note = _FACTORIES[str(value.value)]
        _uses(body, expression)
        return expression, note
    return py_literal(value.value, 1, 12), None


def _assign(body: _Body, name: str, value: str) -> None:
    line = f"{_key(name)} = {value}"
    if len(line) + 4 <= LINE_LENGTH:
        body.lines.append(line)
    else:
        body.lines.append(f"{_key(name)} = (\n    {value}\n)")


@functools.singledispatch
def _state(change: Change, body: _Body, before: ir.Entity) -> None:
    """Append the ``migrate_state`` lines of ``change`` (nothing for table-only changes)."""


@_state.register
def _(change: RenameField, body: _Body, before: ir.Entity) -> None:
    if change.old_name != change.new_name:
        body.lines.append(f"{_key(change.new_name)} = record.pop({py_str(change.old_name)})")


@_state.register
def _(change: DropField, body: _Body, before: ir.Entity) -> None:
    body.comment("data loss: ", f"the stored values of `{change.field_name}` are dropped.")
    body.lines.append(f"del {_key(change.field_name)}")


@_state.register
def _(change: AddField, body: _Body, before: ir.Entity) -> None:
    fill = added_value(change)
    if fill is None:
        if not change.definition.nullable:
            body.stub(f"give stored records a value for the new field `{change.field_name}`")
            return
        _assign(body, change.field_name, "None")
        return
    value, note = _value_expression(body, fill)
    if note is not None:
        body.comment("review: ", f"{note}.")
    _assign(body, change.field_name, value)


@_state.register
def _(change: AlterFieldType, body: _Body, before: ir.Entity) -> None:
    kinds = (change.before.kind, change.after.kind)
    what = f"`{change.field}` from {describe_type(change.before)} to {describe_type(change.after)}"
    conversion = _CONVERSIONS.get(kinds)
    if conversion is None:
        body.stub(f"convert {what}")
        return
    expression, note_kind, note = conversion
    if change.classification is not Classification.SAFE and note is None:
        note_kind, note = "review", "stored values may not fit the narrower type"
    if note is not None:
        prefix = "data loss: " if note_kind == "loss" else "review: "
        body.comment(prefix, f"{what}: {note}.")
    if expression == "{v}":
        if note is None:
            body.comment("", f"{what}: stored values keep their form.")
        return
    _uses(body, expression)
    value = expression.format(v=_key(change.field))
    if before.get_field(change.field).nullable:
        value = f"None if {_key(change.field)} is None else {value}"
    _assign(body, change.field, value)


@_state.register
def _(change: AlterNullability, body: _Body, before: ir.Entity) -> None:
    if change.after:
        body.comment("", f"`{change.field}` may be null from now on: stored values stay.")
        return
    if change.backfill is None:
        body.stub(f"give stored records a value where `{change.field}` is null")
        return
    value, note = _value_expression(body, change.backfill)
    if note is not None:
        body.comment("review: ", f"{note}.")
    body.lines.append(f"if {_key(change.field)} is None:")
    body.lines.append(f"    {_key(change.field)} = {value}")


@_state.register
def _(change: AlterDefault, body: _Body, before: ir.Entity) -> None:
    body.comment("", f"`{change.field}`: the default applies to new records only.")


@_state.register
def _(change: AlterConstraints, body: _Body, before: ir.Entity) -> None:
    if change.tightened:
        names = ", ".join(change.tightened)
        body.comment(
            "review: ", f"stored values of `{change.field}` must obey the stricter {names}."
        )


@_state.register
def _(change: AlterPrimaryKey, body: _Body, before: ir.Entity) -> None:
    body.comment("review: ", "stored records must be unique under the new primary key.")


@_state.register
def _(change: RenameEntity, body: _Body, before: ir.Entity) -> None:
    if change.old_name != change.new_name:
        body.comment("", f"records of `{change.old_name}` are `{change.new_name}` records now.")


@_state.register
def _(change: DropEntity, body: _Body, before: ir.Entity) -> None:
    body.comment("data loss: ", f"`{change.entity}` is dropped with its table and records.")


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class _CommandMigration:
    key: tuple[str, int]
    function: str
    source: str


def _command_fn(name: str, lines: Sequence[str], result: str) -> str:
    head = f"def {name}(payload: dict[str, Any]) -> tuple[str, dict[str, Any], int]:"
    body = [f"    {line}" if line else "" for line in lines]
    return "\n".join([head, *body, f"    return {result}"])


def _setter_names(entity: ir.Entity | None) -> dict[str, tuple[str, int]]:
    """Return field name -> (setter command name, payload version) of ``entity``."""
    if entity is None:
        return {}
    plan = plan_entity(entity)
    return {
        c.target.name: (c.command_name, c.payload_version)
        for c in plan.commands
        if c.kind == "setter" and c.target is not None
    }


def _touch(entity: ir.Entity | None) -> tuple[str, int] | None:
    if entity is None:
        return None
    plan = plan_entity(entity)
    return next(
        ((c.command_name, c.payload_version) for c in plan.commands if c.kind == "touch"), None
    )


def _command_migrations(
    before: ir.Entity | None, after: ir.Entity | None, changes: Sequence[Change], notes: list[str]
) -> list[_CommandMigration]:
    """Map the setters of renamed and dropped fields, and note user commands that changed."""
    old_setters, new_setters = _setter_names(before), _setter_names(after)
    out: list[_CommandMigration] = []
    renamed = {c.old_name: c.new_name for c in changes if isinstance(c, RenameField)}
    dropped = {c.field_name for c in changes if isinstance(c, DropField)}
    touch = _touch(after)
    for old_field, (old_name, old_version) in old_setters.items():
        new_field = renamed.get(old_field)
        target = new_setters.get(new_field) if new_field is not None else None
        fn = f"{naming.snake_case(old_name)}_v{old_version}"
        if target is not None and target != (old_name, old_version):
            result = f"({py_str(target[0])}, payload, {target[1]})"
            out.append(_CommandMigration((old_name, old_version), fn, _command_fn(fn, [], result)))
        elif (
            old_field in dropped
            and touch is not None
            and old_name not in {n for n, _ in new_setters.values()}
        ):
            lines = [
                f"# data loss: `{old_field}` is dropped; the command only advances the version.",
            ]
            result = f"({py_str(touch[0])}, {{}}, {touch[1]})"
            out.append(
                _CommandMigration((old_name, old_version), fn, _command_fn(fn, lines, result))
            )
    for change in changes:
        if isinstance(change, DropCommand):
            notes.append(
                f"journaled `{change.command.name}` commands have no command migration:"
                " map them to a current command in COMMANDS"
            )
        elif isinstance(change, AlterCommand):
            notes.append(
                f"command `{change.after.name}` changed (payload version"
                f" {change.before.payload_version} -> {change.after.payload_version}):"
                " map journaled payloads in COMMANDS"
            )
    return out


# --------------------------------------------------------------------------- module


_DIALECT_CONSTANTS = {"sqlite": "SQLITE", "postgres": "POSTGRES", "mysql": "MYSQL"}


def _sql_constant(dialect: str, statements: Sequence[str]) -> str:
    name = f"{_DIALECT_CONSTANTS.get(dialect, dialect.upper())}: Final[tuple[str, ...]] = "
    if not statements:
        return name + "()"
    items = "\n".join(long_string(s, 1, ",") for s in statements)
    return f"{name}(\n{items}\n)"


def _module_doc(label: str, changes: Sequence[Change], notes: Sequence[str]) -> str:
    lines = [f'"""Migrate {label}.', "", "Changes:", ""]
    for change in changes:
        text = change.describe().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        wrapped = textwrap.wrap(text, LINE_LENGTH - 2, break_long_words=False)
        lines += [f"- {wrapped[0]}", *[f"  {w}" for w in wrapped[1:]]]
    if notes:
        lines += ["", "To review:", ""]
        for note in notes:
            wrapped = textwrap.wrap(note, LINE_LENGTH - 2, break_long_words=False)
            lines += [f"- {wrapped[0]}", *[f"  {w}" for w in wrapped[1:]]]
    lines.append('"""')
    return "\n".join(lines)


def _summary(changes: Sequence[Change]) -> str:
    """Return the step's one-line description: its change kinds, counted."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    return ", ".join(
        f"{n} {k.replace('_', ' ')}" if n > 1 else k.replace("_", " ") for k, n in counts.items()
    )


def _imports(needed: set[tuple[str, str]]) -> str:
    plain = sorted(m for m, n in needed if not n)
    grouped: dict[str, set[str]] = {"typing": {"Any", "Final"}}
    for module, name in needed:
        if name:
            grouped.setdefault(module, set()).add(name)
    lines = [f"import {m}" for m in plain]
    lines += [
        f"from {m} import {', '.join(sorted(grouped[m], key=lambda n: (not n.isupper(), n)))}"
        for m in sorted(grouped)
    ]
    runtime = (
        "from persist_runtime import MigrationStep\n"
        "from persist_runtime.migrations import CommandMigration"
    )
    return "\n".join(lines) + "\n\n" + runtime


def render_migration(
    before: ir.Entity | None,
    after: ir.Entity | None,
    changes: Sequence[Change],
    *,
    sql: Mapping[str, Sequence[str]],
    source: str,
    source_hash: str,
    to_version: int | None = None,
) -> MigrationModule:
    """Render the migration module of one entity's step.

    ``before``/``after`` are the entity's versions (``after`` is ``None`` when the entity is
    dropped; its step then goes to ``to_version``, by default one past ``before``); ``sql``
    holds the statements per dialect (``persist_tool.sql.step_statements``).
    """
    current = after or before
    assert current is not None and before is not None, "a new entity needs no migration step"
    entity = current.name
    from_version = before.schema_version
    target = after.schema_version if after is not None else (to_version or from_version + 1)
    label = f"``{entity}`` from schema version {from_version} to {target}"
    body = _Body(entity, f"{entity} v{from_version} -> v{target}")
    state: dict[str, ir.Entity] = {before.name: before}
    for change in changes:
        name = change.old_name if isinstance(change, RenameEntity) else change.entity
        _state(change, body, state.get(name, current))
        if not isinstance(change, DropEntity):
            apply_change(change, state)
    notes: list[str] = []
    commands = _command_migrations(before, after, changes, notes)
    state_doc = f'    """Upgrade a stored ``{entity}`` record from v{from_version} to v{target}."""'
    lines = [f"    {line}" if line else "" for ln in body.lines for line in ln.split("\n")]
    migrate_state = "\n".join(
        [
            "def migrate_state(record: dict[str, Any]) -> dict[str, Any]:",
            state_doc,
            *lines,
            "    return record",
        ]
    )
    destructive = any(
        c.touches_table and c.classification is Classification.DESTRUCTIVE for c in changes
    )
    table = current.table
    previous = before.table if after is not None and before.table != after.table else None
    step_args = [
        f"entity={py_str(entity)}",
        f"from_version={from_version}",
        f"to_version={target}",
        "sql={"
        + ", ".join(f"{py_str(d)}: {_DIALECT_CONSTANTS.get(d, d.upper())}" for d in sql)
        + "}",
        "migrate_state=migrate_state",
        "commands=COMMANDS",
        f"destructive={destructive}",
        f"stub={bool(body.stubs)}",
        f"table={py_str(table)}",
        f"previous_table={py_str(previous) if previous else None}",
        "description=" + long_string(_summary(changes), 1, "").lstrip(),
    ]
    # Only renames and drops say so: the other steps keep the runtime's defaults.
    if after is not None and before.name != after.name:
        step_args.append(f"previous_entity={py_str(before.name)}")
    if after is None or any(isinstance(c, DropEntity) for c in changes):
        step_args.append("drops_entity=True")
    commands_constant = "COMMANDS: Final[dict[tuple[str, int], CommandMigration]] = " + (
        "{}"
        if not commands
        else "{\n"
        + "".join(f"    ({py_str(c.key[0])}, {c.key[1]}): {c.function},\n" for c in commands)
        + "}"
    )
    text = render_template(
        "migration.py.jinja",
        header=header(source, source_hash),
        module_doc=_module_doc(label, changes, notes),
        imports=_imports(body.imports),
        sql_constants=[_sql_constant(d, s) for d, s in sql.items()],
        migrate_state=migrate_state,
        command_functions=[c.source for c in commands],
        commands=commands_constant,
        step=call("STEP: Final = MigrationStep", step_args, 0),
    )
    import black

    text = black.format_str(text, mode=black.Mode())
    return MigrationModule(
        GeneratedFile(migration_path(entity, from_version, target), text),
        entity,
        from_version,
        target,
        tuple(body.stubs),
        destructive,
    )
