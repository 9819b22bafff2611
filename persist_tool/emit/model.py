"""Decide everything about an entity module before any code is written.

``plan_entity`` turns an ``ir.Entity`` into an ``EntityPlan``: the Python names of every
class, constant and function, which fields go where (entity, Draft, Patch, setters), and
the defaults. The block builders and templates only read the plan.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from persist_tool import ir, naming
from persist_tool.emit.types import TypeNames

__all__ = [
    "CommandPlan",
    "EntityPlan",
    "EnumPlan",
    "FieldPlan",
    "module_name",
    "payload_key",
    "plan_entity",
]


@dataclass(frozen=True, slots=True)
class EnumPlan:
    """A generated enum class: its name, base and ``(member, value)`` pairs."""

    name: str
    base: str
    members: tuple[tuple[str, str | int], ...]
    doc: str


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field as the module sees it."""

    field: ir.Field
    key: str
    """The key of this field in JSON payloads and records."""
    schema_const: str
    """Module constant holding the JSON sub-schema (``json`` fields)."""

    @property
    def name(self) -> str:
        """The Python attribute name."""
        return self.field.name


@dataclass(frozen=True, slots=True)
class CommandPlan:
    """A command class: generated setter, ``Touch``, or a user ``@command``."""

    class_name: str
    command_name: str
    payload_version: int
    params: tuple[FieldPlan, ...]
    doc: str
    kind: str
    """``setter``, ``touch`` or ``user``."""
    target: FieldPlan | None = None
    """For setters: the field they set."""
    method: str | None = None
    """For user commands: the entity method to call."""


@dataclass(frozen=True, slots=True)
class EntityPlan:
    """Every name and grouping decision for one entity module."""

    entity: ir.Entity
    module: str
    var: str
    """Parameter/variable name for an instance (``order``)."""
    const: str
    """UPPER_SNAKE prefix for module constants (``ORDER``)."""
    fields: tuple[FieldPlan, ...]
    draft_fields: tuple[FieldPlan, ...]
    patch_fields: tuple[FieldPlan, ...]
    generated_fields: tuple[FieldPlan, ...]
    enums: tuple[EnumPlan, ...]
    commands: tuple[CommandPlan, ...]
    names: TypeNames
    user_class: tuple[str, str, str] | None
    """For Python sources: ``(module, class name, flavour)`` of the user's class."""
    entity_schema_const: str | None
    """Module constant with the entity-wide JSON Schema (``Entity.extra["json_schema"]``)."""
    user_imports: frozenset[tuple[str, str]]
    """For Python sources: ``(module, name)`` of the user's enums the module uses."""
    draft_param: str

    @property
    def name(self) -> str:
        """The entity class name."""
        return self.entity.name


def payload_key(f: ir.Field) -> str:
    """Return the key of a field in payloads: the source's own key where it has one.

    JSON Schema sources keep their property names (``dev-dependencies``) as payload keys
    so real documents validate; other sources use the Python field name.
    """
    key = f.extra.get("json_key") if f.extra else None
    return key if isinstance(key, str) else f.name


@dataclass(frozen=True, slots=True)
class _Enums:
    plans: tuple[EnumPlan, ...]
    names: dict[str, str]
    members: dict[tuple[str, str | int], str]
    literals: frozenset[str]
    imports: frozenset[tuple[str, str]]


def _enum_plans(entity: ir.Entity, taken: set[str]) -> _Enums:
    """Decide each enum's class: the user's own (Python sources), ``Literal``, or generated."""
    plans: list[EnumPlan] = []
    names: dict[str, str] = {}
    members: dict[tuple[str, str | int], str] = {}
    literals: set[str] = set()
    imports: set[tuple[str, str]] = set()
    seen_values: dict[str, tuple[str | int, ...]] = {}

    def visit(t: ir.FieldType, owner: str, extra: object) -> None:
        if isinstance(t, ir.ArrayType):
            visit(t.item, owner, extra)
            return
        if not isinstance(t, ir.EnumType):
            return
        if isinstance(extra, dict) and extra.get("python_literal"):
            literals.add(t.name)
            return
        user = extra.get("python_enum") if isinstance(extra, dict) else None
        if isinstance(user, dict) and t.name not in names:
            names[t.name] = str(user["name"])
            seen_values[t.name] = t.values
            imports.add((str(user["module"]), str(user["name"])))
            for member, value in user.get("members", []):
                members[(t.name, value)] = f"{user['name']}.{member}"
            return
        if t.name in names:
            if seen_values[t.name] != t.values:
                raise ir.SourceError(
                    entity.location,
                    f"enum {t.name!r} is declared twice with different values",
                    "give the two enumerations different names",
                )
            return
        class_name = t.name if t.name.isidentifier() else naming.pascal_case(t.name) or "Enum"
        while class_name in taken:
            class_name += "Value"
        taken.add(class_name)
        names[t.name] = class_name
        seen_values[t.name] = t.values
        plan = _enum_plan(class_name, t, owner)
        plans.append(plan)
        for member, value in plan.members:
            members[(t.name, value)] = f"{class_name}.{member}"

    for f in entity.fields:
        visit(f.type, f"{entity.name}.{f.name}", f.extra)
    for c in entity.commands:
        for p in c.params:
            visit(p.type, f"{entity.name}.{c.name}({p.name})", p.extra)
    return _Enums(tuple(plans), names, members, frozenset(literals), frozenset(imports))


