"""Read an entity class (dataclass, pydantic model, attrs class or plain class) into the IR.

The class flavour decides which statements declare fields:

* ``dataclass`` (``@dataclasses.dataclass``): annotated attributes, ``field(...)``;
* ``pydantic`` (derives from ``pydantic.BaseModel``): annotated public attributes,
  ``Field(...)``; ``_private`` attributes and ``model_config`` are not fields;
* ``attrs`` (``@attrs.define``/``@attrs.frozen``/``@attr.s`` ...): annotated attributes, or
  ``attr.ib()`` assignments for ``@attr.s`` without ``auto_attribs``;
* ``plain``: annotated class attributes.

Fields of base classes defined in the package are read first, as Python orders them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from persist_tool import ir, naming
from persist_tool.ir import JsonValue, SourceError
from persist_tool.readers.base import Diagnostic
from persist_tool.readers.python_commands import command_decorator, read_command
from persist_tool.readers.python_docs import Comments, attribute_doc, docstring
from persist_tool.readers.python_fields import FieldContext, ReadField, field_call_name, read_field
from persist_tool.readers.python_scope import External, LocalClass, ModuleScope
from persist_tool.readers.python_values import NotLiteral, bind_call, literal

__all__ = ["ENTITY", "ClassShape", "EntityOptions", "entity_decorator", "read_entity"]

ENTITY = "persist_runtime.entity"

# Class decorators the reader understands: qualified name -> (flavour, frozen).
_DECORATORS: dict[str, tuple[str | None, bool]] = {
    "dataclasses.dataclass": ("dataclass", False),
    "pydantic.dataclasses.dataclass": ("dataclass", False),
    "attrs.define": ("attrs", False),
    "attrs.mutable": ("attrs", False),
    "attrs.frozen": ("attrs", True),
    "attr.define": ("attrs", False),
    "attr.mutable": ("attrs", False),
    "attr.frozen": ("attrs", True),
    "attr.s": ("attrs-ib", False),
    "attr.attrs": ("attrs-ib", False),
    "attr.dataclass": ("attrs", False),
    "typing.final": (None, False),
    "functools.total_ordering": (None, False),
    ENTITY: (None, False),
}
_NEUTRAL_BASES = frozenset({"builtins.object", "abc.ABC"})
_PYDANTIC_BASE = "pydantic.BaseModel"
_SKIPPED_ANNOTATIONS = frozenset({"typing.ClassVar", "dataclasses.KW_ONLY"})
_FORBIDDEN_ANNOTATIONS = frozenset({"dataclasses.InitVar", "typing.Final"})


@dataclass(frozen=True, slots=True)
class EntityOptions:
    """The arguments of ``@entity(...)``."""

    table: str | None = None
    schema_version: int = 1
    name: str | None = None
    unique: tuple[tuple[str, ...], ...] = ()
    unique_location: ir.Location | None = None


@dataclass(slots=True)
class ClassShape:
    """What a class (with its package bases) declares."""

    flavour: str
    frozen: bool = False
    fields: dict[str, ReadField] = field(default_factory=dict)
    commands: dict[str, ir.CommandDef] = field(default_factory=dict)


def entity_decorator(scope: ModuleScope, node: ast.ClassDef) -> ast.expr | None:
    """Return the ``@entity`` decorator of a class, or ``None``."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        try:
            resolved = scope.resolve(target)
        except SourceError:
            continue
        if isinstance(resolved, External) and resolved.qualname == ENTITY:
            return decorator
    return None


