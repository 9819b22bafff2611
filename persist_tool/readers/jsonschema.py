"""Read entities from a JSON Schema document (draft-04, -06, -07, 2019-09, 2020-12).

Which schemas are entities: the names given in ``options.entities`` (definition key, entity
name or table); otherwise the schemas carrying ``x-persist-*`` metadata; otherwise the root,
when it describes an object; otherwise every object schema under ``$defs``/``definitions``.
A root that is a ``oneOf``/``anyOf`` with exactly one object alternative (a config file that
may also be a string, say) yields that alternative, with a warning naming what is left out.
The root entity is named after the file (``package.json`` -> ``Package``), a definition
after its key.

References and ``allOf`` are resolved with the ``referencing`` library (see
``jsonschema_refs``); metadata keywords are described in ``jsonschema_meta``, type mapping in
``jsonschema_types``.

Where ``x-persist-*`` keywords are read from: a schema's metadata is what it declares itself,
on its own node and on its ``allOf`` members (recursively, inline members only).

* Entity keywords (``x-persist-table``, ``x-persist-primary-key``...) never come through a
  reference. An entity that composes a base (``allOf: [{"$ref": "#/$defs/Base"}, ...]``) or
  is itself ``{"$ref": ...}`` gets the base's properties, each with its own property
  keywords, but not the base's table, keys or indexes: it states its own. A root that is
  only ``{"$ref": "#/$defs/Order"}`` carries no metadata, so when ``Order`` is marked, the
  root is not a second entity beside it.
* Property keywords follow a reference only into a schema that describes a plain value:
  a reusable ``Id`` (``x-persist-generated``) or ``Money`` (``x-persist-type``) definition
  lends its keywords to every property that refers to it. A referenced schema that
  describes an object (``type: object`` or object keywords) is another entity's shape: a
  property referring to it is a ``json`` field holding that shape, and the target's keywords
  (its table, its keys, its renames) stay with the target. Keywords written on the property
  itself (beside its ``$ref``, even in drafts that ignore ``$ref`` siblings) always count,
  and the first statement in reading order wins: the property node, then what its
  reference brings, then its ``allOf`` members.

The sub-schemas kept for run-time validation are copied without ``x-*`` keywords, so a
referenced entity's metadata never reaches generated code.

Each property becomes a field: ``Field.column`` is the property name exactly as written and
``extra["json_key"]`` repeats it (payloads keep the document's own keys, ``dev-dependencies``
or ``$schema``); ``Field.name`` is a unique safe Python name. A property listed in
``required`` must be given in a draft (a ``default`` beside it is kept in
``extra["json_default"]`` only); any other property may be absent: it takes its ``default``,
or is nullable with no default (``extra["json_omit_null"]`` then says that ``null`` is not one
of its JSON values, so payload writers leave the key out instead of writing ``null``).
``null`` in ``type``/``enum``, ``nullable: true`` or an ``anyOf`` with ``{"type": "null"}``
make a field nullable. ``description`` (else ``title``) becomes the doc.

Members that ``additionalProperties``/``patternProperties`` allow beyond the named
properties are kept in one extra ``json`` field marked ``extra["json_rest"] = True``
(default ``{}``), whose schema validates them; payload readers collect unknown keys into
it and writers spread it back. Entity-level keywords that span properties (``if``/``then``,
``dependencies``, ``oneOf``...) are kept, self-contained, in ``Entity.extra["json_schema"]``
so generated code can check whole payloads against them.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from persist_tool import ir, naming
from persist_tool.readers.base import ReadOptions, ReadResult
from persist_tool.readers.jsonschema_bundle import Bundler
from persist_tool.readers.jsonschema_merge import View, flatten, merge, persist_of
from persist_tool.readers.jsonschema_meta import EntityMeta, entity_meta, field_meta
from persist_tool.readers.jsonschema_refs import SchemaNode, Workspace
from persist_tool.readers.jsonschema_types import EnumNames, Mapped, map_schema

__all__ = ["read"]

_REST_FIELD = "additional_properties"


def read(text: str, options: ReadOptions) -> ReadResult:
    """Read the entities of the JSON Schema ``text`` (``SourceError`` on invalid input)."""
    workspace = Workspace(text, options.path, options.display)
    candidates = _candidates(workspace, options)
    selected = _select(candidates, options, workspace)
    taken = {name for name, _, _ in selected}
    entities = tuple(_entity(name, node, view, taken, options) for name, node, view in selected)
    schema = ir.Schema(entities=entities, source=options.display)
    return ReadResult(schema=schema, warnings=tuple(workspace.warnings))


# --------------------------------------------------------------------------- selection

Candidate = tuple[str, SchemaNode, View]


def _object_view(node: SchemaNode) -> View | None:
    if not isinstance(node.schema, dict):
        return None
    view = merge(flatten(node))
    if view.types is not None and view.types != {"object"}:
        return None
    if view.types is None and not view.properties:
        return None
    view.persist = persist_of([node], through_values=False)
    return view


def _root_name(options: ReadOptions) -> str:
    name = PurePosixPath(options.display or options.path.name).name
    for suffix in (".schema.json", ".jsonschema", ".json"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return naming.class_name(name)


def _candidates(workspace: Workspace, options: ReadOptions) -> list[tuple[str, str, Candidate]]:
    """Return ``(kind, key, candidate)`` for the root and each object definition."""
    root = workspace.root
    found: list[tuple[str, str, Candidate]] = []
    view = _object_view(root)
    if view is None:
        branch = _object_branch(root)
        if branch is not None:
            view = _object_view(branch)
            if view is not None:
                root = branch
    if view is not None:
        found.append(("root", "", (_root_name(options), root, view)))
    for container in ("$defs", "definitions"):
        members = workspace.root.schema.get(container)
        if not isinstance(members, dict):
            continue
        for key in members:
            node = workspace.root.child(container, key)
            member_view = _object_view(node)
            if member_view is not None:
                name = key if key.isidentifier() and key[:1].isupper() else naming.class_name(key)
                found.append(("definition", key, (name, node, member_view)))
    return found


def _object_branch(root: SchemaNode) -> SchemaNode | None:
    for keyword in ("oneOf", "anyOf"):
        branches = root.schema.get(keyword)
        if not isinstance(branches, list):
            continue
        objects = [i for i in range(len(branches)) if _object_view(root.child(keyword, i))]
        if len(objects) == 1:
            others = len(branches) - 1
            root.workspace.warn(
                root.location(keyword),
                f"the root is a {keyword} of an object and {others} other alternative(s); "
                "the entity is the object, documents of the other forms are not entities",
            )
            return root.child(keyword, objects[0])
    return None


def _select(
    found: list[tuple[str, str, Candidate]], options: ReadOptions, workspace: Workspace
) -> list[Candidate]:
    if options.entities:
        chosen: list[Candidate] = []
        for wanted in options.entities:
            match = [c for kind, key, c in found if wanted in (key, c[0], _table_of(c))]
            if not match:
                available = ", ".join(c[0] for _, _, c in found) or "none"
                raise ir.SourceError(
                    workspace.root.location(),
                    f"no entity {wanted!r} in this schema",
                    f"entities available: {available}",
                )
            chosen.extend(c for c in match if c not in chosen)
        return chosen
    marked = [c for _, _, c in found if c[2].persist]
    if marked:
        return marked
    roots = [c for kind, _, c in found if kind == "root"]
    if roots:
        return roots
    if not found:
        raise ir.SourceError(
            workspace.root.location(),
            "no entity in this schema: neither the root nor any $defs/definitions member "
            "describes an object",
            "an entity is an object schema with properties",
        )
    return [c for _, _, c in found]


def _table_of(candidate: Candidate) -> str | None:
    table = candidate[2].persist.get("x-persist-table")
    return table[0] if table and isinstance(table[0], str) else None


# --------------------------------------------------------------------------- entities


def _doc(view: View) -> str | None:
    for keyword in ("description", "title"):
        item = view.annotations.get(keyword)
        if item is not None and isinstance(item[0], str) and item[0].strip():
            return str(item[0]).strip()
    return None


def _entity(
    name: str, node: SchemaNode, view: View, taken: set[str], options: ReadOptions
) -> ir.Entity:
    meta = entity_meta(view.persist)
    props = list(view.properties)
    for required in view.required:
        if required not in view.properties:
            props.append(required)
    names = naming.assign_unique(props)
    enums = EnumNames(set(taken))
    fields: list[ir.Field] = []
    primary = list(meta.primary_key)
    unique = list(meta.unique)
    indexes = list(meta.indexes)
    for prop in props:
        nodes = view.properties.get(prop) or []
        field, field_extra = _field(
            prop, names[prop], nodes, prop in view.required, name, enums, node
        )
        fields.append(field)
        if field_extra["primary_key"]:
            primary.append(prop)
        if field_extra["unique"]:
            unique.append((prop,))
        if field_extra["index"] is not None:
            index_name, index_unique = field_extra["index"]
            indexes.append((index_name, (prop,), index_unique))
    rest = _rest_field(view, set(names.values()))
    if rest is not None:
        fields.append(rest)
    table = meta.table or naming.snake_case(name) or "entity"

    def field_names(group: tuple[str, ...] | list[str], keyword: str) -> tuple[str, ...]:
        result = []
        for prop in group:
            if prop not in names:
                raise ir.SourceError(
                    meta.locations.get(keyword, node.location()),
                    f"{keyword}: {prop!r} is not a property of {name}",
                )
            result.append(names[prop])
        return tuple(result)

    primary_key = field_names(list(dict.fromkeys(primary)), "x-persist-primary-key")
    fields = [
        f if f.name not in primary_key or f.immutable else _replace(f, immutable=True)
        for f in fields
    ]
    extra = _entity_extra(view, meta)
    return ir.Entity(
        name=name,
        table=table,
        schema_version=options.schema_version or meta.schema_version or 1,
        fields=tuple(fields),
        primary_key=primary_key,
        unique=tuple(dict.fromkeys(field_names(u, "x-persist-unique") for u in unique)),
        indexes=tuple(
            ir.Index(
                index_name or f"ix_{table}_{'_'.join(field_names(cols, 'x-persist-index'))}",
                field_names(cols, "x-persist-index"),
                index_unique,
            )
            for index_name, cols, index_unique in indexes
        ),
        doc=_doc(view) or (_doc(merge([node.workspace.root])) if _is_root(node) else None),
        location=node.location(),
        extra=extra,
    )


def _is_root(node: SchemaNode) -> bool:
    """Whether ``node`` is the root schema or the object alternative picked from it."""
    return node.pointer == "" or node.pointer.startswith(("/oneOf/", "/anyOf/"))


def _replace(f: ir.Field, **changes: Any) -> ir.Field:
    import dataclasses

    return dataclasses.replace(f, **changes)


def _entity_extra(view: View, meta: EntityMeta) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if meta.renamed_from:
        extra["renamed_from"] = list(meta.renamed_from)
    if view.residual:
        bundler = Bundler()
        parts = [
            bundler.copy(
                SchemaNode(
                    {k: n.schema[k] for k in keywords},
                    n.resolver,
                    n.document,
                    n.pointer,
                    n.workspace,
                )
            )
            for n, keywords in view.residual
        ]
        schema: dict[str, Any] = parts[0] if len(parts) == 1 else {"allOf": parts}
        if bundler.defs:
            schema = {**schema, "$defs": dict(sorted(bundler.defs.items()))}
        extra["json_schema"] = schema
    return extra


def _rest_field(view: View, used: set[str]) -> ir.Field | None:
    """Return the field holding members beyond the named properties, when any are allowed."""
    closed = any(n.schema is False for n in view.additional)
    if closed and not view.pattern_properties:
        return None
    bundler = Bundler()
    schema: dict[str, Any] = {"type": "object"}
    if view.pattern_properties:
        schema["patternProperties"] = {
            pattern: _conjunction(bundler, nodes)
            for pattern, nodes in view.pattern_properties.items()
        }
    if closed:
        schema["additionalProperties"] = False
    elif view.additional:
        schema["additionalProperties"] = _conjunction(bundler, view.additional)
    if bundler.defs:
        schema["$defs"] = dict(sorted(bundler.defs.items()))
    name = naming.assign_unique([_REST_FIELD], used)[_REST_FIELD]
    return ir.Field(
        name=name,
        column=name,
        type=ir.JsonType(schema=schema),
        default=ir.Default(ir.Default.FACTORY, "dict"),
        doc="Members beyond the named properties, as the schema allows them.",
        extra={"json_rest": True},
    )


def _conjunction(bundler: Bundler, nodes: list[SchemaNode]) -> Any:
    copies = [bundler.copy(n) for n in nodes]
    return copies[0] if len(copies) == 1 else {"allOf": copies}


# --------------------------------------------------------------------------- fields


def _field(
    prop: str,
    name: str,
    nodes: list[SchemaNode],
    required: bool,
    entity: str,
    enums: EnumNames,
    owner: SchemaNode,
) -> tuple[ir.Field, dict[str, Any]]:
    if nodes:
        mapped = map_schema(nodes, entity + naming.pascal_case(prop), enums)
        location = nodes[0].location()
    else:  # listed in "required" only: any JSON value
        mapped = Mapped(ir.JsonType(schema={}), ir.Constraints(), False, View(parts=[]))
        location = owner.location("required")
    view = mapped.view
    meta = field_meta(view.persist)
    field_type = meta.type or mapped.type
    extra: dict[str, Any] = {"json_key": prop}
    if isinstance(field_type, ir.JsonType) and "object" in (view.types or ()):
        extra["json_type_name"] = entity + naming.pascal_case(prop)
    default = None
    default_item = view.annotations.get("default")
    if default_item is not None:
        default = _default(default_item, field_type, mapped, prop, owner)
    if required and default is not None:
        extra["json_default"] = default.value
        default = None
    generated = meta.generated
    if meta.generated_sql is not None:
        default = ir.Default(ir.Default.SQL, meta.generated_sql)
    nullable = mapped.nullable
    if not required and default is None and not generated and not nullable:
        nullable = True
        extra["json_omit_null"] = True
    field = ir.Field(
        name=name,
        column=prop,
        type=field_type,
        nullable=nullable,
        default=default,
        generated=generated,
        immutable=meta.immutable or meta.primary_key,
        doc=_doc(view),
        constraints=mapped.constraints,
        renamed_from=tuple(naming.safe_identifier(old) for old in meta.renamed_from),
        location=location,
        extra=extra,
    )
    return field, {"primary_key": meta.primary_key, "unique": meta.unique, "index": meta.index}


def _default(
    item: tuple[Any, SchemaNode],
    field_type: ir.FieldType,
    mapped: Mapped,
    prop: str,
    owner: SchemaNode,
) -> ir.Default | None:
    value, node = item
    if value is None:
        return None
    if value == [] and isinstance(field_type, ir.ArrayType | ir.JsonType):
        return ir.Default(ir.Default.FACTORY, "list")
    if value == {} and isinstance(field_type, ir.JsonType):
        return ir.Default(ir.Default.FACTORY, "dict")
    if _fits(value, field_type):
        return ir.Default(ir.Default.LITERAL, value)
    node.workspace.warn(
        node.location("default"),
        f"default {value!r} of property {prop!r} is not a valid value of its type; "
        "the property has no default",
    )
    return None


def _fits(value: Any, field_type: ir.FieldType) -> bool:
    if isinstance(field_type, ir.EnumType):
        return any(value == v and type(value) is type(v) for v in field_type.values)
    if isinstance(field_type, ir.ArrayType):
        return isinstance(value, list) and all(_fits(v, field_type.item) for v in value)
    checks: dict[type[ir.FieldType], Any] = {
        ir.StringType: lambda v: isinstance(v, str),
        ir.IntegerType: lambda v: isinstance(v, int) and not isinstance(v, bool),
        ir.FloatType: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        ir.DecimalType: lambda v: isinstance(v, int | float | str) and not isinstance(v, bool),
        ir.BooleanType: lambda v: isinstance(v, bool),
        ir.DateType: lambda v: isinstance(v, str),
        ir.DateTimeType: lambda v: isinstance(v, str),
        ir.TimeType: lambda v: isinstance(v, str),
        ir.UuidType: lambda v: isinstance(v, str),
        ir.BytesType: lambda v: isinstance(v, str),
    }
    check = checks.get(type(field_type))
    # json fields take any JSON value; generated code validates it like any other value
    return True if check is None else bool(check(value))
