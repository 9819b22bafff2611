"""Group migration steps into per-entity chains and say what is wrong with them.

A chain is every step of one entity in version order, keyed by the entity's *current* name:
a step that renames the entity (``previous_entity``) joins the steps stored under the old
name to the new name's chain, across several renames. ``build_chains`` returns the chains,
the map of old names to current ones, and every problem found (gaps, overlaps, steps past
the code, renames that clash or loop, steps after a drop), so that ``MigrationPlan`` can
report them all at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .migrations import MigrationStep

__all__ = ["Chains", "build_chains", "in_chain_order"]


@dataclass(frozen=True, slots=True)
class Chains:
    """Steps grouped per current entity name, old names, and what is wrong with them."""

    chains: dict[str, list[MigrationStep]]
    """Current entity name -> its steps in version order."""
    aliases: dict[str, str]
    """Every name an entity had before a rename -> its current name."""
    problems: list[str]


def _renames(
    steps: Sequence[MigrationStep], current: Mapping[str, int] | None
) -> tuple[dict[str, str], list[str]]:
    """Return old name -> current name for every renamed entity, and the clashes found."""
    renamed: dict[str, MigrationStep] = {}
    problems: list[str] = []
    for s in steps:
        old = s.previous_entity
        if not isinstance(old, str) or not old or old == s.entity:
            continue  # reported by the step's own problems
        earlier = renamed.get(old)
        if earlier is not None:
            if earlier.entity != s.entity:
                problems.append(
                    f"{s.label}: {old!r} is renamed twice (to {earlier.entity!r} by"
                    f" {earlier.label}, to {s.entity!r} here)"
                )
            continue
        renamed[old] = s
        if current is not None and old in current:
            problems.append(
                f"{s.label}: renames {old!r} to {s.entity!r}, but the code still defines"
                f" an entity {old!r}"
            )
    aliases: dict[str, str] = {}
    for old in renamed:
        name, seen = old, [old]
        while name in renamed:
            name = renamed[name].entity
            if name in seen:
                loop = " -> ".join([*seen, name])
                problems.append(f"{renamed[old].label}: entity renames go round in a loop ({loop})")
                break
            seen.append(name)
        else:
            aliases[old] = name
    return aliases, problems


def _chain_problems(entity: str, chain: Sequence[MigrationStep], current: int | None) -> list[str]:
    """Return what breaks ``entity``'s chain (sorted by version): gaps, overlaps, overshoot,
    names that do not follow the renames, and steps after the entity was dropped."""
    out: list[str] = []
    for prev, step in itertools.pairwise(chain):
        if step.from_version == prev.from_version:
            out.append(
                f"{entity}: two steps start at v{step.from_version} ({prev.label}, {step.label})"
            )
        elif step.from_version < prev.to_version:
            out.append(f"{entity}: {prev.label} and {step.label} overlap")
        elif step.from_version > prev.to_version:
            out.append(
                f"{entity}: gap between v{prev.to_version} and v{step.from_version}:"
                f" no step from v{prev.to_version}"
            )
        if prev.drops_entity:
            out.append(f"{entity}: {step.label} follows {prev.label}, which drops the entity")
        elif (step.previous_entity or step.entity) != prev.entity:
            before = step.previous_entity or step.entity
            out.append(
                f"{entity}: {step.label} starts from entity {before!r}, but after {prev.label}"
                f" the entity is called {prev.entity!r}"
            )
    if current is not None and chain:
        past = [s for s in chain if s.to_version > current]
        out += [f"{s.label}: goes past the current version {current}" for s in past]
        last = chain[-1]
        if not past and last.to_version < current:
            out.append(
                f"{entity}: gap between v{last.to_version} and the current version {current}:"
                f" no step from v{last.to_version}"
            )
    return out


def _code_problems(
    entity: str,
    chain: Sequence[MigrationStep],
    current: Mapping[str, int],
    tables: Mapping[str, str],
) -> list[str]:
    """Return where the chain and the code's entities disagree (``for_specs`` plans)."""
    dropped = chain[-1].drops_entity
    if entity in current:
        if dropped:
            return [f"{chain[-1].label}: drops {entity!r}, but the code still defines it"]
        return []
    if not dropped:
        return [
            f"{s.label}: the code knows no entity {s.entity!r} (a step that removes an"
            " entity needs drops_entity=True)"
            for s in chain
        ]
    if entity in tables:
        return []
    last = chain[-1]
    if last.table is None:
        return [
            f"{last.label}: the code no longer defines {entity!r}, so the step must name the"
            " table it drops (table=...)"
        ]
    return []


def build_chains(
    steps: Sequence[MigrationStep],
    current: Mapping[str, int] | None,
    tables: Mapping[str, str],
) -> Chains:
    """Group ``steps`` per current entity name and collect every problem of the chains."""
    aliases, problems = _renames(steps, current)
    chains: dict[str, list[MigrationStep]] = {}
    for s in steps:
        chains.setdefault(aliases.get(s.entity, s.entity), []).append(s)
    for entity, chain in chains.items():
        chain.sort(key=lambda s: (s.from_version, s.to_version))
        problems += _chain_problems(entity, chain, (current or {}).get(entity))
    if current is not None:
        for entity, chain in chains.items():
            problems += _code_problems(entity, chain, current, tables)
    return Chains(chains, aliases, problems)


def in_chain_order(
    given: Sequence[MigrationStep],
    chains: Mapping[str, Sequence[MigrationStep]],
    aliases: Mapping[str, str],
) -> list[MigrationStep]:
    """Keep the given interleaving of entities but put each entity's steps in version order."""
    queues = {e: iter(c) for e, c in chains.items()}
    return [next(queues[aliases.get(s.entity, s.entity)]) for s in given]