def entity_options(scope: ModuleScope, decorator: ast.expr | None) -> EntityOptions:
    """Read the arguments of ``@entity(table=..., schema_version=..., name=...)``."""
    if decorator is None:
        return EntityOptions()
    if not isinstance(decorator, ast.Call):
        raise SourceError(
            scope.location(decorator),
            "@entity must be called",
            'write @entity() or @entity(table="...", schema_version=1)',
        )
    allowed = {
        "table": "table name",
        "schema_version": "schema version",
        "name": "entity name",
        "unique": "multi-field unique constraints",
    }
    args = bind_call(scope, decorator, "entity", allowed)
    unique_node = args.pop("unique", None)
    values: dict[str, object] = {}
    for key, node in args.items():
        try:
            values[key] = literal(scope, node)
        except NotLiteral:
            values[key] = node
        value = values[key]
        if key == "schema_version":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SourceError(
                    scope.location(node), "schema_version must be an integer literal >= 1"
                )
        elif not isinstance(value, str) or not value:
            raise SourceError(scope.location(node), f"{key} must be a non-empty string literal")
    if "name" in values and not str(values["name"]).isidentifier():
        raise SourceError(scope.location(args["name"]), "the entity name must be an identifier")
    return EntityOptions(
        table=values.get("table"),  # type: ignore[arg-type]
        schema_version=values.get("schema_version", 1),  # type: ignore[arg-type]
        name=values.get("name"),  # type: ignore[arg-type]
        unique=_unique_groups(scope, unique_node) if unique_node is not None else (),
        unique_location=scope.location(unique_node) if unique_node is not None else None,
    )


def _unique_groups(scope: ModuleScope, node: ast.expr) -> tuple[tuple[str, ...], ...]:
    try:
        value = literal(scope, node)
    except NotLiteral:
        value = None
    if not isinstance(value, list | tuple) or not all(
        isinstance(group, list | tuple) and group and all(isinstance(n, str) for n in group)
        for group in value
    ):
        raise SourceError(
            scope.location(node),
            "unique= must be a literal list of field-name tuples",
            'write unique=[("customer_id", "currency")]',
        )
    return tuple(tuple(str(n) for n in group) for group in value)


def read_entity(
    cls: LocalClass,
    options: EntityOptions,
    schema_version: int | None,
    warnings: list[Diagnostic],
) -> ir.Entity:
    """Read one entity class; ``warnings`` collects the readers' diagnostics."""
    scope, node = cls.scope, cls.node
    name = options.name or node.name
    table = options.table or naming.snake_case(node.name)
    fctx = FieldContext(scope, name, "plain")
    shape = _read_class(fctx, cls, set())
    warnings.extend(fctx.warnings)
    location = scope.location(node)
    if not shape.fields:
        raise SourceError(
            location,
            f"entity {name} has no fields",
            "annotate its attributes (x: int) in the class body",
        )
    fields = tuple(f.field for f in shape.fields.values())
    _check_frozen(name, shape, location)
    primary_key, unique, indexes = _keys(name, table, shape, location)
    unique += _declared_unique(name, shape, options, unique)
    extra: dict[str, JsonValue] = {
        "python_class": {
            "module": scope.module,
            "name": node.name,
            "flavour": shape.flavour.removesuffix("-ib"),
            "frozen": shape.frozen,
        }
    }
    return ir.Entity(
        name=name,
        table=table,
        schema_version=schema_version or options.schema_version,
        fields=fields,
        primary_key=primary_key,
        unique=unique,
        indexes=indexes,
        commands=tuple(shape.commands.values()),
        doc=docstring(node),
        location=location,
        extra=extra,
    )


def _check_frozen(name: str, shape: ClassShape, location: ir.Location) -> None:
    if not shape.frozen:
        return
    mutable = [f.field.name for f in shape.fields.values() if not f.field.immutable]
    if mutable:
        raise SourceError(
            location,
            f"entity {name} is frozen but fields {', '.join(mutable)} are mutable",
            "mark them Immutable, or make the class mutable so patches can apply",
        )
    if shape.commands:
        command = next(iter(shape.commands.values()))
        raise SourceError(
            command.location or location,
            f"entity {name} is frozen: command {command.name} cannot change it",
            "make the class mutable",
        )


def _declared_unique(
    name: str,
    shape: ClassShape,
    options: EntityOptions,
    existing: tuple[tuple[str, ...], ...],
) -> tuple[tuple[str, ...], ...]:
    groups: list[tuple[str, ...]] = []
    for group in options.unique:
        for field_name in group:
            if field_name not in shape.fields:
                raise SourceError(
                    options.unique_location,
                    f"unique names {field_name!r}, which is not a field of {name}",
                    "available: " + ", ".join(shape.fields),
                )
        if len(set(group)) != len(group):
            raise SourceError(options.unique_location, f"unique group {group} repeats a field")
        if group not in existing and group not in groups:
            groups.append(group)
    return tuple(groups)


