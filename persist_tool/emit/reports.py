"""The compat report formats: name -> renderer (``compat-check --format``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from persist_tool.emit.report_github import render_github
from persist_tool.emit.report_json import render_json
from persist_tool.emit.report_markdown import render_markdown
from persist_tool.emit.report_sarif import render_sarif
from persist_tool.emit.report_text import render_text

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = ["REPORTERS", "Reporter", "render_report"]

Reporter = Callable[..., str]
"""``render(report, *, colour=False) -> str``."""

REPORTERS: Mapping[str, Reporter] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
    "github": render_github,
}


def render_report(report: CheckReport, fmt: str, *, colour: bool = False) -> str:
    """Render ``report`` in format ``fmt`` (``KeyError`` naming the formats when unknown)."""
    try:
        renderer = REPORTERS[fmt]
    except KeyError:
        raise KeyError(
            f"unknown report format {fmt!r}; choose from {', '.join(REPORTERS)}"
        ) from None
    return renderer(report, colour=colour)
