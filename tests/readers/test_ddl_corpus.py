"""Every real schema in the external corpus reads, auto-detected and with its dialect named.

The expected facts below were checked by reading the files themselves (table counts,
primary keys, foreign keys, a few types, nullabilities and lengths).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from persist_tool import ir
from persist_tool.readers.base import ReadOptions
from persist_tool.readers.ddl import detect_dialects, read

# file (relative to corpus/ddl) -> the dialect it is written in
CORPUS_FILES: dict[str, str] = {
    "chinook/Chinook_Db2.schema.sql": "postgres",
    "chinook/Chinook_MySql.schema.sql": "mysql",
    "chinook/Chinook_MySql_AutoIncrementPKs.schema.sql": "mysql",
    "chinook/Chinook_Oracle.schema.sql": "oracle",
    "chinook/Chinook_PostgreSql.schema.sql": "postgres",
    "chinook/Chinook_PostgreSql_AutoIncrementPKs.schema.sql": "postgres",
    "chinook/Chinook_PostgreSql_SerialPKs.schema.sql": "postgres",
    "chinook/Chinook_SqlServer.schema.sql": "tsql",
    "chinook/Chinook_SqlServer_AutoIncrementPKs.schema.sql": "tsql",
    "chinook/Chinook_Sqlite.schema.sql": "sqlite",
    "chinook/Chinook_Sqlite_AutoIncrementPKs.schema.sql": "sqlite",
    "sakila/jooq-mysql-sakila-schema.sql": "mysql",
    "sakila/jooq-postgres-sakila-schema.sql": "postgres",
    "sakila/jooq-sqlite-sakila-schema.sql": "sqlite",
    "northwind/pthom-postgres-northwind.schema.sql": "postgres",
}

# Dialects auto-detection is expected to choose (DB2 has no sqlglot dialect; its standard
# SQL reads as the sqlite-compatible default).
DETECTED: dict[str, str] = {**CORPUS_FILES, "chinook/Chinook_Db2.schema.sql": "sqlite"}


def _read(corpus: Path, name: str, dialect: str | None) -> tuple[ir.Schema, int]:
    path = corpus / "ddl" / name
    result = read(
        path.read_text(encoding="utf-8"),
        ReadOptions(path=path, display=name, read_dialect=dialect),
    )
    return result.schema, len(result.warnings)


def test_corpus_lists_every_schema_file(corpus: Path) -> None:
    on_disk = {
        str(p.relative_to(corpus / "ddl"))
        for p in (corpus / "ddl").rglob("*.sql")
        if not p.name.endswith(".data.sql")
    }
    assert on_disk == set(CORPUS_FILES)


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_file_reads_with_its_dialect_named(corpus: Path, name: str) -> None:
    schema, _ = _read(corpus, name, CORPUS_FILES[name])
    assert schema.entities
    assert {e.extra["dialect"] for e in schema.entities} == {CORPUS_FILES[name]}


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_file_reads_with_dialect_detected(corpus: Path, name: str) -> None:
    schema, _ = _read(corpus, name, None)
    assert {e.extra["dialect"] for e in schema.entities} == {DETECTED[name]}
    text = (corpus / "ddl" / name).read_text(encoding="utf-8")
    assert detect_dialects(text)[0] == DETECTED[name]


def _entity(schema: ir.Schema, table: str) -> ir.Entity:
    return schema.get_entity(table)


def _field(entity: ir.Entity, column: str) -> ir.Field:
    (found,) = [f for f in entity.fields if f.column == column]
    return found


# --------------------------------------------------------------------------- Chinook

_CHINOOK = [n for n in CORPUS_FILES if n.startswith("chinook/")]


def _snake(name: str) -> bool:
    return "PostgreSql" in name


def _chinook_name(name: str, pascal: str, snake: str) -> str:
    return snake if _snake(name) else pascal


@pytest.mark.parametrize("name", _CHINOOK)
def test_chinook_has_eleven_tables_eleven_foreign_keys_and_its_keys(
    corpus: Path, name: str
) -> None:
    schema, _ = _read(corpus, name, CORPUS_FILES[name])
    assert len(schema.entities) == 11
    fks = [fk for e in schema.entities for fk in e.extra.get("foreign_keys", [])]
    assert len(fks) == 11
    playlist_track = _entity(schema, _chinook_name(name, "PlaylistTrack", "playlist_track"))
    assert len(playlist_track.primary_key) == 2
    assert all(f.immutable for f in playlist_track.fields)
    track = _entity(schema, _chinook_name(name, "Track", "track"))
    assert len(track.extra["foreign_keys"]) == 3
    refs = {fk["ref_table"] for fk in track.extra["foreign_keys"]}
    assert refs == {
        _chinook_name(name, t, s)
        for t, s in (
            ("Album", "album"),
            ("Genre", "genre"),
            ("MediaType", "media_type"),
        )
    }
    indexes = sum(len(e.indexes) for e in schema.entities)
    assert indexes == (0 if "Oracle" in name else 11)


@pytest.mark.parametrize("name", _CHINOOK)
def test_chinook_column_types_nullability_and_lengths(corpus: Path, name: str) -> None:
    schema, _ = _read(corpus, name, CORPUS_FILES[name])
    customer = _entity(schema, _chinook_name(name, "Customer", "customer"))
    email = _field(customer, _chinook_name(name, "Email", "email"))
    company = _field(customer, _chinook_name(name, "Company", "company"))
    assert isinstance(email.type, ir.StringType) and not email.nullable
    assert email.constraints.max_length == 60
    assert company.nullable and company.constraints.max_length == 80
    invoice = _entity(schema, _chinook_name(name, "Invoice", "invoice"))
    total = _field(invoice, _chinook_name(name, "Total", "total"))
    assert total.type == ir.DecimalType(10, 2) and not total.nullable
    invoice_date = _field(invoice, _chinook_name(name, "InvoiceDate", "invoice_date"))
    assert isinstance(invoice_date.type, ir.DateType | ir.DateTimeType)
    album = _entity(schema, _chinook_name(name, "Album", "album"))
    key = _field(album, _chinook_name(name, "AlbumId", "album_id"))
    assert isinstance(key.type, ir.IntegerType | ir.DecimalType)
    assert key.immutable and not key.nullable
    assert key.generated == ("AutoIncrement" in name or "Serial" in name)


def test_chinook_sqlserver_identity_and_schema_qualifier(corpus: Path) -> None:
    schema, _ = _read(corpus, "chinook/Chinook_SqlServer_AutoIncrementPKs.schema.sql", "tsql")
    album = _entity(schema, "Album")
    assert album.extra["sql_schema"] == "dbo"
    assert _field(album, "AlbumId").extra["auto_increment"] == "IDENTITY"
    assert _field(album, "Title").extra["sql_type"] == "NVARCHAR(160)"


def test_chinook_postgres_serial_and_identity_keys(corpus: Path) -> None:
    serial, _ = _read(corpus, "chinook/Chinook_PostgreSql_SerialPKs.schema.sql", "postgres")
    assert _field(_entity(serial, "album"), "album_id").extra["auto_increment"] == "SERIAL"
    identity, _ = _read(
        corpus, "chinook/Chinook_PostgreSql_AutoIncrementPKs.schema.sql", "postgres"
    )
    key = _field(_entity(identity, "album"), "album_id")
    assert key.extra["auto_increment"] == "GENERATED ALWAYS AS IDENTITY"


def test_chinook_oracle_numbers_are_integers_and_decimals(corpus: Path) -> None:
    schema, _ = _read(corpus, "chinook/Chinook_Oracle.schema.sql", "oracle")
    track = _entity(schema, "Track")
    assert _field(track, "TrackId").type == ir.DecimalType(None, None)
    assert _field(track, "UnitPrice").type == ir.DecimalType(10, 2)
    assert _field(track, "Name").extra["sql_type"] == "VARCHAR2(200)"


# --------------------------------------------------------------------------- Sakila


def test_sakila_mysql_enum_set_unsigned_keys_and_unique(corpus: Path) -> None:
    schema, warnings = _read(corpus, "sakila/jooq-mysql-sakila-schema.sql", "mysql")
    assert len(schema.entities) == 16
    assert sum(len(e.extra.get("foreign_keys", [])) for e in schema.entities) == 22
    film = _entity(schema, "film")
    rating = _field(film, "rating")
    assert rating.type == ir.EnumType("FilmRating", ("G", "PG", "PG-13", "R", "NC-17"))
    assert rating.default == ir.Default("literal", "G")
    features = _field(film, "special_features")
    assert isinstance(features.type, ir.ArrayType)
    assert features.constraints.unique_items
    film_id = _field(film, "film_id")
    assert film_id.generated and film_id.immutable
    assert film_id.type == ir.IntegerType(64) and film_id.constraints.minimum == 0
    last_update = _field(film, "last_update")
    assert last_update.generated and last_update.type == ir.DateTimeType(tz=False)
    assert last_update.default == ir.Default("sql", "CURRENT_TIMESTAMP")
    rental = _entity(schema, "rental")
    assert rental.unique == (("rental_date", "inventory_id", "customer_id"),)
    assert _entity(schema, "film_actor").primary_key == ("actor_id", "film_id")
    payment_fk = next(
        fk
        for fk in _entity(schema, "payment").extra["foreign_keys"]
        if fk["name"] == "fk_payment_rental"
    )
    assert payment_fk == {
        "columns": ["rental_id"],
        "ref_table": "rental",
        "ref_columns": ["rental_id"],
        "on_delete": "SET NULL",
        "on_update": "CASCADE",
        "name": "fk_payment_rental",
    }
    assert warnings >= 6 + 3 + 5  # views, triggers and routines are skipped, one warning each


def test_sakila_postgres_enum_type_domain_inheritance_and_arrays(corpus: Path) -> None:
    schema, _ = _read(corpus, "sakila/jooq-postgres-sakila-schema.sql", "postgres")
    assert len(schema.entities) == 21
    assert sum(len(e.extra.get("foreign_keys", [])) for e in schema.entities) == 40
    film = _entity(schema, "film")
    assert _field(film, "rating").type == ir.EnumType(
        "MpaaRating", ("G", "PG", "PG-13", "R", "NC-17")
    )
    assert _field(film, "rating").default == ir.Default("literal", "G")
    release_year = _field(film, "release_year")
    assert release_year.type == ir.IntegerType(32)
    assert (release_year.constraints.minimum, release_year.constraints.maximum) == (
        1901,
        2155,
    )
    assert _field(film, "special_features").type == ir.ArrayType(ir.StringType())
    film_id = _field(film, "film_id")
    assert film_id.generated and film_id.extra["auto_increment"] == "SEQUENCE"
    partition = _entity(schema, "payment_p2007_01")
    assert partition.extra["inherits"] == ["payment"]
    assert [f.column for f in partition.fields] == [
        f.column for f in _entity(schema, "payment").fields
    ]
    assert partition.extra["checks"]  # the date-range CHECK is kept, not dropped
    customer = _entity(schema, "customer")
    assert _field(customer, "create_date").generated
    assert _field(customer, "activebool").default == ir.Default("literal", True)


def test_sakila_sqlite_check_in_becomes_an_enum(corpus: Path) -> None:
    schema, _ = _read(corpus, "sakila/jooq-sqlite-sakila-schema.sql", "sqlite")
    assert len(schema.entities) == 16
    film = _entity(schema, "film")
    assert _field(film, "rating").type == ir.EnumType(
        "FilmRating", ("G", "PG", "PG-13", "R", "NC-17")
    )
    assert _field(film, "description").type == ir.StringType()  # BLOB SUB_TYPE TEXT
    assert any("special_features" in c["sql"] for c in film.extra["checks"])


# --------------------------------------------------------------------------- Northwind


def test_northwind_keys_from_alter_table_and_foreign_keys_without_columns(
    corpus: Path,
) -> None:
    schema, _ = _read(corpus, "northwind/pthom-postgres-northwind.schema.sql", "postgres")
    assert len(schema.entities) == 14
    fks = [fk for e in schema.entities for fk in e.extra.get("foreign_keys", [])]
    assert len(fks) == 13
    assert all(fk["ref_columns"] == [] for fk in fks)
    details = _entity(schema, "order_details")
    assert details.primary_key == ("order_id", "product_id")
    assert _field(details, "unit_price").type == ir.FloatType(32)
    customer_id = _field(_entity(schema, "customers"), "customer_id")
    assert customer_id.constraints.max_length == 5 and customer_id.immutable
    assert all(e.primary_key for e in schema.entities)