def _keys(
    name: str, table: str, shape: ClassShape, location: ir.Location
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[ir.Index, ...]]:
    primary: list[str] = []
    unique: list[tuple[str, ...]] = []
    groups: dict[str, tuple[list[str], bool, ir.Location]] = {}
    for read in shape.fields.values():
        fname = read.field.name
        for marker in read.markers:
            if marker.kind == "PrimaryKey":
                primary.append(fname)
            elif marker.kind == "Unique":
                unique.append((fname,))
            elif marker.kind == "Index":
                index_name = marker.args.get("name") or f"ix_{table}_{fname}"
                is_unique = bool(marker.args.get("unique"))
                columns, group_unique, first = groups.setdefault(
                    str(index_name), ([], is_unique, marker.location)
                )
                if group_unique != is_unique:
                    raise SourceError(
                        marker.location,
                        f"index {index_name} is declared both unique and not unique",
                        f"first declared at {first}",
                    )
                if fname in columns:
                    raise SourceError(marker.location, f"{fname} is in index {index_name} twice")
                columns.append(fname)
    if not primary:
        raise SourceError(
            location,
            f"entity {name} has no primary key",
            "mark its key: id: Annotated[int, PrimaryKey(auto=True)]",
        )
    indexes = tuple(ir.Index(n, tuple(c), u) for n, (c, u, _) in groups.items())
    return tuple(primary), tuple(unique), indexes


# --------------------------------------------------------------------------- classes


def _read_class(fctx: FieldContext, cls: LocalClass, seen: set[int]) -> ClassShape:
    scope, node = cls.scope, cls.node
    if id(node) in seen:
        raise SourceError(scope.location(node), f"class {node.name} derives from itself")
    seen = seen | {id(node)}
    flavour, frozen = _decorated_flavour(scope, node)
    inherited: list[ClassShape] = []
    for base in node.bases:
        resolved = scope.resolve(base)
        if isinstance(resolved, LocalClass):
            inherited.append(_read_class(fctx, resolved, seen))
        elif resolved.qualname == _PYDANTIC_BASE:  # type: ignore[union-attr]
            inherited.append(ClassShape("pydantic"))
        elif not (isinstance(resolved, External) and resolved.qualname in _NEUTRAL_BASES):
            raise SourceError(
                scope.location(base),
                f"base class {ast.unparse(base)} of {node.name} cannot be read "
                "(it is not defined in this package)",
                "entity classes may derive from pydantic.BaseModel or from classes of the package",
            )
    for keyword in node.keywords:
        frozen = _class_keyword(scope, node, keyword) or frozen
    base_flavours = {b.flavour for b in inherited if b.flavour != "plain" or b.fields}
    if "pydantic" in base_flavours:
        if flavour is not None:
            raise SourceError(
                scope.location(node),
                f"{node.name} is a pydantic model and also decorated as a {flavour} class",
                "drop the class decorator",
            )
        flavour = "pydantic"
    elif flavour is None:
        flavour = "plain"
    for parent in inherited:
        if parent.fields and parent.flavour.removesuffix("-ib") != flavour.removesuffix("-ib"):
            raise SourceError(
                scope.location(node),
                f"{node.name} is a {flavour} class but inherits fields from a "
                f"{parent.flavour} class",
                "use the same flavour for the entity and its base classes",
            )
    if flavour == "pydantic":
        frozen = frozen or pydantic_config_frozen(scope, node)
    shape = ClassShape(flavour, frozen or any(b.frozen for b in inherited))
    for parent in inherited:
        shape.fields.update(parent.fields)
        shape.commands.update(parent.commands)
    own = FieldContext(scope, fctx.entity, flavour.removesuffix("-ib"), fctx.warnings)
    _read_body(own, node, shape, flavour)
    return shape


