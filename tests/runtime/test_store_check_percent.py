"""DDL holding a ``%`` (a CHECK on a multiple) is created and enforced on every dialect.

Drivers that substitute parameters (psycopg, PyMySQL) read ``%`` as a placeholder when a
statement is sent with parameters, even none; the store sends DDL without any.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from persist_runtime import Store, ValidationError

from tests.runtime.conftest import RecordingConnection, generated_package

DDL = """\
-- persist: Slot schema_version=1
CREATE TABLE slots (
    id INTEGER NOT NULL PRIMARY KEY,
    minutes INTEGER NOT NULL CHECK (minutes % 15 = 0)
);
"""


@pytest.fixture(scope="module")
def slots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package for ``DDL``, importable for the module's tests."""
    out = tmp_path_factory.mktemp("generated")
    (out / "slots.sql").write_text(DDL, encoding="utf-8")
    with generated_package(out / "slots.sql", out, "slots") as package:
        yield package


def test_a_check_with_a_percent_sign_is_created_and_holds(
    store: Store, recorder: RecordingConnection, slots: ModuleType
) -> None:
    store.ensure(slots.SLOT_SPEC)
    assert any("%" in sql for sql in recorder.statements)
    store.create(slots.SLOT_SPEC, slots.SlotDraft(id=1, minutes=45))
    assert store.get(slots.SLOT_SPEC, 1).minutes == 45
    # The database enforces it (each driver raises its own error, naming the constraint).
    with pytest.raises(Exception, match=r"(?i)check|ck_slots"):
        store.create(slots.SLOT_SPEC, slots.SlotDraft(id=2, minutes=20))
    assert [s.id for s in store.list(slots.SLOT_SPEC)] == [1]
    # The reader took the CHECK as multiple_of=15: payloads are refused before the database.
    with pytest.raises(ValidationError, match="multiple of 15"):
        slots.SlotDraft.from_payload({"id": 2, "minutes": 20})
