"""Load and render the jinja2 templates shipped with the tool."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

__all__ = ["render_template", "template_dir"]


def template_dir() -> Path:
    """Return the directory holding the templates.

    An installed wheel carries them as ``persist_tool/templates``; a source checkout keeps
    them in ``templates/`` at the repository root.
    """
    here = Path(__file__).resolve().parent.parent
    packaged = here / "templates"
    if packaged.is_dir():
        return packaged
    return here.parent / "templates"


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_template(name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    text: str = _environment().get_template(name).render(**context)
    return text