def _decorated_flavour(scope: ModuleScope, node: ast.ClassDef) -> tuple[str | None, bool]:
    flavour: str | None = None
    frozen = False
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        qualname = ""
        if not (isinstance(target, ast.Name) and target.id in scope.functions):
            resolved = scope.resolve(target)
            qualname = resolved.qualname if isinstance(resolved, External) else ""
        if qualname not in _DECORATORS:
            raise SourceError(
                scope.location(decorator),
                f"unknown decorator @{ast.unparse(target)} on entity class {node.name}",
                "the reader cannot tell what it does to the class; known: @entity, "
                "@dataclass, @attrs.define/frozen/mutable, @attr.s",
            )
        kind, is_frozen = _DECORATORS[qualname]
        frozen = frozen or is_frozen
        if kind is None:
            continue
        if flavour is not None:
            raise SourceError(
                scope.location(decorator), f"{node.name} is decorated twice as a class"
            )
        flavour = kind
        if call is not None:
            options = _decorator_flags(scope, call)
            if options.get("init") is False:
                raise SourceError(
                    scope.location(decorator),
                    f"{node.name} has no generated constructor (init=False)",
                    "persisted classes are built with keyword arguments; drop init=False",
                )
            frozen = frozen or options.get("frozen") is True
            if kind == "attrs-ib" and options.get("auto_attribs") is True:
                flavour = "attrs"
    return flavour, frozen


def _decorator_flags(scope: ModuleScope, call: ast.Call) -> dict[str, object]:
    flags: dict[str, object] = {}
    for keyword in call.keywords:
        if keyword.arg in ("init", "frozen", "auto_attribs"):
            try:
                flags[keyword.arg] = literal(scope, keyword.value)
            except NotLiteral:
                raise SourceError(
                    scope.location(keyword.value), f"{keyword.arg}= must be True or False"
                ) from None
    return flags


def _class_keyword(scope: ModuleScope, node: ast.ClassDef, keyword: ast.keyword) -> bool:
    if keyword.arg == "frozen":
        try:
            return literal(scope, keyword.value) is True
        except NotLiteral:
            pass
    raise SourceError(
        scope.location(keyword.value),
        f"class keyword {keyword.arg}= of {node.name} cannot be read statically",
        "only frozen=True/False is understood",
    )


def _read_body(fctx: FieldContext, node: ast.ClassDef, shape: ClassShape, flavour: str) -> None:
    scope = fctx.scope
    comments = scope.comments
    own_fields: set[str] = set()
    for index, stmt in enumerate(node.body):
        if isinstance(stmt, ast.AnnAssign | ast.Assign):
            read = _statement_field(fctx, node, stmt, index, comments, flavour)
            if read is None:
                continue
            fname = read.field.name
            if fname in own_fields:
                raise SourceError(
                    scope.location(stmt),
                    f"field {fname!r} of {fctx.entity} is declared twice",
                    "remove one of the declarations",
                )
            own_fields.add(fname)
            shape.fields[fname] = read
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            decorator = command_decorator(fctx, stmt)
            if decorator is not None:
                shape.commands[stmt.name] = read_command(fctx, stmt, decorator)
        elif isinstance(stmt, ast.ClassDef) and stmt.name == "Config" and flavour == "pydantic":
            shape.frozen = _pydantic_v1_frozen(scope, stmt) or shape.frozen
        elif isinstance(stmt, ast.If | ast.For | ast.While | ast.Try | ast.With):
            for inner in ast.walk(stmt):
                if isinstance(inner, ast.AnnAssign):
                    raise SourceError(
                        scope.location(inner),
                        f"{fctx.entity} declares a field inside a {type(stmt).__name__.lower()} "
                        "block; fields must be declared unconditionally",
                    )
    _check_command_names(fctx, node, shape)


def _check_command_names(fctx: FieldContext, node: ast.ClassDef, shape: ClassShape) -> None:
    seen: dict[str, ast.stmt] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name in seen and stmt.name in shape.commands:
                raise SourceError(
                    fctx.scope.location(stmt),
                    f"method {stmt.name} of {fctx.entity} is defined twice",
                    "the later definition hides the command; remove one",
                )
            seen[stmt.name] = stmt
            if stmt.name in shape.fields and stmt.name in shape.commands:
                raise SourceError(
                    fctx.scope.location(stmt),
                    f"command {stmt.name} has the name of a field of {fctx.entity}",
                )


