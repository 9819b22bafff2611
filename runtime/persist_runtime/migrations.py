"""Migration steps and plans: upgrade stored records, journaled commands and databases.

A ``MigrationStep`` takes one entity from one schema version to a later one: SQL per
dialect, ``migrate_state(record) -> record`` for stored JSON records (snapshots), and
command migrations for journaled commands. A ``MigrationPlan`` is a validated set of steps:
per entity a contiguous chain (no gaps, no duplicates, no overlaps, nothing past the current
version), checked when the plan is built so a broken chain fails at import, not halfway
through a restore.

* ``plan.upgrade_record(entity, record, from_version)`` runs the state upgrades from
  ``from_version`` to the current version. The chain for every starting version is composed
  once, so an upgrade is two dictionary lookups and one call: the chain's ``migrate_state``
  bodies fused into one function (``_migration_fuse``) when they can be, else the step
  calls in order. Once records have taken a fused chain, ``plan.upgrade_record`` is one
  function holding the bodies of the first such chains itself, so upgrading a record of
  those costs a single call.
* ``plan.upgrade_command(entity, name, payload, payload_version)`` maps a legacy command
  through every later step's command migrations.
* ``plan.apply(store)`` brings a database up to date (see ``persist_runtime.migration_db``).

Entities that change name or go away keep their history in the plan. A step that renames
an entity names the old one (``previous_entity``); records and journaled commands stored
under any earlier name are upgraded as the current entity (``plan.current_entity(name)``),
across several renames. A step that removes the entity (``drops_entity=True``) ends its
chain: nothing may follow it, the code needs no spec for the entity, and its records are
reported as dropped (``EntityDroppedError``) instead of upgraded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import CodeType, MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

from ._migration_chains import build_chains, in_chain_order
from ._migration_state import (
    FusedChains,
    FuseOnFirstCall,
    compose,
    fused_step,
    fusion_enabled,
    identity,
)
from .errors import MigrationError

if TYPE_CHECKING:
    from ._migration_fuse import Branch
    from .migration_db import AppliedStep, MigrationTarget
    from .spec import EntitySpec

__all__ = [
    "CommandMigration",
    "EntityDroppedError",
    "MigrationPlan",
    "MigrationPlanError",
    "MigrationStep",
    "RecordUpgrade",
    "StateMigration",
]

StateMigration: TypeAlias = Callable[[dict[str, Any]], dict[str, Any]]
"""Upgrade one stored record (the entity's fields as JSON values) by one step."""
CommandMigration: TypeAlias = Callable[[dict[str, Any]], tuple[str, dict[str, Any], int]]
"""Map a legacy command's payload to ``(new name, new payload, new payload version)``."""

_DIALECT_ALIASES = {"postgresql": "postgres", "pg": "postgres", "mariadb": "mysql"}


def canonical_dialect(name: str) -> str:
    """Return the dialect name the runtime uses (``postgresql`` -> ``postgres``)."""
    return _DIALECT_ALIASES.get(name, name)


@dataclass(frozen=True, slots=True)
class MigrationStep:
    """Take one entity from ``from_version`` to ``to_version``.

    * ``sql``: statements per dialect (``{"sqlite": [...], "postgres": [...], ...}``),
      run in order; a step without SQL changes only stored records.
    * ``migrate_state``: upgrades a stored record; ``None`` means records are unchanged.
      It may mutate and return its argument or build a new dict.
    * ``commands``: ``{(legacy name, payload_version): fn(payload) -> (name, payload,
      payload_version)}`` for commands this step changes or removes.
    * ``destructive``: the step loses data (``apply(allow_destructive=False)`` refuses it).
    * ``stub``: the step still needs a person to write it (``apply`` refuses it; upgrading
      a record through it raises ``MigrationError``).
    * ``table``: the entity's table after the step (default: from the plan's specs);
      ``previous_table`` when the step renames the table.
    * ``previous_entity``: the entity's name before the step, when the step renames the
      entity (``entity`` is the new name); records and commands stored under the old name
      are upgraded as this entity.
    * ``drops_entity``: the step removes the entity (and its table) for good; it must be
      the last step of its chain and the code need not define the entity any more.
    """

    entity: str
    from_version: int
    to_version: int
    sql: Mapping[str, Sequence[str]] = field(default_factory=dict)
    migrate_state: StateMigration | None = None
    commands: Mapping[tuple[str, int], CommandMigration] = field(default_factory=dict)
    destructive: bool = False
    stub: bool = False
    table: str | None = None
    previous_table: str | None = None
    description: str = ""
    previous_entity: str | None = None
    drops_entity: bool = False

    def __post_init__(self) -> None:
        sql = {canonical_dialect(d): tuple(s) for d, s in self.sql.items()}
        object.__setattr__(self, "sql", MappingProxyType(sql))
        object.__setattr__(self, "commands", MappingProxyType(dict(self.commands)))

    @property
    def label(self) -> str:
        """Return ``Entity v1 -> v2`` (for messages)."""
        return f"{self.entity} v{self.from_version} -> v{self.to_version}"

    def statements(self, dialect: str) -> tuple[str, ...]:
        """Return the step's statements for ``dialect`` (``MigrationError`` if it has none).

        A step without any SQL has no statements in every dialect; a step with SQL for some
        dialects but not this one cannot run here.
        """
        if not self.sql:
            return ()
        try:
            return tuple(self.sql[canonical_dialect(dialect)])
        except KeyError:
            have = ", ".join(sorted(self.sql))
            raise MigrationError(f"{self.label} has no SQL for {dialect} (it has {have})") from None

    def problems(self) -> list[str]:
        """Return what is wrong with the step on its own (types, versions, command keys)."""
        out: list[str] = []
        versions = (self.from_version, self.to_version)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in versions):
            return [f"{self.entity}: versions must be integers, got {versions!r}"]
        if self.from_version < 1:
            out.append(f"{self.label}: from_version must be at least 1")
        if self.to_version <= self.from_version:
            out.append(f"{self.label}: to_version must be greater than from_version")
        if self.migrate_state is not None and not callable(self.migrate_state):
            out.append(f"{self.label}: migrate_state is not callable")
        if self.previous_entity is not None and (
            not isinstance(self.previous_entity, str) or not self.previous_entity
        ):
            out.append(f"{self.label}: previous_entity must be a non-empty name")
        elif self.previous_entity == self.entity:
            out.append(f"{self.label}: previous_entity is the entity's own name")
        if self.drops_entity and self.previous_entity is not None:
            out.append(f"{self.label}: a step cannot rename the entity and drop it")
        for dialect, statements in self.sql.items():
            if any(not isinstance(s, str) or not s.strip() for s in statements):
                out.append(f"{self.label}: {dialect} SQL holds an empty or non-text statement")
        for key, fn in self.commands.items():
            ok = (
                isinstance(key, tuple)
                and len(key) == 2
                and isinstance(key[0], str)
                and isinstance(key[1], int)
                and key[1] >= 1
            )
            if not ok:
                out.append(f"{self.label}: command key {key!r} is not (name, payload_version)")
            if not callable(fn):
                out.append(f"{self.label}: command migration for {key!r} is not callable")
        return out