def _enum_plan(class_name: str, t: ir.EnumType, owner: str) -> EnumPlan:
    if all(isinstance(v, str) for v in t.values):
        base = "enum.StrEnum"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in t.values):
        base = "enum.IntEnum"
    else:
        base = "enum.Enum"
    members: list[tuple[str, str | int]] = []
    used: set[str] = set()
    for value in t.values:
        member = naming.constant_name(str(value)) if isinstance(value, str) else f"V_{value}"
        member = member.replace("-", "MINUS_")
        if member.startswith("_") or member in {"MRO", "NAME", "VALUE"}:
            member = "V" + member
        while member in used:
            member += "_"
        used.add(member)
        members.append((member, value))
    return EnumPlan(class_name, base, tuple(members), f"Values of ``{owner}``.")


def module_name(entity_name: str) -> str:
    """Return the entity's module name: snake case, never a keyword (``Def`` -> ``def_``)."""
    name = naming.snake_case(entity_name) or "entity"
    return name + "_" if keyword.iskeyword(name) else name


def plan_entity(entity: ir.Entity) -> EntityPlan:
    """Decide the names and field groupings of an entity's module."""
    var = naming.snake_case(entity.name) or "entity"
    if var in naming.RESERVED_FIELD_NAMES or var in {"patch", "command"}:
        var += "_"
    const = naming.constant_name(entity.name)
    taken = {
        entity.name,
        f"{entity.name}Draft",
        f"{entity.name}Patch",
        f"{entity.name}Command",
        f"{entity.name}Touch",
    }
    primary = set(entity.primary_key)
    fields = tuple(_field_plan(f, const) for f in entity.fields)
    setters = _setter_names(entity.name, fields)
    taken.update(f"{entity.name}{s}" for s in setters.values())
    found = _enum_plans(entity, taken)
    enums = found.plans
    names = TypeNames(enums=found.names, members=found.members, literals=found.literals)
    draft = tuple(f for f in fields if not f.field.generated)
    # Required draft fields first, so a reader sees what must be given.
    draft = tuple(f for f in draft if f.field.required) + tuple(
        f for f in draft if not f.field.required
    )
    patch = tuple(
        f
        for f in fields
        if not f.field.immutable and f.name not in primary and not f.field.generated
    )
    generated = tuple(f for f in fields if f.field.generated)
    commands = _command_plans(entity, patch, const, setters)
    python_class = entity.extra.get("python_class") if entity.extra else None
    user_class = None
    if isinstance(python_class, dict):
        user_class = (
            str(python_class["module"]),
            str(python_class["name"]),
            str(python_class.get("flavour", "dataclass")),
        )
    draft_param = "draft" if all(f.name != "draft" for f in generated) else "draft_"
    return EntityPlan(
        entity=entity,
        module=module_name(entity.name),
        var=var,
        const=const,
        fields=fields,
        draft_fields=draft,
        patch_fields=patch,
        generated_fields=generated,
        enums=enums,
        commands=commands,
        names=names,
        user_class=user_class,
        user_imports=found.imports,
        entity_schema_const=f"_{const}_SCHEMA" if entity.extra.get("json_schema") else None,
        draft_param=draft_param,
    )


def _field_plan(f: ir.Field, const: str) -> FieldPlan:
    return FieldPlan(
        field=f,
        key=payload_key(f),
        schema_const=f"_{const}_{naming.constant_name(f.name)}_SCHEMA",
    )


def _setter_names(entity: str, fields: tuple[FieldPlan, ...]) -> dict[str, str]:
    """Return field name -> setter command name, unique even when names differ only in ``_``."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for fp in fields:
        command = f"Set{naming.pascal_case(fp.name) or 'Value'}"
        while command in used:
            command += "_"
        used.add(command)
        out[fp.name] = command
    return out


def _command_plans(
    entity: ir.Entity,
    patch: tuple[FieldPlan, ...],
    const: str,
    setters: dict[str, str],
) -> tuple[CommandPlan, ...]:
    plans: list[CommandPlan] = []
    by_class: dict[str, ir.Location | None] = {}
    for f in patch:
        command = setters[f.name]
        value = ir.Field(
            name="value",
            column="value",
            type=f.field.type,
            nullable=f.field.nullable,
            constraints=f.field.constraints,
        )
        plans.append(
            CommandPlan(
                class_name=f"{entity.name}{command}",
                command_name=command,
                payload_version=1,
                # The setter's value shares the field's schema constant.
                params=(FieldPlan(value, "value", f.schema_const),),
                doc=f"Set ``{entity.name}.{f.name}``.",
                kind="setter",
                target=f,
            )
        )
        by_class[plans[-1].class_name] = f.field.location
    plans.append(
        CommandPlan(
            class_name=f"{entity.name}Touch",
            command_name="Touch",
            payload_version=1,
            params=(),
            doc=f"Record an update of the ``{entity.name}`` without changing a field.",
            kind="touch",
        )
    )
    by_class[plans[-1].class_name] = None
    for c in entity.commands:
        command = naming.pascal_case(c.name) or "Command"
        class_name = f"{entity.name}{command}"
        if class_name in by_class:
            raise ir.SourceError(
                c.location or entity.location,
                f"command {c.name!r} of {entity.name} would be called {class_name}, "
                "which a generated command already uses",
                "rename the method",
            )
        params = tuple(_field_plan(p, f"{const}_{naming.constant_name(c.name)}") for p in c.params)
        plans.append(
            CommandPlan(
                class_name=class_name,
                command_name=command,
                payload_version=c.payload_version,
                params=params,
                doc=c.doc or f"Run ``{entity.name}.{c.name}``.",
                kind="user",
                method=c.name,
            )
        )
        by_class[class_name] = c.location
    return tuple(plans)