def _annotation_kind(scope: ModuleScope, annotation: ast.expr) -> str:
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    if isinstance(target, ast.Constant) and isinstance(target.value, str):
        head = target.value.split("[", 1)[0].strip()
        try:
            target = ast.parse(head, mode="eval").body
        except SyntaxError:
            return ""
    if not isinstance(target, ast.Name | ast.Attribute):
        return ""
    try:
        resolved = scope.resolve(target)
    except SourceError:
        return ""
    return resolved.qualname if isinstance(resolved, External) else ""


def _statement_field(
    fctx: FieldContext,
    node: ast.ClassDef,
    stmt: ast.AnnAssign | ast.Assign,
    index: int,
    comments: Comments,
    flavour: str,
) -> ReadField | None:
    scope = fctx.scope
    if isinstance(stmt, ast.Assign):
        call_name = field_call_name(scope, stmt.value)
        if call_name is None:
            return None  # a class constant, not a field
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            raise SourceError(scope.location(stmt), "a field must be assigned to a single name")
        name = stmt.targets[0].id
        if flavour != "attrs-ib":
            raise SourceError(
                scope.location(stmt),
                f"field {name!r} of {fctx.entity} has no type annotation",
                f"write {name}: <type> = ...",
            )
        annotation: ast.expr | None = None
        value: ast.expr | None = stmt.value
    else:
        if not isinstance(stmt.target, ast.Name):
            return None
        name = stmt.target.id
        annotation, value = stmt.annotation, stmt.value
        kind = _annotation_kind(scope, annotation)
        if kind in _SKIPPED_ANNOTATIONS:
            return None
        if kind in _FORBIDDEN_ANNOTATIONS:
            raise SourceError(
                scope.location(annotation),
                f"field {name!r} of {fctx.entity}: {kind} is not a persisted field",
                "use a ClassVar for constants, or a plain annotated field",
            )
        if flavour == "pydantic" and (name.startswith("_") or name == "model_config"):
            return None
        if flavour == "attrs-ib" and field_call_name(scope, value) is None:
            return None  # attr.s without auto_attribs: only attr.ib() declares fields
    _check_name(fctx, name, stmt)
    doc = attribute_doc(node.body, index, comments)
    return read_field(fctx, name, annotation, value, stmt, doc)


def _check_name(fctx: FieldContext, name: str, stmt: ast.stmt) -> None:
    scope = fctx.scope
    if name.startswith("_"):
        raise SourceError(
            scope.location(stmt),
            f"field {name!r} of {fctx.entity} is private; persisted fields are public attributes",
            "drop the leading underscore (or make it a ClassVar if it is not stored)",
        )
    if name in naming.RESERVED_FIELD_NAMES:
        raise SourceError(
            scope.location(stmt),
            f"field {name!r} of {fctx.entity} shadows a name generated modules need",
            f"rename the attribute (for example {name}_value); generated code uses the "
            "attribute name as is",
        )


def _pydantic_v1_frozen(scope: ModuleScope, config: ast.ClassDef) -> bool:
    for stmt in config.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and target.id in ("frozen", "allow_mutation"):
                try:
                    value = literal(scope, stmt.value)
                except NotLiteral:
                    continue
                return value is (target.id == "frozen")
    return False


def pydantic_config_frozen(scope: ModuleScope, node: ast.ClassDef) -> bool:
    """Return whether ``model_config = ConfigDict(frozen=True)`` (or a dict) freezes a model."""
    for stmt in node.body:
        value: ast.expr | None = None
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets)
        ) or (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == "model_config"
        ):
            value = stmt.value
        if isinstance(value, ast.Call):
            for keyword in value.keywords:
                if keyword.arg == "frozen":
                    try:
                        return literal(scope, keyword.value) is True
                    except NotLiteral:
                        return False
        elif isinstance(value, ast.Dict):
            try:
                config = literal(scope, value)
            except NotLiteral:
                return False
            return isinstance(config, dict) and config.get("frozen") is True
    return False