class EntityDroppedError(MigrationError):
    """A record or command belongs to an entity a migration step removed for good."""

    def __init__(self, entity: str, step: MigrationStep) -> None:
        self.entity = entity
        self.step = step
        now = "" if entity == step.entity else f" (later called {step.entity})"
        super().__init__(
            f"entity {entity}{now} no longer exists: {step.label} dropped it with its"
            f" table, so its records cannot be upgraded"
        )


class MigrationPlanError(MigrationError):
    """A plan's steps do not form valid chains; ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid migration plan ({len(self.problems)} problem(s)):\n{lines}")


def _code_of(fn: Callable[..., Any]) -> CodeType | None:
    code = getattr(fn, "__code__", None)
    return code if isinstance(code, CodeType) else None


class RecordUpgrade(Protocol):
    """What ``MigrationPlan.upgrade_record`` is: a function of entity, record and version."""

    def __call__(
        self, entity: str, record: Mapping[str, Any], from_version: int
    ) -> dict[str, Any]: ...


_INLINED_CHAINS = 8
"""How many chains ``upgrade_record`` holds inline at most (others take the lookups)."""

_UPGRADE_RECORD_DOC = """Return ``record`` (fields of ``entity`` at ``from_version``) upgraded.

``entity`` may be a name the entity had before a rename. Raises ``EntityDroppedError``
when the plan drops the entity, and ``MigrationError`` when there is no path (unknown
entity, a version older than the first step or newer than the code) or when a step fails
(naming it). The record returned is at the entity's current version.

