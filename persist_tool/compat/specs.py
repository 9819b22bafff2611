"""Entity specs for the data checks, generated from the current sources in memory.

Snapshot and journal records are validated by the generated code itself (``from_record``,
``Patch.from_payload``, each command's ``from_payload``), so compat-check accepts exactly
what the application would. The package is rendered by the entity emitter from the schema
being checked (not read from a committed output directory, which may be stale — that is
what ``generate entity --check`` reports), written to a temporary directory, imported under
a private name and dropped again.

For Python sources the generated modules would import the user's classes and enums; the
checks need only their fields, so those references are left out and the emitter generates
plain classes with the same fields and values instead: no user code runs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from persist_runtime import EntitySpec

from persist_tool import ir
from persist_tool.emit.entity import GeneratedFile, render_package

__all__ = ["generated_specs", "self_contained"]

_DIALECTS = ("sqlite",)
"""Specs need DDL for no dialect here; one keeps rendering cheap."""
_PYTHON_ENTITY_KEYS = frozenset({"python_class"})
_PYTHON_FIELD_KEYS = frozenset({"python_enum"})


def _strip(extra: Mapping[str, ir.JsonValue], keys: frozenset[str]) -> dict[str, ir.JsonValue]:
    return {k: v for k, v in extra.items() if k not in keys}


def _field(f: ir.Field) -> ir.Field:
    return dataclasses.replace(f, extra=_strip(f.extra, _PYTHON_FIELD_KEYS))


def self_contained(schema: ir.Schema) -> ir.Schema:
    """Return ``schema`` without references to user classes (Python sources)."""
    entities = tuple(
        dataclasses.replace(
            e,
            extra=_strip(e.extra, _PYTHON_ENTITY_KEYS),
            fields=tuple(_field(f) for f in e.fields),
            commands=tuple(
                dataclasses.replace(c, params=tuple(_field(p) for p in c.params))
                for c in e.commands
            ),
        )
        for e in schema.entities
    )
    return dataclasses.replace(schema, entities=entities)


def _render_unformatted(schema: ir.Schema) -> list[GeneratedFile]:
    """Render the package without black: it is only executed, never shown or written."""
    return render_package(
        schema, source="compat-check", source_hash="0" * 64, dialects=_DIALECTS, formatted=False
    )


@contextmanager
def generated_specs(schema: ir.Schema) -> Iterator[dict[str, EntitySpec]]:
    """Yield the specs of ``schema``'s generated modules, name -> spec, imported privately."""
    files = _render_unformatted(self_contained(schema))
    name = f"_persist_compat_entities_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="persist-compat-") as tmp:
        package_dir = Path(tmp) / name
        package_dir.mkdir()
        for generated in files:
            (package_dir / generated.path).write_text(generated.text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(
            name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
            entities: tuple[EntitySpec, ...] = module.ENTITIES
            yield {s.name: s for s in entities}
        finally:
            for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                del sys.modules[key]
