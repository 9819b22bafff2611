"""Changes to one field: add, drop, rename, alter type, nullability, default, constraints."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import ClassVar

from persist_tool import ir
from persist_tool.diff.base import Change, _default_text, _field_summary, _value_text
from persist_tool.diff.classification import Classification
from persist_tool.diff.kinds import constraints_change, describe_type, type_change

__all__ = [
    "AddField",
    "AlterConstraints",
    "AlterDefault",
    "AlterFieldType",
    "AlterNullability",
    "DropField",
    "RenameField",
]


def _rename_hint(entity: str, name: str, candidates: tuple[str, ...], dropped: bool) -> str:
    """Advise declaring a rename between ``name`` and same-typed ``candidates``."""
    names = " or ".join(f"`{c}`" for c in candidates)
    if dropped:
        question = f"`{name}` to {names}"
        src, dst = name, candidates[0]
    else:
        question = f"{names} to `{name}`"
        src, dst = candidates[0], name
    return (
        f"did you mean to rename {question}? A drop and an add lose the stored values;"
        f' declare the rename with RenamedFrom("{src}") on `{dst}`'
        f" (x-persist-renamed-from in JSON Schema) or --rename {entity}.{src}={dst}"
    )


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True)
class AddField(Change):
    """Add a field (and its column)."""

    kind: ClassVar[str] = "add_field"
    entity: str
    definition: ir.Field
    backfill: ir.Default | None = dc_field(default=None, compare=False)
    """The value existing rows and records get, when the field has no default of its own."""
    rename_candidates: tuple[str, ...] = ()
    """Dropped fields of the same type: the user may have meant a rename."""

    @property
    def field_name(self) -> str:
        """Return the added field's name."""
        return self.definition.name

    @property
    def needs_value(self) -> bool:
        """Tell whether existing data needs a backfill value that nobody supplied yet."""
        return self.definition.required and self.backfill is None

    @property
    def classification(self) -> Classification:
        """Return needs_backfill for a required field without default, safe otherwise."""
        return Classification.NEEDS_BACKFILL if self.definition.required else Classification.SAFE

    @property
    def hint(self) -> str | None:
        """Return the rename hint, or how to supply a backfill value."""
        if self.rename_candidates:
            return _rename_hint(self.entity, self.field_name, self.rename_candidates, False)
        if self.needs_value:
            return (
                f"existing rows need a value: pass --default {self.entity}.{self.field_name}=VALUE"
                " or give the field a default in the source"
            )
        return None

    def describe(self) -> str:
        """Describe the change."""
        text = f"{self.entity}: add field `{self.field_name}` ({_field_summary(self.definition)})"
        if self.backfill is not None:
            text += f", existing data gets {_value_text(self.backfill)}"
        elif self.definition.required:
            text += ", existing data needs a backfill value"
        return text

    def invert(self) -> DropField:
        """Drop the field again."""
        return DropField(self.entity, self.definition, self.rename_candidates)


@dataclass(frozen=True, slots=True)
class DropField(Change):
    """Drop a field (and its column and stored values)."""

    kind: ClassVar[str] = "drop_field"
    entity: str
    definition: ir.Field
    rename_candidates: tuple[str, ...] = ()
    """Added fields of the same type: the user may have meant a rename."""

    @property
    def field_name(self) -> str:
        """Return the dropped field's name."""
        return self.definition.name

    @property
    def classification(self) -> Classification:
        """Return destructive: the stored values are lost."""
        return Classification.DESTRUCTIVE

    @property
    def hint(self) -> str | None:
        """Return the rename hint when a same-typed field was added."""
        if self.rename_candidates:
            return _rename_hint(self.entity, self.field_name, self.rename_candidates, True)
        return None

    def describe(self) -> str:
        """Describe the change."""
        return (
            f"{self.entity}: drop field `{self.field_name}` ({_field_summary(self.definition)});"
            " its stored values are lost"
        )

    def invert(self) -> AddField:
        """Add the field back (its values are not restored)."""
        return AddField(self.entity, self.definition, None, self.rename_candidates)


@dataclass(frozen=True, slots=True)
class RenameField(Change):
    """Rename a field, its column, or both (declared, never guessed)."""

    kind: ClassVar[str] = "rename_field"
    entity: str
    old_name: str
    new_name: str
    old_column: str
    new_column: str

    @property
    def field_name(self) -> str:
        """Return the field's new name."""
        return self.new_name

    @property
    def classification(self) -> Classification:
        """Return safe: values move with the rename."""
        return Classification.SAFE

    def describe(self) -> str:
        """Describe the change."""
        parts = []
        if self.old_name != self.new_name:
            parts.append(f"rename field `{self.old_name}` to `{self.new_name}`")
        if self.old_column != self.new_column:
            parts.append(f"rename column `{self.old_column}` to `{self.new_column}`")
        return f"{self.entity}: " + " and ".join(parts)

    def invert(self) -> RenameField:
        """Rename back."""
        return RenameField(
            self.entity, self.new_name, self.old_name, self.new_column, self.old_column
        )


