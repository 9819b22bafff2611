"""Commands on stored entities: the bodies of ``Store.execute`` and ``Store.patch``.

Load -> check ``expected_version`` -> reduce -> guarded version bump -> ``UPDATE`` of the
changed columns -> journal row, in one transaction; idempotency keys replay the first result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .codecs import dumps
from .errors import ConflictError, Issue, PersistError, ValidationError
from .journal import PATCH_COMMAND, utc_now_text
from .store_plan import TablePlan, canonical_json

if TYPE_CHECKING:
    from .store import SpecRef, Store

__all__ = [
    "CommandResult",
    "IdempotencyError",
    "bump_version",
    "execute",
    "patch",
    "stale_error",
]


class IdempotencyError(PersistError, ValueError):
    """An idempotency key was reused for a different request (entity, id, command or payload)."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What ``execute``/``patch`` did: the entity after the command and its new version.

    ``replayed`` is true when an idempotency key matched an earlier request: ``entity`` and
    ``version`` are then that request's result and nothing was applied again.
    """

    entity: Any
    version: int
    changed: frozenset[str]
    seq: int | None
    replayed: bool = False


def execute(
    store: Store,
    ref: SpecRef,
    id: object,
    command: object,
    *,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> CommandResult:
    """Apply ``command`` to the entity with key ``id`` in one transaction (module doc).

    ``command`` is a generated command object or an envelope
    ``{"command", "payload", "payload_version"}`` (parsed by the spec). Raise
    ``NotFoundError``, ``ValidationError`` (bad payload or a command the entity does not
    have), ``ConflictError`` (stale ``expected_version`` or a concurrent writer won) or
    ``IdempotencyError`` (key reused for another request).
    """
    plan = store.plan(ref)
    spec = plan.spec
    if isinstance(command, Mapping):
        command = spec.parse_command(command)
    command_spec = plan.command_types.get(type(command))
    if command_spec is None:
        known = ", ".join(c.name for c in spec.commands)
        raise ValidationError(
            [
                Issue(
                    "/command",
                    f"{spec.name} has no command {type(command).__name__}" f" (commands: {known})",
                )
            ],
            entity=spec.name,
        )
    return _apply(
        store,
        plan,
        id,
        command_spec.name,
        command_spec.payload_version,
        command.to_payload(),  # type: ignore[attr-defined]
        lambda entity: spec.apply_command(entity, command),
        expected_version,
        idempotency_key,
    )


def patch(
    store: Store,
    ref: SpecRef,
    id: object,
    patch: object,
    *,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> CommandResult:
    """Apply a ``Patch`` (or patch payload) like a command, journaled as ``"Patch"``."""
    plan = store.plan(ref)
    spec = plan.spec
    if isinstance(patch, Mapping):
        patch = spec.patch_type.from_payload(patch)
    elif not isinstance(patch, spec.patch_type):
        raise ValidationError(
            [
                Issue(
                    "",
                    f"expected a {spec.patch_type.__name__} or a payload object,"
                    f" got {type(patch).__name__}",
                )
            ],
            entity=spec.name,
        )
    return _apply(
        store,
        plan,
        id,
        PATCH_COMMAND,
        1,
        patch.to_payload(),  # type: ignore[attr-defined]
        lambda entity: spec.apply_patch(entity, patch),
        expected_version,
        idempotency_key,
    )


def _apply(
    store: Store,
    plan: TablePlan,
    id: object,
    command_name: str,
    payload_version: int,
    payload: Mapping[str, Any],
    reduce: Any,
    expected_version: int | None,
    idempotency_key: str | None,
) -> CommandResult:
    spec = plan.spec
    key = plan.key_values(id)
    key_text = plan.key_text(key)
    payload_text = canonical_json(payload)
    with store.transaction() as cur:
        if idempotency_key is not None:
            replay = _replay(
                store,
                cur,
                plan,
                key_text,
                command_name,
                payload_version,
                payload_text,
                idempotency_key,
            )
            if replay is not None:
                return replay
        found = store._load(cur, plan, key, key_text)
        if found is None:
            raise store._not_found(plan, key)
        entity, stored = found
        version = stored or 1
        if expected_version is not None and expected_version != version:
            raise stale_error(plan, key, expected_version, version)
        changed = frozenset(reduce(entity))
        bump_version(store, cur, plan, key, key_text, version, stored is not None)
        if changed:
            sql, indexes = plan.update(changed)
            values = spec.to_values(entity)
            params = [plan.encode_field(i, values[i]) for i in indexes]
            cur.execute(sql, (*params, *plan.encode_key(key)))
            if cur.rowcount == 0:
                cur.execute(plan.exists_sql, plan.encode_key(key))
                if not cur.fetchall():
                    raise ConflictError(
                        f"{spec.name} {plan.key_json(key)!r} was deleted concurrently"
                    )
        result = (
            dumps({"fields": spec.to_record(entity), "changed": sorted(changed)})
            if idempotency_key is not None
            else None
        )
        params13 = (
            utc_now_text(),
            spec.name,
            spec.table,
            key_text,
            dumps(plan.key_json(key)),
            spec.schema_version,
            command_name,
            payload_version,
            payload_text,
            version,
            version + 1,
            idempotency_key,
            result,
        )
        try:
            cur.execute(store._sql_journal_insert, params13)
        except Exception as error:
            if idempotency_key is not None and _is_integrity_error(error):
                raise ConflictError(
                    f"a concurrent request with idempotency key {idempotency_key!r}"
                    " committed first; retry to receive its result"
                ) from error
            raise
        seq = int(cur.fetchall()[0][0]) if store.dialect.insert_returning else int(cur.lastrowid)
    return CommandResult(entity=entity, version=version + 1, changed=changed, seq=seq)


def bump_version(
    store: Store,
    cur: Any,
    plan: TablePlan,
    key: Sequence[Any],
    key_text: str,
    version: int,
    has_row: bool,
) -> None:
    table = plan.spec.table
    if has_row:
        cur.execute(store._sql_version_bump, (table, key_text, version))
    else:
        cur.execute(store._sql_version_insert, (table, key_text, version + 1))
    if cur.rowcount != 1:
        raise ConflictError(
            f"{plan.spec.name} {plan.key_json(key)!r} was changed concurrently"
            f" (version {version} is no longer current)",
            expected=version,
        )


def _replay(
    store: Store,
    cur: Any,
    plan: TablePlan,
    key_text: str,
    command: str,
    payload_version: int,
    payload_text: str,
    idempotency_key: str,
) -> CommandResult | None:
    cur.execute(store._sql_idempotency, (idempotency_key,))
    rows = cur.fetchall()
    if not rows:
        return None
    (
        entity,
        entity_id,
        old_command,
        old_version,
        old_payload,
        new_version,
        seq,
        result,
    ) = rows[0]
    spec = plan.spec
    same = (entity, entity_id, old_command, int(old_version), old_payload) == (
        spec.name,
        key_text,
        command,
        payload_version,
        payload_text,
    )
    if not same or result is None:
        raise IdempotencyError(
            f"idempotency key {idempotency_key!r} was already used for {old_command}"
            f" on {entity} {entity_id} with payload {old_payload}; it cannot be reused for"
            f" {command} on {spec.name} {key_text} with payload {payload_text}"
        )
    stored = json.loads(result)
    return CommandResult(
        entity=spec.from_record(stored["fields"]),
        version=int(new_version),
        changed=frozenset(stored["changed"]),
        seq=int(seq),
        replayed=True,
    )


def stale_error(plan: TablePlan, key: Sequence[Any], expected: int, actual: int) -> ConflictError:
    return ConflictError(
        f"{plan.spec.name} {plan.key_json(key)!r} is at version {actual},"
        f" not the expected version {expected}",
        expected=expected,
        actual=actual,
    )


def _is_integrity_error(error: Exception) -> bool:
    return any(c.__name__ == "IntegrityError" for c in type(error).__mro__)
