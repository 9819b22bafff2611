"""Compose the state upgrade of a chain of migration steps (``MigrationPlan``'s records).

A chain's ``migrate_state`` functions run as one: their bodies fused into one function
(``_migration_fuse``) when they can be, else called in order with as few extra calls as
possible. Fusing is deferred to a chain's first record (``FuseOnFirstCall``), and a failure
inside fused code is traced back to the step and line its author wrote (``fused_step``).
The fusing code is imported then too, not with the runtime: most programs never upgrade a
record.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ._migration_fuse import FusedChain
    from .migrations import MigrationStep, StateMigration

__all__ = [
    "ENVIRONMENT_SWITCH",
    "FuseOnFirstCall",
    "FusedChains",
    "compose",
    "fused_step",
    "fusion_enabled",
    "identity",
]

ENVIRONMENT_SWITCH = "PERSIST_RUNTIME_FUSE"
"""Environment variable: ``0`` (or ``false``, ``no``, ``off``) turns fusion off."""
_OFF_WORDS = frozenset({"0", "false", "no", "off"})


def fusion_enabled(fuse: bool | None = None) -> bool:
    """Return ``fuse``, or when it is ``None`` whether the environment leaves fusion on."""
    if fuse is not None:
        return fuse
    return os.environ.get(ENVIRONMENT_SWITCH, "1").strip().lower() not in _OFF_WORDS


def identity(record: dict[str, Any]) -> dict[str, Any]:
    return record


def compose(fns: Sequence[StateMigration]) -> StateMigration:
    """Return one function running ``fns`` in order, with as few extra calls as possible."""
    if not fns:
        return identity
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        f1, f2 = fns
        return lambda r: f2(f1(r))
    if len(fns) == 3:
        f1, f2, f3 = fns
        return lambda r: f3(f2(f1(r)))
    chain = tuple(fns)

    def chained(r: dict[str, Any]) -> dict[str, Any]:
        for fn in chain:
            r = fn(r)
        return r

    return chained


FusedChains: TypeAlias = dict[int, tuple["FusedChain", tuple["MigrationStep", ...]]]
"""A plan's fused chains by the ``id`` of their code, with the steps whose bodies they run.

Code objects are keyed by identity: two of them compare equal when only their files differ.
"""


class FuseOnFirstCall:
    """Stand in for a chain's upgrade until its first call, then put the real one in place.

    The real upgrade is the chain's bodies fused into one function, or the steps composed
    when they cannot be fused. Fusing reads and compiles source, so it is done for the
    chains records take, on their first record, not for every chain when a plan is built.
    ``on_fused(version, steps)`` is told when the chain has fused.
    """

    __slots__ = ("_fused", "_on_fused", "_steps", "_table", "_upgrade", "_version")

    def __init__(
        self,
        table: dict[int, StateMigration],
        version: int,
        steps: tuple[MigrationStep, ...],
        fused: FusedChains,
        on_fused: Callable[[int, tuple[MigrationStep, ...]], None] | None = None,
    ) -> None:
        self._table, self._version, self._steps, self._fused = table, version, steps, fused
        self._on_fused = on_fused
        self._upgrade: StateMigration | None = None

    def resolve(self) -> StateMigration:
        """Return the real upgrade (fusing it the first time) and put it in the table."""
        upgrade = self._upgrade
        if upgrade is None:
            steps = self._steps
            label = f"{steps[0].entity} v{steps[0].from_version} -> v{steps[-1].to_version}"
            fns = [s.migrate_state for s in steps if s.migrate_state is not None]
            from ._migration_fuse import fuse_chain

            try:
                chain = fuse_chain(fns, label)
            except Exception:  # fusion is an optimisation: never let it fail an upgrade
                chain = None
            if chain is None:
                upgrade = compose(fns)
            else:
                self._fused[id(chain.code)] = (chain, steps)
                upgrade = chain.function
            self._upgrade = upgrade
            self._table[self._version] = upgrade
            if chain is not None and self._on_fused is not None:
                self._on_fused(self._version, steps)
        return upgrade

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.resolve()(record)


def fused_step(
    chain: FusedChain, steps: tuple[MigrationStep, ...], tb: TracebackType, error: Exception
) -> MigrationStep | None:
    """Return the step whose body raised ``error`` in ``chain`` and note where on ``error``.

    The note names the file and line the author wrote, since the traceback shows the fused
    function; a renamed local in an ``UnboundLocalError`` gets its written name back.
    """
    origin = chain.origin(tb.tb_lineno)
    if origin is None:
        return None
    index, filename, line = origin
    step = steps[index]
    if tb.tb_next is None:
        from ._migration_fuse import restore_local_names

        restore_local_names(error)
    error.add_note(
        f"{step.label}: raised at {filename}:{line} (the chain's migrate_state bodies ran"
        f" fused into one function; {ENVIRONMENT_SWITCH}=0 runs each step's own)"
    )
    return step
