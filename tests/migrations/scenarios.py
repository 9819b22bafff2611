"""The schema evolutions the migration suite runs: every change kind, and combinations."""

from __future__ import annotations

import dataclasses

from persist_tool import ir
from tests.migrations.harness import (
    Scenario,
    Version,
    add_field,
    drop_field,
    edit_constraints,
    edit_field,
    replace_entity,
)


def _add_rating(s: ir.Schema) -> ir.Schema:
    rating = ir.Field("rating", "Rating", ir.IntegerType(32), default=ir.Default("literal", 0))
    return add_field(s, "Album", rating)


def _add_country(s: ir.Schema) -> ir.Schema:
    country = ir.Field(
        "country", "Country", ir.StringType(), constraints=ir.Constraints(max_length=2)
    )
    return add_field(s, "Artist", country)


def _rename_composer(s: ir.Schema) -> ir.Schema:
    # Declared in the source, as RenamedFrom("composer") would.
    return edit_field(
        s, "Track", "composer", name="writer", column="Writer", renamed_from=("composer",)
    )


def _genre_default(s: ir.Schema) -> ir.Schema:
    return edit_field(s, "Genre", "name", default=ir.Default("literal", "Unknown"))


def _index(name: str, columns: tuple[str, ...]) -> ir.Index:
    return ir.Index(name, columns)


def _add_track_index(s: ir.Schema) -> ir.Schema:
    e = s.get_entity("Track")
    return replace_entity(s, "Track", indexes=(*e.indexes, _index("ix_track_name", ("name",))))


def _drop_track_index(s: ir.Schema) -> ir.Schema:
    e = s.get_entity("Track")
    kept = tuple(i for i in e.indexes if i.name != "IFK_TrackGenreId")
    return replace_entity(s, "Track", indexes=kept)


def _add_review(s: ir.Schema) -> ir.Schema:
    review = ir.Entity(
        name="Review",
        table="review",
        fields=(
            ir.Field("review_id", "review_id", ir.IntegerType(64), generated=True, immutable=True),
            ir.Field("track_id", "track_id", ir.IntegerType(32)),
            ir.Field(
                "stars",
                "stars",
                ir.IntegerType(16),
                constraints=ir.Constraints(minimum=1, maximum=5),
            ),
        ),
        primary_key=("review_id",),
    )
    return dataclasses.replace(s, entities=(*s.entities, review))


def _drop_playlist_track(s: ir.Schema) -> ir.Schema:
    return dataclasses.replace(
        s, entities=tuple(e for e in s.entities if e.name != "PlaylistTrack")
    )


def _rename_media_type(s: ir.Schema) -> ir.Schema:
    return replace_entity(s, "MediaType", name="MediaFormat", table="media_format")


def _combined(s: ir.Schema) -> ir.Schema:
    s = edit_field(s, "Invoice", "billing_city", name="city", column="City")
    s = drop_field(s, "Invoice", "billing_state")
    s = edit_field(s, "Invoice", "total", type=ir.DecimalType(12, 2))
    s = edit_field(s, "Invoice", "billing_country", nullable=False)
    paid = ir.Field("paid", "Paid", ir.BooleanType(), default=ir.Default("literal", False))
    s = add_field(s, "Invoice", paid)
    e = s.get_entity("Invoice")
    return replace_entity(
        s, "Invoice", indexes=(*e.indexes, _index("ix_invoice_date", ("invoice_date",)))
    )


def _add_media_unique(s: ir.Schema) -> ir.Schema:
    return replace_entity(s, "MediaType", unique=(("name",),))


