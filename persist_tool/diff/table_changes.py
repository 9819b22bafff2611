"""Changes to keys, indexes, whole entities and user-declared commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from persist_tool import ir
from persist_tool.diff.base import Change, _cols, _index_text
from persist_tool.diff.classification import Classification

__all__ = [
    "AddCommand",
    "AddEntity",
    "AddIndex",
    "AddUnique",
    "AlterCommand",
    "AlterPrimaryKey",
    "DropCommand",
    "DropEntity",
    "DropIndex",
    "DropUnique",
    "RenameEntity",
]


# --------------------------------------------------------------------------- keys, indexes


@dataclass(frozen=True, slots=True)
class AlterPrimaryKey(Change):
    """Change which fields make up the primary key."""

    kind: ClassVar[str] = "alter_primary_key"
    entity: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def classification(self) -> Classification:
        """Return narrowing: existing rows may not be unique under the new key."""
        return Classification.NARROWING

    @property
    def hint(self) -> str | None:
        """Warn about existing duplicates and references."""
        return "existing rows must be unique under the new key; foreign keys may need updating"

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: change primary key from {_cols(self.before)} to {_cols(self.after)}"

    def invert(self) -> AlterPrimaryKey:
        """Restore the previous key."""
        return AlterPrimaryKey(self.entity, self.after, self.before)


@dataclass(frozen=True, slots=True)
class AddUnique(Change):
    """Add a unique constraint over fields."""

    kind: ClassVar[str] = "add_unique"
    entity: str
    columns: tuple[str, ...]

    @property
    def classification(self) -> Classification:
        """Return narrowing: existing data may hold duplicates."""
        return Classification.NARROWING

    @property
    def hint(self) -> str | None:
        """Warn about duplicates."""
        return f"the migration fails if stored rows repeat {_cols(self.columns)}; check first"

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: add unique constraint on {_cols(self.columns)}"

    def invert(self) -> DropUnique:
        """Drop the constraint again."""
        return DropUnique(self.entity, self.columns)


@dataclass(frozen=True, slots=True)
class DropUnique(Change):
    """Drop a unique constraint."""

    kind: ClassVar[str] = "drop_unique"
    entity: str
    columns: tuple[str, ...]

    @property
    def classification(self) -> Classification:
        """Return safe: fewer rules for stored data."""
        return Classification.SAFE

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: drop unique constraint on {_cols(self.columns)}"

    def invert(self) -> AddUnique:
        """Add the constraint back."""
        return AddUnique(self.entity, self.columns)


@dataclass(frozen=True, slots=True)
class AddIndex(Change):
    """Add a secondary index."""

    kind: ClassVar[str] = "add_index"
    entity: str
    index: ir.Index

    @property
    def classification(self) -> Classification:
        """Return safe, or narrowing for a unique index over existing data."""
        return Classification.NARROWING if self.index.unique else Classification.SAFE

    @property
    def hint(self) -> str | None:
        """Warn about duplicates for unique indexes."""
        if self.index.unique:
            return (
                f"the migration fails if stored rows repeat {_cols(self.index.columns)};"
                " check first"
            )
        return None

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: add {_index_text(self.index)}"

    def invert(self) -> DropIndex:
        """Drop the index again."""
        return DropIndex(self.entity, self.index)


@dataclass(frozen=True, slots=True)
class DropIndex(Change):
    """Drop a secondary index."""

    kind: ClassVar[str] = "drop_index"
    entity: str
    index: ir.Index

    @property
    def classification(self) -> Classification:
        """Return safe: no data is lost."""
        return Classification.SAFE

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: drop {_index_text(self.index)}"

    def invert(self) -> AddIndex:
        """Add the index back."""
        return AddIndex(self.entity, self.index)


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class AddEntity(Change):
    """Add an entity (and its table)."""

    kind: ClassVar[str] = "add_entity"
    definition: ir.Entity
    rename_candidates: tuple[str, ...] = ()
    """Dropped entities with the same fields: the user may have meant a rename."""

    @property
    def entity(self) -> str:  # type: ignore[override]
        """Return the added entity's name."""
        return self.definition.name

    @property
    def classification(self) -> Classification:
        """Return safe: a new table holds no data yet."""
        return Classification.SAFE

    @property
    def hint(self) -> str | None:
        """Return the rename hint when a same-shaped entity was dropped."""
        if not self.rename_candidates:
            return None
        names = " or ".join(f"`{c}`" for c in self.rename_candidates)
        return (
            f"did you mean to rename {names} to `{self.entity}`? Pass the rename explicitly"
            " so the table and its rows are kept"
        )

    def describe(self) -> str:
        """Describe the change."""
        return f"add entity `{self.entity}` (table `{self.definition.table}`)"

    def invert(self) -> DropEntity:
        """Drop the entity again."""
        return DropEntity(self.definition, self.rename_candidates)


