"""Read documentation from Python sources: docstrings, attribute docstrings, ``#:`` comments.

Attribute docs follow the Sphinx conventions: a string statement right after the attribute,
``#:`` comment lines right above it, or a ``#:`` comment at the end of its line.
"""

from __future__ import annotations

import ast
import inspect
import io
import tokenize

__all__ = ["Comments", "attribute_doc", "docstring"]


class Comments:
    """The ``#:`` doc comments of a module, by line number."""

    def __init__(self, text: str) -> None:
        self.trailing: dict[int, str] = {}
        self.own_line: dict[int, str] = {}
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            return
        code_lines: set[int] = set()
        for token in tokens:
            if token.type not in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            ):
                code_lines.update(range(token.start[0], token.end[0] + 1))
        for token in tokens:
            if token.type != tokenize.COMMENT or not token.string.startswith("#:"):
                continue
            line = token.start[0]
            body = token.string[2:].strip()
            if line in code_lines:
                self.trailing[line] = body
            else:
                self.own_line[line] = body

    def for_node(self, node: ast.stmt) -> str | None:
        """Return the doc comment attached to a statement (above it, else at its end)."""
        above: list[str] = []
        line = node.lineno - 1
        while line in self.own_line:
            above.append(self.own_line[line])
            line -= 1
        if above:
            return "\n".join(reversed(above)).strip() or None
        end = node.end_lineno or node.lineno
        return self.trailing.get(end) or None


def docstring(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Return the cleaned docstring of a class or function."""
    text = ast.get_docstring(node, clean=True)
    return text or None


def attribute_doc(body: list[ast.stmt], index: int, comments: Comments) -> str | None:
    """Return the doc of the attribute statement ``body[index]``."""
    if index + 1 < len(body):
        following = body[index + 1]
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            return inspect.cleandoc(following.value.value) or None
    return comments.for_node(body[index])
