"""The DDL reader, construct by construct."""

# ruff: noqa: E501 - case tables read best one case a line

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persist_tool import ir
from persist_tool.readers import get_reader
from persist_tool.readers.base import ReadOptions, ReadResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def read_ddl(text: str, dialect: str | None = "sqlite", **options: Any) -> ReadResult:
    """Read DDL text through the registered reader."""
    opts = ReadOptions(path=Path("s.sql"), display="s.sql", read_dialect=dialect, **options)
    return get_reader("ddl")(text, opts)


def entity(text: str, dialect: str | None = "sqlite") -> ir.Entity:
    """Return the only entity of a source."""
    (found,) = read_ddl(text, dialect).schema.entities
    return found


def column(text: str, dialect: str = "sqlite") -> ir.Field:
    """Return the field of a one-column table ``t (c <text>)``."""
    (found,) = entity(f"CREATE TABLE t (c {text});", dialect).fields
    return found


# --------------------------------------------------------------------------- types

TYPES: list[tuple[str, str, ir.FieldType, dict[str, Any]]] = [
    ("sqlite", "INTEGER", ir.IntegerType(64), {}),
    ("sqlite", "INT", ir.IntegerType(32), {}),
    ("postgres", "integer", ir.IntegerType(32), {}),
    ("postgres", "smallint", ir.IntegerType(16), {}),
    ("postgres", "bigint", ir.IntegerType(64), {}),
    ("mysql", "TINYINT", ir.IntegerType(16), {"minimum": -128, "maximum": 127}),
    (
        "mysql",
        "INT UNSIGNED",
        ir.IntegerType(64),
        {"minimum": 0, "maximum": 4294967295},
    ),
    (
        "mysql",
        "MEDIUMINT",
        ir.IntegerType(32),
        {"minimum": -8388608, "maximum": 8388607},
    ),
    ("tsql", "TINYINT", ir.IntegerType(16), {"minimum": 0, "maximum": 255}),
    ("postgres", "numeric(10,2)", ir.DecimalType(10, 2), {}),
    ("postgres", "numeric", ir.DecimalType(None, None), {}),
    ("mysql", "DECIMAL(5)", ir.DecimalType(5, 0), {}),
    ("oracle", "NUMBER(10,2)", ir.DecimalType(10, 2), {}),
    ("oracle", "NUMBER(9)", ir.IntegerType(32), {}),
    ("oracle", "NUMBER", ir.DecimalType(None, None), {}),
    ("tsql", "MONEY", ir.DecimalType(19, 4), {}),
    ("postgres", "real", ir.FloatType(32), {}),
    ("postgres", "double precision", ir.FloatType(64), {}),
    ("mysql", "FLOAT", ir.FloatType(32), {}),
    ("mysql", "DOUBLE", ir.FloatType(64), {}),
    ("tsql", "FLOAT", ir.FloatType(64), {}),
    ("postgres", "float(24)", ir.FloatType(32), {}),
    ("postgres", "boolean", ir.BooleanType(), {}),
    ("tsql", "BIT", ir.BooleanType(), {}),
    ("postgres", "character varying(45)", ir.StringType(), {"max_length": 45}),
    ("tsql", "NVARCHAR(160)", ir.StringType(), {"max_length": 160}),
    ("tsql", "NVARCHAR(MAX)", ir.StringType(), {}),
    ("oracle", "VARCHAR2(20)", ir.StringType(), {"max_length": 20}),
    ("postgres", "text", ir.StringType(), {}),
    ("oracle", "CLOB", ir.StringType(), {}),
    ("postgres", "char(2)", ir.StringType(), {"max_length": 2}),
    ("postgres", "date", ir.DateType(), {}),
    ("postgres", "timestamp", ir.DateTimeType(tz=False), {}),
    ("postgres", "timestamp without time zone", ir.DateTimeType(tz=False), {}),
    ("postgres", "timestamp with time zone", ir.DateTimeType(tz=True), {}),
    ("postgres", "timestamptz", ir.DateTimeType(tz=True), {}),
    ("mysql", "TIMESTAMP", ir.DateTimeType(tz=False), {}),
    ("mysql", "DATETIME", ir.DateTimeType(tz=False), {}),
    ("tsql", "DATETIME2", ir.DateTimeType(tz=False), {}),
    ("tsql", "DATETIMEOFFSET", ir.DateTimeType(tz=True), {}),
    ("postgres", "time", ir.TimeType(), {}),
    ("postgres", "uuid", ir.UuidType(), {}),
    ("tsql", "UNIQUEIDENTIFIER", ir.UuidType(), {}),
    ("postgres", "bytea", ir.BytesType(), {}),
    ("sqlite", "BLOB", ir.BytesType(), {}),
    ("mysql", "VARBINARY(16)", ir.BytesType(), {}),
    ("tsql", "IMAGE", ir.BytesType(), {}),
    ("postgres", "json", ir.JsonType({}), {}),
    ("postgres", "jsonb", ir.JsonType({}), {}),
    ("mysql", "ENUM('a','b')", ir.EnumType("TC", ("a", "b")), {}),
    ("postgres", "text[]", ir.ArrayType(ir.StringType()), {}),
    (
        "postgres",
        "varchar(5)[]",
        ir.ArrayType(ir.StringType(), ir.Constraints(max_length=5)),
        {},
    ),
    ("sqlite", "BLOB SUB_TYPE TEXT", ir.StringType(), {}),
    ("sqlite", "UNSIGNED BIG INT", ir.IntegerType(64), {}),
]