def _drop_media_unique(s: ir.Schema) -> ir.Schema:
    return replace_entity(s, "MediaType", unique=())


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "add_field_with_default",
        ("Album",),
        (Version(_add_rating),),
        kinds=("add_field",),
    ),
    Scenario(
        "add_required_field_with_backfill",
        ("Artist",),
        (Version(_add_country, defaults=("Artist.country=XX",)),),
        kinds=("add_field",),
    ),
    Scenario(
        "drop_field",
        ("Customer",),
        (Version(lambda s: drop_field(s, "Customer", "fax")),),
        destructive=True,
        kinds=("drop_field",),
    ),
    Scenario(
        "rename_field_declared",
        ("Track",),
        (Version(_rename_composer),),
        kinds=("rename_field",),
    ),
    Scenario(
        "widen_varchar_40_to_80",
        ("Customer",),
        (Version(lambda s: edit_constraints(s, "Customer", "first_name", max_length=80)),),
        kinds=("alter_constraints",),
    ),
    Scenario(
        "widen_int_to_bigint",
        ("Track",),
        (Version(lambda s: edit_field(s, "Track", "milliseconds", type=ir.IntegerType(64))),),
        kinds=("alter_field_type",),
    ),
    Scenario(
        "convert_int_to_decimal",
        ("Track",),
        (Version(lambda s: edit_field(s, "Track", "bytes_", type=ir.DecimalType(14, 2))),),
        kinds=("alter_field_type",),
    ),
    Scenario(
        "convert_int_to_text",
        ("InvoiceLine",),
        (
            Version(
                lambda s: edit_constraints(
                    edit_field(s, "InvoiceLine", "quantity", type=ir.StringType()),
                    "InvoiceLine",
                    "quantity",
                    max_length=12,
                )
            ),
        ),
        kinds=("alter_field_type",),
    ),
    Scenario(
        "convert_text_back_to_int",
        ("InvoiceLine",),
        (
            Version(
                lambda s: edit_constraints(
                    edit_field(s, "InvoiceLine", "quantity", type=ir.StringType()),
                    "InvoiceLine",
                    "quantity",
                    max_length=12,
                )
            ),
            Version(
                lambda s: edit_constraints(
                    edit_field(s, "InvoiceLine", "quantity", type=ir.IntegerType(32)),
                    "InvoiceLine",
                    "quantity",
                    max_length=None,
                )
            ),
        ),
        kinds=("alter_field_type",),
    ),
    Scenario(
        "make_required_field_nullable",
        ("Customer",),
        (Version(lambda s: edit_field(s, "Customer", "email", nullable=True)),),
        kinds=("alter_nullability",),
    ),
    Scenario(
        "make_nullable_field_required_with_backfill",
        ("Customer",),
        (
            Version(
                lambda s: edit_field(s, "Customer", "company", nullable=False),
                defaults=("Customer.company=Private customer",),
            ),
        ),
        kinds=("alter_nullability",),
    ),
    Scenario(
        "alter_default",
        ("Genre",),
        (Version(_genre_default),),
        kinds=("alter_default",),
    ),
    Scenario(
        "add_unique",
        ("MediaType",),
        (Version(_add_media_unique),),
        kinds=("add_unique",),
    ),
    Scenario(
        "drop_unique",
        ("MediaType",),
        (Version(_add_media_unique), Version(_drop_media_unique)),
        kinds=("drop_unique",),
    ),
    Scenario(
        "add_index",
        ("Track",),
        (Version(_add_track_index),),
        kinds=("add_index",),
    ),
    Scenario(
        "drop_index",
        ("Track",),
        (Version(_drop_track_index),),
        kinds=("drop_index",),
    ),
    Scenario(
        "add_entity",
        ("Genre",),
        (Version(_add_review),),
        kinds=("add_entity",),
    ),
    Scenario(
        "drop_entity",
        ("Playlist", "PlaylistTrack"),
        (Version(_drop_playlist_track),),
        destructive=True,
        kinds=("drop_entity",),
    ),
    Scenario(
        "rename_entity",
        ("MediaType",),
        (Version(_rename_media_type, renames=("MediaType=MediaFormat",)),),
        kinds=("rename_entity",),
    ),
    Scenario(
        "combined_invoice",
        ("Invoice",),
        (
            Version(
                _combined,
                renames=("Invoice.billing_city=city",),
                defaults=("Invoice.billing_country=Unknown",),
            ),
        ),
        destructive=True,
        kinds=(
            "rename_field",
            "drop_field",
            "alter_field_type",
            "alter_nullability",
            "add_field",
            "add_index",
        ),
    ),
)
