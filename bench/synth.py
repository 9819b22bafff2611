"""Write the synthetic benchmark schema: N object definitions as JSON Schema and as DDL.

Every definition ``Entity0042`` has the same nine properties, four of them required:

=============  ===========================================  ==================================
property       JSON Schema                                  DDL twin
=============  ===========================================  ==================================
``id``         integer, ``minimum: 1`` (the primary key)    ``INTEGER PRIMARY KEY CHECK (>= 1)``
``name``       string, ``maxLength: 80``                    ``VARCHAR(80) NOT NULL``
``score``      number                                       ``DOUBLE PRECISION``
``active``     boolean, ``default: true``                   ``BOOLEAN NOT NULL DEFAULT TRUE``
``created_at`` string, ``format: date-time``                ``TIMESTAMP NOT NULL``
``status``     inline enum of three strings                 ``VARCHAR(8) NOT NULL CHECK (IN ..)``
``note``       ``["string", "null"]``                       ``TEXT``
``tags``       array of strings                             ``JSON``
``parent``     ``$ref`` to another definition               ``parent_id INTEGER REFERENCES ..``
=============  ===========================================  ==================================

Required: ``id``, ``name``, ``created_at``, ``status``. The references form a DAG (definition
``i`` points at definition ``(i - 1) // 2``, a binary tree, so a definition's transitive
references stay O(log N)) plus one self-reference (definition 0 points at itself). The output
depends on N only: same N, same bytes.

Usage: ``python bench/synth.py N [--out DIR]`` writes ``DIR/synth_N.schema.json`` and
``DIR/synth_N.sql``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["ENUM_VALUES", "NAME_MAX", "REQUIRED", "ddl", "json_schema", "parent_of", "write"]

NAME_MAX = 80
ENUM_VALUES = ("draft", "active", "archived")
REQUIRED = ("id", "name", "created_at", "status")


def definition_name(i: int) -> str:
    """Return the JSON Schema definition name of entity ``i``."""
    return f"Entity{i:04d}"


def table_name(i: int) -> str:
    """Return the SQL table name of entity ``i``."""
    return f"entity_{i:04d}"


def parent_of(i: int) -> int:
    """Return the definition that definition ``i`` references (0 references itself)."""
    return 0 if i == 0 else (i - 1) // 2


def _definition(i: int) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"Synthetic entity number {i}.",
        "properties": {
            "id": {"type": "integer", "minimum": 1, "x-persist-primary-key": True},
            "name": {"type": "string", "maxLength": NAME_MAX},
            "score": {"type": "number"},
            "active": {"type": "boolean", "default": True},
            "created_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": list(ENUM_VALUES)},
            "note": {"type": ["string", "null"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "parent": {"$ref": f"#/$defs/{definition_name(parent_of(i))}"},
        },
        "required": list(REQUIRED),
        "additionalProperties": False,
    }


def json_schema(n: int) -> dict[str, Any]:
    """Return the JSON Schema document with ``n`` definitions under ``$defs``."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://example.com/bench/synth_{n}.schema.json",
        "title": f"Synthetic benchmark schema, {n} definitions",
        "$defs": {definition_name(i): _definition(i) for i in range(n)},
    }


def _table(i: int) -> str:
    enum = ", ".join(f"'{v}'" for v in ENUM_VALUES)
    width = max(len(v) for v in ENUM_VALUES)
    return (
        f"-- Synthetic entity number {i}.\n"
        f"CREATE TABLE {table_name(i)} (\n"
        "    id INTEGER NOT NULL PRIMARY KEY CHECK (id >= 1),\n"
        f"    name VARCHAR({NAME_MAX}) NOT NULL,\n"
        "    score DOUBLE PRECISION,\n"
        "    active BOOLEAN NOT NULL DEFAULT TRUE,\n"
        "    created_at TIMESTAMP NOT NULL,\n"
        f"    status VARCHAR({width}) NOT NULL CHECK (status IN ({enum})),\n"
        "    note TEXT,\n"
        "    tags JSON,\n"
        f"    parent_id INTEGER REFERENCES {table_name(parent_of(i))} (id)\n"
        ");\n"
    )


def ddl(n: int) -> str:
    """Return the DDL twin of :func:`json_schema` (tables in dependency order)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    head = f"-- Synthetic benchmark schema, {n} tables (DDL twin of synth_{n}.schema.json).\n\n"
    return head + "\n".join(_table(i) for i in range(n))


def write(n: int, out: Path) -> tuple[Path, Path]:
    """Write both forms for ``n`` definitions into ``out``; return (json path, sql path)."""
    out.mkdir(parents=True, exist_ok=True)
    js = out / f"synth_{n}.schema.json"
    sql = out / f"synth_{n}.sql"
    js.write_text(json.dumps(json_schema(n), indent=2) + "\n", encoding="utf-8")
    sql.write_text(ddl(n), encoding="utf-8")
    return js, sql


def main() -> None:
    """Parse the command line and write the two files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("n", type=int, help="number of object definitions")
    parser.add_argument("--out", type=Path, default=Path("bench/work"), help="output directory")
    args = parser.parse_args()
    for path in write(args.n, args.out):
        print(path)


if __name__ == "__main__":
    main()
