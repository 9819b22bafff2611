"""``frozen_builder``: build a frozen slots dataclass without its ``__init__``.

Generated payload fast paths build their drafts with it (``payload.frozen_builder``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["frozen_builder"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def frozen_builder(cls: Callable[_P, _T]) -> Callable[_P, _T]:
    """Return a function that builds a frozen slots dataclass without running its ``__init__``.

    A frozen dataclass's ``__init__`` sets every field through ``object.__setattr__``, which
    for a small draft costs as much as checking its whole payload. The function returned
    stores each keyword argument straight into its slot (it is compiled once, the way
    ``dataclasses`` compiles ``__init__``), so it must be given every field, and it runs no
    ``__post_init__``: it is for generated drafts, whose values are checked beforehand.
    """
    target: Any = cls
    is_class = isinstance(target, type) and dataclasses.is_dataclass(target)
    names = [f.name for f in dataclasses.fields(target)] if is_class else []
    if not (
        is_class
        and "__slots__" in target.__dict__
        and not hasattr(target, "__post_init__")
        # The function's own locals start with "__" (a class body mangles such field names).
        and not any(name.startswith("__") for name in names)
    ):
        raise TypeError(f"{target!r} is not a slots dataclass without __post_init__")
    namespace: dict[str, Any] = {"__new": object.__new__, "__cls": target}
    body = ["    __self = __new(__cls)"]
    for index, name in enumerate(names):
        namespace[f"__set_{index}"] = target.__dict__[name].__set__
        body.append(f"    __set_{index}(__self, {name})")
    params = f"*, {', '.join(names)}" if names else ""
    source = "\n".join([f"def __build({params}):", *body, "    return __self"])
    exec(source, namespace)  # the names are a dataclass's fields: identifiers, nothing else
    build = namespace["__build"]
    build.__name__ = build.__qualname__ = f"build_{target.__name__}"
    result: Callable[_P, _T] = build
    return result