@pytest.mark.parametrize(
    ("dialect", "sql_type", "expected", "bounds"),
    [pytest.param(*case, id=f"{case[0]}:{case[1]}") for case in TYPES],
)
def test_column_type_maps_to_field_type_and_keeps_source_text(
    dialect: str, sql_type: str, expected: ir.FieldType, bounds: dict[str, Any]
) -> None:
    field = column(sql_type, dialect)
    assert field.type == expected
    assert field.constraints.to_json() == bounds
    assert field.extra["sql_type"] == sql_type
    assert field.extra["dialect"] == dialect


def test_char_records_its_fixed_length() -> None:
    assert column("CHAR(3)").extra["fixed_length"] == 3


def test_mysql_set_is_an_array_of_an_enum_with_unique_items() -> None:
    field = column("SET('x','y')", "mysql")
    assert field.type == ir.ArrayType(ir.EnumType("TC", ("x", "y")))
    assert field.constraints.unique_items


# --------------------------------------------------------------------------- nullability, defaults


def test_not_null_null_and_primary_key_decide_nullability() -> None:
    e = entity("CREATE TABLE t (a INT NOT NULL, b INT NULL, c INT, d INT PRIMARY KEY);")
    assert [f.nullable for f in e.fields] == [False, True, True, False]


@pytest.mark.parametrize(
    ("definition", "default"),
    [
        ("TEXT DEFAULT 'x'", ir.Default("literal", "x")),
        ("TEXT DEFAULT 'it''s'", ir.Default("literal", "it's")),
        ("INTEGER DEFAULT 3", ir.Default("literal", 3)),
        ("INTEGER DEFAULT -3", ir.Default("literal", -3)),
        ("NUMERIC(4,2) DEFAULT 4.99", ir.Default("literal", "4.99")),
        ("REAL DEFAULT 1.5", ir.Default("literal", 1.5)),
        ("BOOLEAN DEFAULT TRUE", ir.Default("literal", True)),
        ("BOOLEAN DEFAULT 0", ir.Default("literal", False)),
        ("TEXT DEFAULT NULL", ir.Default("literal", None)),
        ("DATE DEFAULT '2024-01-31'", ir.Default("literal", "2024-01-31")),
    ],
)
def test_literal_default_is_converted_to_the_field_type(
    definition: str, default: ir.Default
) -> None:
    field = column(definition)
    assert field.default == default
    assert not field.generated


@pytest.mark.parametrize(
    ("dialect", "definition", "sql"),
    [
        ("sqlite", "TIMESTAMP DEFAULT CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"),
        ("postgres", "timestamp DEFAULT now()", "now()"),
        ("postgres", "date DEFAULT ('now'::text)::date", "('now'::text)::date"),
        ("postgres", "uuid DEFAULT gen_random_uuid()", "gen_random_uuid()"),
        (
            "mysql",
            "DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
            "CURRENT_TIMESTAMP",
        ),
    ],
)
def test_expression_default_makes_a_generated_field_keeping_the_sql(
    dialect: str, definition: str, sql: str
) -> None:
    field = column(definition, dialect)
    assert field.generated
    assert field.default == ir.Default("sql", sql)


