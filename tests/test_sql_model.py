"""Looking up the entity stored in a table, as foreign keys do."""

from __future__ import annotations

from persist_tool import ir
from persist_tool.sql.model import find_entity


def _entity(name: str, table: str) -> ir.Entity:
    return ir.Entity(name, table, fields=(ir.Field("id", "id", ir.IntegerType()),))


def test_the_exact_spelling_wins_then_a_unique_case_folded_match() -> None:
    orders, upper = _entity("Order", "orders"), _entity("OrderUpper", "ORDERS")
    lines = _entity("Line", "Lines")
    schema = ir.Schema(entities=(orders, upper, lines))
    assert find_entity(schema, "orders") is orders
    assert find_entity(schema, "ORDERS") is upper
    assert find_entity(schema, "Orders") is None  # two tables fold to it: ambiguous
    assert find_entity(schema, "lines") is lines
    assert find_entity(schema, "nothing") is None
    assert find_entity(None, "orders") is None


def test_the_first_of_two_tables_spelled_alike_is_found() -> None:
    first, second = _entity("A", "t"), _entity("B", "t")
    assert find_entity(ir.Schema(entities=(first, second)), "t") is first


def test_each_schema_answers_for_itself() -> None:
    """The lookup is indexed per schema: another schema, even one met before, is looked up
    in its own entities."""
    one = ir.Schema(entities=(_entity("A", "a"),))
    two = ir.Schema(entities=(_entity("B", "b"),))
    assert find_entity(one, "a") is one.entities[0]
    assert find_entity(two, "a") is None
    assert find_entity(two, "b") is two.entities[0]
    assert find_entity(one, "b") is None
    assert find_entity(one, "a") is one.entities[0]