@dataclass(frozen=True, slots=True)
class AlterFieldType(Change):
    """Change a field's type."""

    kind: ClassVar[str] = "alter_field_type"
    entity: str
    field: str
    before: ir.FieldType
    after: ir.FieldType

    @property
    def field_name(self) -> str:
        """Return the field's name."""
        return self.field

    @property
    def classification(self) -> Classification:
        """Return safe for a widening conversion, narrowing otherwise."""
        return type_change(self.before, self.after)

    def describe(self) -> str:
        """Describe the change."""
        how = "widen" if self.classification is Classification.SAFE else "narrow"
        return (
            f"{self.entity}: {how} `{self.field}` from {describe_type(self.before)}"
            f" to {describe_type(self.after)}"
        )

    @property
    def hint(self) -> str | None:
        """Warn that stored values must convert."""
        if self.classification is Classification.SAFE:
            return None
        return (
            "existing values may not convert: check the data, and review the conversion in"
            " the migration's SQL and migrate_state"
        )

    def invert(self) -> AlterFieldType:
        """Change the type back."""
        return AlterFieldType(self.entity, self.field, self.after, self.before)


@dataclass(frozen=True, slots=True)
class AlterNullability(Change):
    """Make a field nullable, or required."""

    kind: ClassVar[str] = "alter_nullability"
    entity: str
    field: str
    before: bool
    after: bool
    backfill: ir.Default | None = dc_field(default=None, compare=False)
    """The value stored NULLs get when the field becomes required."""

    @property
    def field_name(self) -> str:
        """Return the field's name."""
        return self.field

    @property
    def needs_value(self) -> bool:
        """Tell whether stored NULLs need a value that nobody supplied yet."""
        return self.before and not self.after and self.backfill is None

    @property
    def classification(self) -> Classification:
        """Return narrowing when the field becomes required, safe otherwise."""
        return Classification.SAFE if self.after else Classification.NARROWING

    @property
    def hint(self) -> str | None:
        """Explain how to fill stored NULLs."""
        if self.needs_value:
            return (
                f"stored NULLs need a value: pass --default {self.entity}.{self.field}=VALUE"
                " or give the field a default in the source"
            )
        return None

    def describe(self) -> str:
        """Describe the change."""
        if self.after:
            return f"{self.entity}: make `{self.field}` nullable"
        text = f"{self.entity}: make `{self.field}` required"
        if self.backfill is not None:
            text += f"; stored NULLs get {_value_text(self.backfill)}"
        return text

    def invert(self) -> AlterNullability:
        """Change nullability back."""
        return AlterNullability(self.entity, self.field, self.after, self.before)


@dataclass(frozen=True, slots=True)
class AlterDefault(Change):
    """Change how a missing value is made: the default and/or database generation."""

    kind: ClassVar[str] = "alter_default"
    entity: str
    field: str
    before: ir.Default | None
    after: ir.Default | None
    generated_before: bool = False
    generated_after: bool = False

    @property
    def field_name(self) -> str:
        """Return the field's name."""
        return self.field

    @property
    def classification(self) -> Classification:
        """Return safe: defaults only affect values written later."""
        return Classification.SAFE

    def describe(self) -> str:
        """Describe the change."""
        return (
            f"{self.entity}: change `{self.field}` from"
            f" {_default_text(self.before, self.generated_before)}"
            f" to {_default_text(self.after, self.generated_after)}"
        )

    def invert(self) -> AlterDefault:
        """Restore the previous default."""
        return AlterDefault(
            self.entity,
            self.field,
            self.after,
            self.before,
            self.generated_after,
            self.generated_before,
        )


@dataclass(frozen=True, slots=True)
class AlterConstraints(Change):
    """Change the constraints stored values must obey (length, range, pattern, ...)."""

    kind: ClassVar[str] = "alter_constraints"
    entity: str
    field: str
    before: ir.Constraints
    after: ir.Constraints

    @property
    def field_name(self) -> str:
        """Return the field's name."""
        return self.field

    @property
    def tightened(self) -> tuple[str, ...]:
        """Return the constraint names that became stricter."""
        return constraints_change(self.before, self.after)

    @property
    def classification(self) -> Classification:
        """Return narrowing when any constraint became stricter, safe otherwise."""
        return Classification.NARROWING if self.tightened else Classification.SAFE

    @property
    def hint(self) -> str | None:
        """Warn that stored values may violate the stricter constraints."""
        if not self.tightened:
            return None
        return "check that stored values obey the stricter " + ", ".join(self.tightened)

    def describe(self) -> str:
        """Describe the change."""
        before = ir.canonical_json(self.before.to_json())
        after = ir.canonical_json(self.after.to_json())
        how = "tighten" if self.tightened else "relax"
        return f"{self.entity}: {how} constraints of `{self.field}` from {before} to {after}"

    def invert(self) -> AlterConstraints:
        """Restore the previous constraints."""
        return AlterConstraints(self.entity, self.field, self.after, self.before)