def test_postgres_cast_literal_default_stays_a_literal() -> None:
    source = "CREATE TYPE mood AS ENUM ('ok', 'sad');\nCREATE TABLE t (m mood DEFAULT 'ok'::mood);"
    (field,) = entity(source, "postgres").fields
    assert field.default == ir.Default("literal", "ok")
    assert field.type == ir.EnumType("Mood", ("ok", "sad"))


# --------------------------------------------------------------------------- generated keys


@pytest.mark.parametrize(
    ("dialect", "definition", "construct"),
    [
        ("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", "AUTOINCREMENT"),
        ("mysql", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY", "AUTO_INCREMENT"),
        ("tsql", "INT IDENTITY(1,1) PRIMARY KEY", "IDENTITY"),
        ("postgres", "serial PRIMARY KEY", "SERIAL"),
        ("postgres", "bigserial PRIMARY KEY", "BIGSERIAL"),
        (
            "postgres",
            "int GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "GENERATED ALWAYS AS IDENTITY",
        ),
        (
            "postgres",
            "int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "GENERATED BY DEFAULT AS IDENTITY",
        ),
        (
            "postgres",
            "integer DEFAULT nextval('t_c_seq'::regclass) PRIMARY KEY",
            "SEQUENCE",
        ),
    ],
)
def test_auto_increment_constructs_make_a_generated_immutable_key(
    dialect: str, definition: str, construct: str
) -> None:
    field = column(definition, dialect)
    assert field.generated and field.immutable and not field.nullable
    assert isinstance(field.type, ir.IntegerType)
    assert field.extra["auto_increment"] == construct


def test_sqlite_integer_primary_key_without_autoincrement_is_not_generated() -> None:
    field = column("INTEGER PRIMARY KEY")
    assert not field.generated and field.immutable


# --------------------------------------------------------------------------- keys


def test_table_level_composite_primary_key_marks_fields_immutable() -> None:
    e = entity("CREATE TABLE t (a INT, b TEXT, c INT, CONSTRAINT pk_t PRIMARY KEY (a, b));")
    assert e.primary_key == ("a", "b")
    assert [f.immutable for f in e.fields] == [True, True, False]
    assert [f.nullable for f in e.fields] == [False, False, True]
    assert e.extra["primary_key_name"] == "pk_t"


def test_alter_table_adds_primary_key_unique_and_foreign_key() -> None:
    source = """
    CREATE TABLE a (id INT NOT NULL, code TEXT);
    CREATE TABLE b (id INT NOT NULL, a_id INT);
    ALTER TABLE ONLY a ADD CONSTRAINT a_pkey PRIMARY KEY (id);
    ALTER TABLE a ADD CONSTRAINT a_code_key UNIQUE (code);
    ALTER TABLE ONLY b ADD CONSTRAINT b_a_fkey FOREIGN KEY (a_id) REFERENCES a(id) ON DELETE CASCADE;
    """
    a, b = read_ddl(source, "postgres").schema.entities
    assert a.primary_key == ("id",) and a.unique == (("code",),)
    assert b.extra["foreign_keys"] == [
        {
            "columns": ["a_id"],
            "ref_table": "a",
            "ref_columns": ["id"],
            "on_delete": "CASCADE",
            "on_update": None,
            "name": "b_a_fkey",
        }
    ]


def test_unique_inline_and_table_level_by_field_name() -> None:
    e = entity('CREATE TABLE t ("Code" TEXT UNIQUE, x INT, y INT, UNIQUE (x, y));')
    assert e.unique == (("code",), ("x", "y"))


def test_inline_and_table_level_foreign_keys_keep_actions_and_names() -> None:
    source = """
    CREATE TABLE p (id INT PRIMARY KEY, k1 INT, k2 INT, UNIQUE (k1, k2));
    CREATE TABLE c (
        p_id INT REFERENCES p (id) ON UPDATE NO ACTION,
        x INT, y INT,
        CONSTRAINT fk_pair FOREIGN KEY (x, y) REFERENCES p (k1, k2) ON DELETE SET NULL
    );
    """
    child = read_ddl(source).schema.get_entity("c")
    assert child.extra["foreign_keys"] == [
        {
            "columns": ["p_id"],
            "ref_table": "p",
            "ref_columns": ["id"],
            "on_delete": None,
            "on_update": "NO ACTION",
            "name": None,
        },
        {
            "columns": ["x", "y"],
            "ref_table": "p",
            "ref_columns": ["k1", "k2"],
            "on_delete": "SET NULL",
            "on_update": None,
            "name": "fk_pair",
        },
    ]


def test_foreign_key_to_a_table_outside_the_file_is_a_warning() -> None:
    result = read_ddl("CREATE TABLE c (p_id INT REFERENCES elsewhere (id));")
    assert any("elsewhere" in w.message for w in result.warnings)


# --------------------------------------------------------------------------- CHECK


def test_check_in_becomes_an_enum_named_after_entity_and_field() -> None:
    source = """
    -- persist: Order
    CREATE TABLE orders (
        status VARCHAR(16) NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled'))
    );
    """
    (field,) = entity(source).fields
    assert field.type == ir.EnumType("OrderStatus", ("pending", "paid", "shipped", "cancelled"))
    assert field.default == ir.Default("literal", "pending")
    assert field.constraints == ir.Constraints()  # the enum replaces the length bound


def test_table_level_check_in_with_null_alternative_is_an_enum() -> None:
    e = entity("CREATE TABLE tickets (s TEXT, CHECK (s IS NULL OR s IN ('a', 'b')));")
    assert e.fields[0].type == ir.EnumType("TicketS", ("a", "b"))
    assert e.fields[0].nullable


@pytest.mark.parametrize(
    ("check", "bounds"),
    [
        ("c >= 0", {"minimum": 0}),
        ("c > 0", {"exclusive_minimum": 0}),
        ("0 <= c", {"minimum": 0}),
        ("c <= 10 AND c >= -2", {"maximum": 10, "minimum": -2}),
        ("c BETWEEN 1 AND 5", {"minimum": 1, "maximum": 5}),
        ("c < 2.5", {"exclusive_maximum": 2.5}),
    ],
)
def test_check_on_a_range_becomes_bounds(check: str, bounds: dict[str, Any]) -> None:
    assert column(f"NUMERIC(6,2) CHECK ({check})").constraints.to_json() == bounds


@pytest.mark.parametrize(
    ("check", "bounds"),
    [
        ("length(c) <= 20", {"max_length": 20}),
        ("length(c) < 20", {"max_length": 19}),
        ("char_length(c) >= 2", {"min_length": 2}),
        ("length(c) BETWEEN 2 AND 8", {"min_length": 2, "max_length": 8}),
        ("length(c) = 3", {"min_length": 3, "max_length": 3}),
        ("c <> ''", {"min_length": 1}),
    ],
)
def test_check_on_length_becomes_length_bounds(check: str, bounds: dict[str, Any]) -> None:
    assert column(f"TEXT CHECK ({check})").constraints.to_json() == bounds


def test_inexpressible_check_is_kept_in_entity_extra() -> None:
    e = entity("CREATE TABLE t (a INT, b INT, CONSTRAINT a_lt_b CHECK (a < b), CHECK (a % 2 = 1));")
    assert e.extra["checks"] == [
        {"name": "a_lt_b", "sql": "a < b"},
        {"name": None, "sql": "a % 2 = 1"},
    ]
    assert all(f.constraints == ir.Constraints() for f in e.fields)


@pytest.mark.parametrize(
    ("check", "bounds"),
    [
        ("c % 15 = 0", {"multiple_of": 15}),
        ("0 = (c % 4)", {"multiple_of": 4}),
        ("c % 5 = 0 AND c >= 0", {"multiple_of": 5, "minimum": 0}),
        ("c IS NULL OR c % 3 = 0", {"multiple_of": 3}),
    ],
)
def test_check_on_a_remainder_of_an_integer_becomes_multiple_of(
    check: str, bounds: dict[str, Any]
) -> None:
    assert column(f"INTEGER CHECK ({check})").constraints.to_json() == bounds


@pytest.mark.parametrize(
    ("column_type", "check"),
    [
        ("DOUBLE PRECISION", "c % 2 = 0"),  # float remainders are inexact
        ("INTEGER", "c % 2 = 0 AND c % 3 = 0"),  # two steps in one CHECK
        ("INTEGER", "c % 0 = 0"),
        ("INTEGER", "c % 2.5 = 0"),
        ("INTEGER", "c % 2 = 1"),
    ],
)
def test_a_remainder_check_multiple_of_cannot_state_is_kept_as_sql(
    column_type: str, check: str
) -> None:
    e = entity(f"CREATE TABLE t (c {column_type} CHECK ({check}));")
    assert e.fields[0].constraints.multiple_of is None
    assert [c["sql"] for c in e.extra["checks"]] == [check]


def test_a_second_remainder_check_on_a_column_is_kept_as_sql() -> None:
    e = entity("CREATE TABLE t (c INTEGER CHECK (c % 2 = 0), CHECK (c % 3 = 0));")
    assert e.fields[0].constraints.multiple_of == 2
    assert [c["sql"] for c in e.extra["checks"]] == ["c % 3 = 0"]


# --------------------------------------------------------------------------- docs


def test_mysql_comment_clauses_become_docs() -> None:
    e = entity("CREATE TABLE t (a INT COMMENT 'the a') COMMENT='the table';", "mysql")
    assert e.doc == "the table" and e.fields[0].doc == "the a"


def test_comment_on_statements_become_docs() -> None:
    source = """
    CREATE TABLE t (a int);
    COMMENT ON TABLE t IS 'table doc';
    COMMENT ON COLUMN t.a IS 'column doc';
    """
    e = entity(source, "postgres")
    assert e.doc == "table doc" and e.fields[0].doc == "column doc"


def test_line_comments_above_and_beside_become_docs() -> None:
    source = """
/* banner, not a doc */

-- People who buy.
-- They may have accounts.
CREATE TABLE customers (
    -- Primary contact.
    email TEXT,  -- Used to log in.
    name TEXT    -- Shown on invoices.
);
"""
    e = entity(source)
    assert e.doc == "People who buy.\nThey may have accounts."
    assert [f.doc for f in e.fields] == [
        "Primary contact.\nUsed to log in.",
        "Shown on invoices.",
    ]


def test_comment_separated_by_a_blank_line_is_not_a_doc() -> None:
    assert entity("-- unrelated\n\nCREATE TABLE t (a INT);").doc is None


# --------------------------------------------------------------------------- indexes


def test_create_index_attaches_to_its_table_by_field_name() -> None:
    source = """
    CREATE TABLE t ("Email" TEXT, n INT);
    CREATE UNIQUE INDEX ux_email ON t ("Email");
    CREATE INDEX ix_n ON t USING btree (n DESC);
    """
    e = entity(source, "postgres")
    assert e.indexes == (
        ir.Index("ux_email", ("email",), True),
        ir.Index("ix_n", ("n",), False),
    )
    assert e.extra["index_options"]["ix_n"] == {"using": "btree", "descending": ["n"]}


def test_mysql_inline_keys_are_indexes_and_unique_keys_are_unique() -> None:
    source = (
        "CREATE TABLE t (a INT, b INT, KEY idx_a (a), UNIQUE KEY uq_b (b), FULLTEXT KEY ft (a));"
    )
    e = entity(source, "mysql")
    assert [i.name for i in e.indexes] == ["idx_a", "ft"]
    assert e.unique == (("b",),)
    assert e.extra["index_options"]["ft"] == {"kind": "FULLTEXT"}


def test_expression_index_is_kept_with_a_warning() -> None:
    result = read_ddl("CREATE TABLE t (a TEXT);\nCREATE INDEX i ON t (lower(a));", "postgres")
    (e,) = result.schema.entities
    assert e.indexes == ()
    assert e.extra["expression_indexes"]
    assert any("expressions" in w.message for w in result.warnings)


# --------------------------------------------------------------------------- skipped statements


def test_each_non_table_statement_is_skipped_with_one_warning() -> None:
    source = """
SET client_encoding = 'UTF8';
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SEQUENCE s;
CREATE TABLE t (a int);
CREATE VIEW v AS SELECT a FROM t;
CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;
CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE PROCEDURE f();
INSERT INTO t VALUES (1);
GRANT ALL ON t TO PUBLIC;
DROP TABLE IF EXISTS old;
ALTER TABLE t OWNER TO postgres;
"""
    result = read_ddl(source, "postgres")
    lines = sorted(w.location.line for w in result.warnings)
    assert lines == [2, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert [e.table for e in result.schema.entities] == ["t"]


def test_mysql_delimiter_blocks_and_sqlserver_batches_are_split_correctly() -> None:
    mysql = """
CREATE TABLE t (a INT);
DELIMITER ;;
CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW BEGIN
  INSERT INTO t VALUES (1);
END;;
DELIMITER ;
CREATE TABLE u (b INT);
"""
    assert [e.table for e in read_ddl(mysql, "mysql").schema.entities] == ["t", "u"]
    tsql = "IF 1 = 1\nBEGIN\n  PRINT 'x';\n  PRINT 'y';\nEND\nGO\nCREATE TABLE [dbo].[t] ([a] INT)\nGO\n"
    assert [e.table for e in read_ddl(tsql, "tsql").schema.entities] == ["t"]


def test_temporary_table_is_skipped() -> None:
    result = read_ddl("CREATE TABLE t (a INT);\nCREATE TEMPORARY TABLE tmp (b INT);")
    assert [e.table for e in result.schema.entities] == ["t"]
    assert any("TEMPORARY" in w.message for w in result.warnings)


# --------------------------------------------------------------------------- names and versions


def test_persist_comment_names_the_entity_and_sets_its_version() -> None:
    e = entity("-- persist: Todo schema_version=2\nCREATE TABLE todo_items (a INT);")
    assert (e.name, e.table, e.schema_version) == ("Todo", "todo_items", 2)


def test_without_persist_comment_the_name_is_the_singular_class_name() -> None:
    e = entity("CREATE TABLE order_lines (a INT);")
    assert (e.name, e.schema_version) == ("OrderLine", 1)


def test_options_override_the_entity_name_and_version_of_a_single_table() -> None:
    result = read_ddl(
        "-- persist: Todo schema_version=2\nCREATE TABLE t (a INT);",
        entity_name="Task",
        schema_version=5,
    )
    (e,) = result.schema.entities
    assert (e.name, e.schema_version) == ("Task", 5)


def test_entities_option_selects_by_class_or_table_name() -> None:
    source = (
        "CREATE TABLE customers (a INT);\nCREATE TABLE orders (b INT);\nCREATE TABLE items (c INT);"
    )
    result = read_ddl(source, entities=("Order", "items"))
    assert [e.name for e in result.schema.entities] == ["Order", "Item"]


def test_tables_singularising_to_one_name_get_distinct_readable_names() -> None:
    source = 'CREATE TABLE orders (a INT);\nCREATE TABLE "order" (b INT);'
    names = [e.name for e in read_ddl(source).schema.entities]
    # The table that already is singular keeps the class name; the other keeps its own
    # PascalCase spelling.
    assert names == ["Orders", "Order"]


def test_field_names_are_safe_unique_identifiers_and_columns_stay_exact() -> None:
    e = entity(
        'CREATE TABLE t ("class" INT, "Name" TEXT, "name" TEXT, "__class__" INT, "2fa" BOOLEAN);'
    )
    assert [f.column for f in e.fields] == ["class", "Name", "name", "__class__", "2fa"]
    assert [f.name for f in e.fields] == ["class_", "Name", "name", "class__", "f_2fa"]


def test_locations_point_at_table_and_column_names() -> None:
    e = entity("\n\nCREATE TABLE   things (\n      id INT,\n  label TEXT\n);")
    assert e.location == ir.Location("s.sql", 3, 16)
    assert [f.location for f in e.fields] == [
        ir.Location("s.sql", 4, 7),
        ir.Location("s.sql", 5, 3),
    ]


def test_postgres_domain_carries_type_bounds_and_nullability() -> None:
    source = """
CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (((VALUE >= 1901) AND (VALUE <= 2155)));
CREATE DOMAIN code AS varchar(8) NOT NULL;
CREATE TABLE t (y year, c code);
"""
    y, c = entity(source, "postgres").fields
    assert y.type == ir.IntegerType(32) and (
        y.constraints.minimum,
        y.constraints.maximum,
    ) == (1901, 2155)
    assert c.type == ir.StringType() and c.constraints.max_length == 8 and not c.nullable


# --------------------------------------------------------------------------- dialect detection


@pytest.mark.parametrize(
    ("source", "dialect"),
    [
        ("CREATE TABLE `t` (a INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB;", "mysql"),
        ("CREATE TABLE t (a serial PRIMARY KEY, b jsonb);", "postgres"),
        ("CREATE TABLE [dbo].[t] ([a] INT IDENTITY(1,1))\nGO\n", "tsql"),
        ("CREATE TABLE t (a NUMBER(10), b VARCHAR2(20));", "oracle"),
        ("CREATE TABLE t (a INTEGER PRIMARY KEY AUTOINCREMENT);", "sqlite"),
        ("CREATE TABLE t (a INT);", "sqlite"),
    ],
)
def test_dialect_is_detected_from_its_marks(source: str, dialect: str) -> None:
    (e,) = read_ddl(source, None).schema.entities
    assert e.extra["dialect"] == dialect


# --------------------------------------------------------------------------- the shop fixture


def test_shop_fixture_reads_into_the_documented_domain() -> None:
    path = FIXTURES / "shop" / "shop.sql"
    result = read_ddl(path.read_text(encoding="utf-8"), None)
    schema = result.schema
    assert [e.name for e in schema.entities] == [
        "Customer",
        "Product",
        "Order",
        "OrderLine",
        "Account",
    ]
    assert result.warnings == ()
    order = schema.get_entity("Order")
    assert order.get_field("status").type == ir.EnumType(
        "OrderStatus", ("pending", "paid", "shipped", "cancelled")
    )
    assert order.get_field("placed_at").generated
    assert order.get_field("id").generated and order.get_field("id").immutable
    assert schema.get_entity("OrderLine").primary_key == ("order_id", "line_no")
    product = schema.get_entity("Product")
    assert product.get_field("price").constraints.minimum == 0
    assert product.get_field("price").type == ir.DecimalType(10, 2)
    assert product.unique == (("sku",),)
    account = schema.get_entity("Account")
    assert account.unique == (("customer_id", "currency"),)
    assert ir.Index("ux_accounts_number", ("number",), True) in account.indexes
    customer = schema.get_entity("Customer")
    assert customer.doc == "A person who buys from the shop."
    assert customer.get_field("email").doc == "Login and contact address."
    assert customer.get_field("phone").nullable
    postgres = read_ddl(path.read_text(encoding="utf-8"), "postgres").schema
    assert [e.name for e in postgres.entities] == [e.name for e in schema.entities]


# --------------------------------------------------------------------------- property

_SQL_TYPES: list[tuple[str, ir.FieldType, dict[str, Any]]] = [
    ("BIGINT", ir.IntegerType(64), {}),
    ("SMALLINT", ir.IntegerType(16), {}),
    ("TEXT", ir.StringType(), {}),
    ("BOOLEAN", ir.BooleanType(), {}),
    ("DATE", ir.DateType(), {}),
    ("TIMESTAMP", ir.DateTimeType(tz=False), {}),
    ("UUID", ir.UuidType(), {}),
]
_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@st.composite
def _tables(
    draw: st.DrawFn,
) -> tuple[str, list[tuple[str, ir.FieldType, dict[str, Any], bool]]]:
    names = draw(st.lists(_names, min_size=1, max_size=8, unique=True))
    columns = []
    for name in names:
        field_type: ir.FieldType
        bounds: dict[str, Any]
        kind = draw(st.sampled_from(["plain", "varchar", "decimal"]))
        if kind == "varchar":
            length = draw(st.integers(1, 5000))
            sql, field_type, bounds = (
                f"VARCHAR({length})",
                ir.StringType(),
                {"max_length": length},
            )
        elif kind == "decimal":
            precision = draw(st.integers(1, 38))
            scale = draw(st.integers(0, precision))
            sql, field_type, bounds = (
                f"NUMERIC({precision},{scale})",
                ir.DecimalType(precision, scale),
                {},
            )
        else:
            sql, field_type, bounds = draw(st.sampled_from(_SQL_TYPES))
        columns.append((name, sql, field_type, bounds, draw(st.booleans())))
    body = ",\n  ".join(
        f'"{n}" {sql}{" NOT NULL" if not_null else ""}' for n, sql, _, _, not_null in columns
    )
    return f'CREATE TABLE "generated_things" (\n  {body}\n);', [
        (n, t, b, not_null) for n, _, t, b, not_null in columns
    ]


@settings(max_examples=60, deadline=None)
@given(_tables(), st.sampled_from(["sqlite", "postgres", None]))
def test_synthesised_create_table_reads_back_to_the_expected_fields(
    table: tuple[str, list[tuple[str, ir.FieldType, dict[str, Any], bool]]],
    dialect: str | None,
) -> None:
    source, expected = table
    (e,) = read_ddl(source, dialect).schema.entities
    assert e.name == "GeneratedThing" and e.table == "generated_things"
    assert [f.column for f in e.fields] == [n for n, _, _, _ in expected]
    for field, (_, field_type, bounds, not_null) in zip(e.fields, expected, strict=True):
        assert field.type == field_type
        assert field.constraints.to_json() == bounds
        assert field.nullable is not not_null
        assert field.default is None and not field.generated and not field.immutable
