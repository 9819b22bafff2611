"""SQL names: checked and quoted per dialect, the same on every call."""

from __future__ import annotations

import pytest

from persist_tool import ir
from persist_tool.sql.dialects import identifier, quote


def test_a_name_is_quoted_where_its_dialect_needs_it_on_every_call() -> None:
    for _ in range(2):
        assert quote("order", "postgres") == '"order"'
        assert quote("order", "mysql") == "`order`"
        assert quote("orders", "postgres") == "orders"
        assert identifier("Mixed", "postgres").quoted
        assert not identifier("plain", "postgresql").quoted


def test_a_name_a_dialect_cannot_hold_fails_every_time_at_the_place_given() -> None:
    """Names that fail are not remembered: each use reports its own location."""
    long_name = "x" * 70
    for line in (3, 9):
        where = ir.Location("schema.sql", line, 1)
        with pytest.raises(ir.SourceError, match="longer than postgres") as raised:
            identifier(long_name, "postgres", where)
        assert raised.value.location == where
    assert identifier(long_name, "sqlite").this == long_name
    with pytest.raises(ir.SourceError, match="ends with a space"):
        quote("name ", "mysql")
    with pytest.raises(ir.SourceError, match="unknown SQL dialect"):
        identifier("name", "oracle")
