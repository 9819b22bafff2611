"""Read entities from Python classes, statically: the user's code is never imported or run.

The module is parsed with :mod:`ast`. A top-level class is an entity when it is decorated
with ``persist_runtime.entity(...)`` (under any import alias) or named in
``ReadOptions.entities``. Dataclasses, pydantic models, attrs classes and plain annotated
classes are understood (see :mod:`python_entity`); annotations, markers, defaults and
``@command`` methods are read by the helper modules ``python_*``.

Conventions (documented for users):

* ``Field.name`` and ``Field.column`` are the attribute name: generated modules import the
  user's class, so its attribute names are the API. Names generated code needs for itself
  (``naming.RESERVED_FIELD_NAMES``) and private ``_names`` are errors with a hint.
* The table is ``@entity(table=...)``, else the snake_case class name (``OrderLine`` ->
  ``order_line``), the inverse of the DDL reader's table -> class rule up to plurals.
* A ``datetime`` carries a time zone only when the source says so (``AwareDatetime``,
  ``Annotated[datetime, timezone.utc]`` or an aware default factory), like ``TIMESTAMP`` in
  the DDL reader; see :mod:`python_types`.
* Database-made values: ``PrimaryKey(auto=True)`` for keys, ``Generated(sql)`` for other
  columns (``DEFAULT CURRENT_TIMESTAMP``); both are ``generated`` and left out of the Draft.
  Multi-field unique constraints come from ``@entity(unique=[(...), ...])``.
* ``Entity.extra["python_class"]`` is ``{"module", "name", "flavour", "frozen"}``: the dotted
  module relative to the package root, the class name, ``dataclass``/``pydantic``/``attrs``
  /``plain`` and whether instances are frozen. Enum fields carry
  ``Field.extra["python_enum"] = {"module", "name"}`` so generated code can use the user's
  enum class; ``Literal`` fields carry ``Field.extra["python_literal"] = True``.
* A default the reader cannot evaluate is dropped with a warning (the Draft requires the
  value); every other unreadable construct is a ``SourceError`` at its line and column.
"""

from __future__ import annotations

from persist_tool import ir
from persist_tool.ir import Location, SourceError
from persist_tool.readers.base import Diagnostic, ReadOptions, ReadResult
from persist_tool.readers.python_entity import entity_decorator, entity_options, read_entity
from persist_tool.readers.python_scope import Loader, LocalClass, ModuleScope, package_root_of

__all__ = ["read"]


def read(text: str, options: ReadOptions) -> ReadResult:
    """Read the entity classes of one Python module."""
    root = (
        options.package_root if options.package_root is not None else package_root_of(options.path)
    )
    loader = Loader(root, (options.path, options.display))
    scope = loader.parse(options.path, options.display, text)
    warnings: list[Diagnostic] = []
    entities: list[ir.Entity] = []
    for cls in _select(scope, options):
        decorator = entity_decorator(scope, cls.node)
        entity = read_entity(
            cls, entity_options(scope, decorator), options.schema_version, warnings
        )
        entities.append(entity)
    _check_unique(entities)
    return ReadResult(ir.Schema(tuple(entities), source=options.display), tuple(warnings))


def _select(scope: ModuleScope, options: ReadOptions) -> list[LocalClass]:
    classes = [LocalClass(scope, node) for node in scope.classes.values()]
    classes.sort(key=lambda c: c.node.lineno)
    if not options.entities:
        chosen = [c for c in classes if entity_decorator(scope, c.node) is not None]
        if not chosen:
            raise SourceError(
                Location(options.display, 1, 1),
                "no entity class found",
                "decorate entity classes with @persist_runtime.entity(...) "
                "or name them with --entity",
            )
        return chosen
    wanted = set(options.entities)
    chosen = []
    for cls in classes:
        decorator = entity_decorator(scope, cls.node)
        names = {cls.node.name}
        if decorator is not None:
            opts = entity_options(scope, decorator)
            names |= {n for n in (opts.name, opts.table) if n}
        if names & wanted:
            chosen.append(cls)
            wanted -= names
    if wanted:
        missing = ", ".join(sorted(wanted))
        raise SourceError(
            Location(options.display, 1, 1),
            f"no class named {missing} in this module",
            "available: " + (", ".join(c.node.name for c in classes) or "none"),
        )
    return chosen


def _check_unique(entities: list[ir.Entity]) -> None:
    seen: dict[str, ir.Entity] = {}
    for entity in entities:
        for key in {entity.name, entity.table}:
            other = seen.get(key)
            if other is not None and other is not entity:
                raise SourceError(
                    entity.location,
                    f"entity {entity.name} uses the name or table {key!r} of {other.name}",
                    f"{other.name} is declared at {other.location}",
                )
            seen[key] = entity