@dataclass(frozen=True, slots=True)
class DropEntity(Change):
    """Drop an entity (and its table and rows)."""

    kind: ClassVar[str] = "drop_entity"
    definition: ir.Entity
    rename_candidates: tuple[str, ...] = ()
    """Added entities with the same fields: the user may have meant a rename."""

    @property
    def entity(self) -> str:  # type: ignore[override]
        """Return the dropped entity's name."""
        return self.definition.name

    @property
    def classification(self) -> Classification:
        """Return destructive: the table and its rows are lost."""
        return Classification.DESTRUCTIVE

    @property
    def hint(self) -> str | None:
        """Return the rename hint when a same-shaped entity was added."""
        if not self.rename_candidates:
            return None
        names = " or ".join(f"`{c}`" for c in self.rename_candidates)
        return (
            f"did you mean to rename `{self.entity}` to {names}? Pass the rename explicitly"
            " so the table and its rows are kept"
        )

    def describe(self) -> str:
        """Describe the change."""
        return f"drop entity `{self.entity}` (table `{self.definition.table}`); its rows are lost"

    def invert(self) -> AddEntity:
        """Add the entity back (its rows are not restored)."""
        return AddEntity(self.definition, self.rename_candidates)


@dataclass(frozen=True, slots=True)
class RenameEntity(Change):
    """Rename an entity, its table, or both."""

    kind: ClassVar[str] = "rename_entity"
    old_name: str
    new_name: str
    old_table: str
    new_table: str

    @property
    def entity(self) -> str:  # type: ignore[override]
        """Return the entity's new name."""
        return self.new_name

    @property
    def classification(self) -> Classification:
        """Return safe: rows move with the table."""
        return Classification.SAFE

    def describe(self) -> str:
        """Describe the change."""
        parts = []
        if self.old_name != self.new_name:
            parts.append(f"rename entity `{self.old_name}` to `{self.new_name}`")
        if self.old_table != self.new_table:
            parts.append(f"rename table `{self.old_table}` to `{self.new_table}`")
        return " and ".join(parts)

    def invert(self) -> RenameEntity:
        """Rename back."""
        return RenameEntity(self.new_name, self.old_name, self.new_table, self.old_table)


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class AddCommand(Change):
    """Add a user-declared command (journals only; no SQL)."""

    kind: ClassVar[str] = "add_command"
    touches_table: ClassVar[bool] = False
    entity: str
    command: ir.CommandDef

    @property
    def classification(self) -> Classification:
        """Return safe: old journals never hold it."""
        return Classification.SAFE

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: add command `{self.command.name}`"

    def invert(self) -> DropCommand:
        """Drop the command again."""
        return DropCommand(self.entity, self.command)


@dataclass(frozen=True, slots=True)
class DropCommand(Change):
    """Drop a user-declared command: journaled uses need a command migration."""

    kind: ClassVar[str] = "drop_command"
    touches_table: ClassVar[bool] = False
    entity: str
    command: ir.CommandDef

    @property
    def classification(self) -> Classification:
        """Return destructive: journaled commands of this name can no longer replay."""
        return Classification.DESTRUCTIVE

    @property
    def hint(self) -> str | None:
        """Point at command migrations."""
        return (
            f"journals holding `{self.command.name}` need a command migration mapping it to"
            " a current command"
        )

    def describe(self) -> str:
        """Describe the change."""
        return f"{self.entity}: drop command `{self.command.name}`"

    def invert(self) -> AddCommand:
        """Add the command back."""
        return AddCommand(self.entity, self.command)


@dataclass(frozen=True, slots=True)
class AlterCommand(Change):
    """Change a command's parameters or payload version."""

    kind: ClassVar[str] = "alter_command"
    touches_table: ClassVar[bool] = False
    entity: str
    before: ir.CommandDef
    after: ir.CommandDef

    @property
    def classification(self) -> Classification:
        """Return narrowing: journaled payloads may no longer validate."""
        return Classification.NARROWING

    @property
    def hint(self) -> str | None:
        """Point at payload versions and command migrations."""
        if self.after.payload_version <= self.before.payload_version:
            return (
                f"bump the payload version of `{self.after.name}` and add a command migration"
                f" from payload version {self.before.payload_version}"
            )
        return (
            f"journals holding `{self.before.name}` payload version"
            f" {self.before.payload_version} need a command migration"
        )

    def describe(self) -> str:
        """Describe the change."""
        return (
            f"{self.entity}: change command `{self.after.name}` (payload version"
            f" {self.before.payload_version} -> {self.after.payload_version})"
        )

    def invert(self) -> AlterCommand:
        """Restore the previous command."""
        return AlterCommand(self.entity, self.after, self.before)