An attribute holding a function, not a method: once records have taken a chain that
fuses, it is replaced by a function with that chain's bodies inline (up to eight chains),
so each record costs one call. Read it again after the first record to get that function.
"""


class MigrationPlan:
    """A validated set of migration steps, per entity a contiguous chain.

    ``current`` maps entity names to the schema version the code is at: a step past it is
    an error, and a chain must reach it. ``tables`` maps entity names to table names for
    steps that do not name theirs. ``MigrationPlan.for_specs(steps, specs)`` takes both
    from generated ``EntitySpec`` objects. ``MigrationPlanError`` lists every problem.

    Chains are keyed by the entity's current name: steps stored under a name the entity had
    before a rename belong to the renamed entity's chain. An entity whose chain ends in a
    ``drops_entity`` step needs no spec; its records are dropped, not upgraded.

    ``fuse`` (default: on, unless the environment variable ``PERSIST_RUNTIME_FUSE`` is
    ``0``, ``false``, ``no`` or ``off``; ``fuse=True``/``False`` overrides it) runs a chain
    of several ``migrate_state`` functions as one function holding their bodies, built on
    the chain's first record; a chain with a function that cannot be fused faithfully (see
    ``persist_runtime._migration_fuse``) calls the steps in turn. Results and errors are the
    same either way: a failure names its step, and the original error, chained, carries a
    note naming the file and line that raised it. Turn fusion off to stop at a breakpoint
    in a ``migrate_state``, to measure its coverage or profile it, or when functions are
    reloaded in place (the fused chain keeps the code it was built from).
    """

    __slots__ = {
        "_aliases": None,
        "_chains": None,
        "_codes": None,
        "_commands": None,
        "_current": None,
        "_dropped": None,
        "_fuse": None,
        "_fused": None,
        "_inlined": "The chains ``upgrade_record`` holds inline, with their steps.",
        "_steps": None,
        "_tables": None,
        "_targets": None,
        "_upgraders": None,
        "upgrade_record": _UPGRADE_RECORD_DOC,
    }

    upgrade_record: RecordUpgrade

    def __init__(
        self,
        steps: Iterable[MigrationStep],
        *,
        current: Mapping[str, int] | None = None,
        tables: Mapping[str, str] | None = None,
        fuse: bool | None = None,
    ) -> None:
        given = list(steps)
        if any(not isinstance(s, MigrationStep) for s in given):
            raise MigrationPlanError(["every step must be a MigrationStep"])
        problems = [p for s in given for p in s.problems()]
        built = build_chains(given, current, tables or {})
        problems += built.problems
        if problems:
            raise MigrationPlanError(problems)
        chains, self._aliases = built.chains, built.aliases
        self._steps = tuple(in_chain_order(given, chains, self._aliases))
        self._chains = {e: tuple(c) for e, c in chains.items()}
        self._current = dict(current or {})
        self._tables = dict(tables or {})
        self._dropped = {e: c[-1] for e, c in self._chains.items() if c[-1].drops_entity}
        self._targets = {
            e: self._current.get(e, c[-1].to_version if c else 0) for e, c in self._chains.items()
        }
        for e, v in self._current.items():
            self._targets.setdefault(e, v)
        self._fuse = fusion_enabled(fuse)
        self._fused: FusedChains = {}
        self._inlined: list[tuple[Branch, tuple[MigrationStep, ...]]] = []
        self.upgrade_record = self._upgrade_record
        self._upgraders = self._build_upgraders()
        # By identity: equal code objects of two files (the same body) are different steps.
        self._codes = {
            e: {
                id(code): (code, s)
                for s in c
                if s.migrate_state and (code := _code_of(s.migrate_state))
            }
            for e, c in self._chains.items()
        }
        self._commands = {
            e: tuple((s, s.commands) for s in c if s.commands) for e, c in self._chains.items()
        }

    @classmethod
    def for_specs(
        cls, steps: Iterable[MigrationStep], specs: Iterable[EntitySpec]
    ) -> MigrationPlan:
        """Build a plan checked against generated specs (current versions and tables).

        Every step must belong to an entity of ``specs`` (under its current name, or a name
        it had before a rename), except the steps of an entity whose chain ends in a step
        that drops it (``drops_entity=True``).
        """
        specs = list(specs)
        return cls(
            steps,
            current={s.name: s.schema_version for s in specs},
            tables={s.name: s.table for s in specs},
        )

    def _build_upgraders(self) -> dict[str, dict[int, StateMigration]]:
        """Compose, per entity and starting version, the state upgrade to the target.

        Names the entity had before a rename share the current name's table, so an upgrade
        under an old name costs the same two lookups. Dropped entities have none. A chain of
        several state functions starts as a stand-in that fuses it on its first record.
        """
        out: dict[str, dict[int, StateMigration]] = {}
        for entity, target in self._targets.items():
            if entity in self._dropped:
                continue
            chain = self._chains.get(entity, ())
            table: dict[int, StateMigration] = {target: identity}
            for i, step in enumerate(chain):
                stateful = tuple(s for s in chain[i:] if s.migrate_state is not None)
                if self._fuse and len(stateful) > 1:
                    fused = FuseOnFirstCall(
                        table,
                        step.from_version,
                        stateful,
                        self._fused,
                        partial(self._inline, entity),
                    )
                    table[step.from_version] = fused
                else:
                    fns = [s.migrate_state for s in stateful if s.migrate_state is not None]
                    table[step.from_version] = compose(fns)
            out[entity] = table
        for old, entity in self._aliases.items():
            if entity in out:
                out[old] = out[entity]
        return out

    # ------------------------------------------------------------------ inspection

    @property
    def steps(self) -> tuple[MigrationStep, ...]:
        """Return every step, each entity's in version order (the order ``apply`` uses)."""
        return self._steps

    @property
    def entities(self) -> tuple[str, ...]:
        """Return the entities the plan has steps for (by their current names)."""
        return tuple(self._chains)

    @property
    def aliases(self) -> Mapping[str, str]:
        """Return every name an entity had before a rename, mapped to its current name."""
        return MappingProxyType(self._aliases)

    @property
    def dropped(self) -> tuple[str, ...]:
        """Return the entities the plan drops (by their last names)."""
        return tuple(self._dropped)

    def current_entity(self, name: str) -> str:
        """Return the current name of the entity once called ``name`` (``name`` otherwise).

        Follows every rename in the plan: after ``A -> B`` and ``B -> C``, ``A`` and ``B``
        are both ``C``.
        """
        return self._aliases.get(name, name)

    def dropped_by(self, name: str) -> MigrationStep | None:
        """Return the step that dropped the entity once called ``name``, if one did."""
        return self._dropped.get(self._aliases.get(name, name))

    def steps_for(self, entity: str) -> tuple[MigrationStep, ...]:
        """Return the steps of ``entity`` (current or old name) in version order."""
        return self._chains.get(self._aliases.get(entity, entity), ())

    def target_version(self, entity: str) -> int:
        """Return the version records of ``entity`` (current or old name) are upgraded to."""
        try:
            return self._targets[self._aliases.get(entity, entity)]
        except KeyError:
            raise MigrationError(f"the migration plan knows no entity {entity!r}") from None

    def table_for(self, step: MigrationStep) -> str:
        """Return the table ``step`` migrates (its own, else the plan's ``tables``).

        A step without a table that comes before a step naming the table (or the table it
        had before a rename) takes that one.
        """
        if step.table is not None:
            return step.table
        entity = self._aliases.get(step.entity, step.entity)
        chain = self._chains.get(entity, ())
        later = [s for s in chain if s.from_version >= step.to_version]
        for s in later:
            found = s.previous_table or s.table
            if found is not None:
                return found
        table = self._tables.get(entity)
        if table is None:
            raise MigrationError(
                f"{step.label} names no table and the plan has no spec for {step.entity!r}:"
                " give the step table=... or build the plan with MigrationPlan.for_specs"
            )
        return table

    def with_tables(self, tables: Mapping[str, str]) -> MigrationPlan:
        """Return this plan also knowing ``tables`` (entity -> table) where it knew none."""
        merged = {**tables, **self._tables}
        if merged == self._tables:
            return self
        return MigrationPlan(
            self._steps, current=self._current or None, tables=merged, fuse=self._fuse
        )

    def has_path(self, entity: str, from_version: int) -> bool:
        """Tell whether records of ``entity`` at ``from_version`` can be upgraded."""
        return from_version in self._upgraders.get(entity, {})

    @property
    def stubs(self) -> tuple[MigrationStep, ...]:
        """Return the steps still waiting for a person to write them."""
        return tuple(s for s in self._steps if s.stub)

    # ------------------------------------------------------------------ records

    def _upgrade_record(
        self, entity: str, record: Mapping[str, Any], from_version: int
    ) -> dict[str, Any]:
        """Upgrade one record through the lookups (``upgrade_record`` before any inlining)."""
        try:
            upgrade = self._upgraders[entity][from_version]
        except KeyError:
            raise self._no_path(entity, from_version) from None
        try:
            return upgrade(record)  # type: ignore[arg-type]
        except Exception as error:
            raise self._step_failure(entity, from_version, error) from error

    def upgrade_records(
        self, entity: str, records: Iterable[Mapping[str, Any]], from_version: int
    ) -> list[dict[str, Any]]:
        """Upgrade many records of one entity and version (one lookup for all)."""
        try:
            upgrade = self._upgraders[entity][from_version]
        except KeyError:
            raise self._no_path(entity, from_version) from None
        if isinstance(upgrade, FuseOnFirstCall):
            upgrade = upgrade.resolve()
        try:
            return [upgrade(r) for r in records]  # type: ignore[arg-type]
        except Exception as error:
            raise self._step_failure(entity, from_version, error) from error

    def _inline(self, entity: str, version: int, steps: tuple[MigrationStep, ...]) -> None:
        """Make ``upgrade_record`` hold the chain of ``entity`` from ``version`` inline too.

        Called when that chain has fused. The new function holds every chain inlined so
        far, up to ``_INLINED_CHAINS``; a chain the dispatcher cannot hold is left to the
        lookups.
        """
        if len(self._inlined) >= _INLINED_CHAINS or any(
            b.version == version and entity in b.names for b, _ in self._inlined
        ):
            return
        from ._migration_fuse import Branch, fuse_dispatch

        names = (entity, *(old for old, new in self._aliases.items() if new == entity))
        fns = tuple(s.migrate_state for s in steps if s.migrate_state is not None)
        label = f"{entity} v{version} -> v{steps[-1].to_version}"
        inlined = [*self._inlined, (Branch(names, version, fns, label), steps)]
        try:
            chain = fuse_dispatch(
                [b for b, _ in inlined], self._upgrade_record, self._step_failure, "plan"
            )
        except Exception:  # inlining is an optimisation: never let it fail an upgrade
            return
        self._inlined = inlined
        self._fused[id(chain.code)] = (chain, tuple(s for _, c in inlined for s in c))
        self.upgrade_record = cast(RecordUpgrade, chain.function)

    def _no_path(self, entity: str, from_version: int) -> MigrationError:
        name = self._aliases.get(entity, entity)
        dropped = self._dropped.get(name)
        if dropped is not None:
            return EntityDroppedError(entity, dropped)
        if name not in self._targets:
            return MigrationError(f"the migration plan knows no entity {entity!r}")
        shown = entity if name == entity else f"{entity} (now {name})"
        target = self._targets[name]
        if from_version > target:
            return MigrationError(
                f"{shown} record at schema version {from_version} is newer than the code"
                f" (version {target}): upgrade the code first"
            )
        starts = sorted(self._upgraders[name])
        return MigrationError(
            f"no migration path for {shown} from schema version {from_version} to {target}"
            f" (steps start at versions {', '.join(map(str, starts))})"
        )

    def _step_failure(self, entity: str, from_version: int, error: Exception) -> MigrationError:
        step = self._failed_step(entity, error)
        where = step.label if step is not None else f"{entity} from v{from_version}"
        if isinstance(error, MigrationError) and step is None:
            return error
        if isinstance(error, NotImplementedError) or (step is not None and step.stub):
            return MigrationError(f"{where}: the state migration is not written yet: {error}")
        return MigrationError(f"{where}: migrate_state failed: {type(error).__name__}: {error}")

    def _failed_step(self, entity: str, error: Exception) -> MigrationStep | None:
        """Return the step whose ``migrate_state`` raised ``error`` (outermost frame first)."""
        codes = self._codes.get(self._aliases.get(entity, entity), {})
        tb = error.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            found = codes.get(id(code))
            if found is not None and found[0] is code:
                return found[1]
            fused = self._fused.get(id(code))
            if fused is not None and fused[0].code is code:
                return fused_step(*fused, tb, error)
            tb = tb.tb_next
        return None

    # ------------------------------------------------------------------ commands

    def upgrade_command(
        self,
        entity: str,
        name: str,
        payload: Mapping[str, Any],
        payload_version: int,
        *,
        schema_version: int | None = None,
    ) -> tuple[str, dict[str, Any], int]:
        """Map a journaled command through every later step's command migrations.

        Returns ``(name, payload, payload_version)``, unchanged when no step maps it.
        ``entity`` may be a name the entity had before a rename; a dropped entity raises
        ``EntityDroppedError``.
        ``schema_version`` (the journal record's) skips the steps before it. Within a step,
        migrations chain (``(A, 1) -> (A, 2) -> (B, 1)``) until none applies.
        """
        resolved = self._aliases.get(entity, entity)
        dropped = self._dropped.get(resolved)
        if dropped is not None:
            raise EntityDroppedError(entity, dropped)
        current: tuple[str, dict[str, Any], int] = (
            name,
            dict(payload),
            payload_version,
        )
        for step, migrations in self._commands.get(resolved, ()):
            if schema_version is not None and step.from_version < schema_version:
                continue
            seen: set[tuple[str, int]] = set()
            while (key := (current[0], current[2])) in migrations:
                if key in seen:
                    raise MigrationError(f"{step.label}: command migrations loop at {key!r}")
                seen.add(key)
                try:
                    result = migrations[key](current[1])
                except Exception as error:
                    raise MigrationError(
                        f"{step.label}: command migration for {key[0]!r} payload version"
                        f" {key[1]} failed: {type(error).__name__}: {error}"
                    ) from error
                current = _command_result(step, key, result)
        return current

    # ------------------------------------------------------------------ databases

    def pending(
        self, store: Any, *, baseline: Mapping[str, int] | None = None
    ) -> list[MigrationStep]:
        """Return the steps ``apply`` would run on ``store``, in order (nothing is changed)."""
        from .migration_db import pending_steps

        return pending_steps(self, store, baseline=baseline)

    def apply(
        self,
        store: MigrationTarget | Any,
        *,
        baseline: Mapping[str, int] | None = None,
        allow_destructive: bool = True,
    ) -> list[AppliedStep]:
        """Run every pending step's SQL on ``store`` and record it; return what ran.

        See ``persist_runtime.migration_db.apply_plan`` for transactions, the registry,
        resuming on MariaDB/MySQL and ``baseline``.
        """
        from .migration_db import apply_plan

        return apply_plan(self, store, baseline=baseline, allow_destructive=allow_destructive)

    def __repr__(self) -> str:
        return f"MigrationPlan({len(self._steps)} steps for {', '.join(self._chains) or 'none'})"


def _command_result(step: MigrationStep, key: tuple[str, int], result: Any) -> Any:
    ok = (
        isinstance(result, tuple)
        and len(result) == 3
        and isinstance(result[0], str)
        and isinstance(result[1], dict)
        and isinstance(result[2], int)
    )
    if not ok:
        raise MigrationError(
            f"{step.label}: command migration for {key!r} must return"
            f" (name, payload dict, payload_version), got {result!r}"
        )
    return result
