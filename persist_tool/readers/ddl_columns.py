"""Map sqlglot column definitions and table constraints onto table drafts.

``TableSyntax`` is the part of a dialect reading that understands one ``CREATE TABLE``
body (and the same constraints when ``ALTER TABLE`` adds them): column types, NULL/NOT
NULL, defaults, keys, CHECKs, foreign keys and MySQL inline indexes.
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from persist_tool import ir
from persist_tool.readers.ddl_checks import analyse_check, apply_check
from persist_tool.readers.ddl_lex import Statement
from persist_tool.readers.ddl_parse import (
    column_names,
    first_offset,
    ident_name,
    node_offset,
)
from persist_tool.readers.ddl_source import ColumnItem, Source, describe_column
from persist_tool.readers.ddl_table import (
    ColumnDraft,
    DdlProblem,
    IndexDraft,
    TableDraft,
)
from persist_tool.readers.ddl_types import TypeProblem, TypeSpec, map_type

__all__ = ["TableSyntax"]

_FK_ACTION = re.compile(
    r"ON\s+(DELETE|UPDATE)\s+(CASCADE|SET\s+NULL|SET\s+DEFAULT|RESTRICT|NO\s+ACTION)",
    re.IGNORECASE,
)

_PG_SPECIAL_TIMES = frozenset({"now", "today", "tomorrow", "yesterday", "epoch", "infinity",
                               "-infinity", "allballs"})  # fmt: skip
_TIME_TYPES = (ir.DateType, ir.DateTimeType, ir.TimeType)


class TableSyntax:
    """Column and constraint mapping for a reading in one dialect."""

    source: Source
    dialect: str
    user_types: dict[str, TypeSpec]
    _statement: Statement | None

    def warn(self, offset: int, message: str) -> None:
        """Record a warning at an offset."""
        raise NotImplementedError

    # -- columns ----------------------------------------------------------------------

    def _column(
        self,
        draft: TableDraft,
        node: exp.ColumnDef,
        base: int,
        items: dict[int, ColumnItem],
        statement: Statement,
    ) -> None:
        ident = node.this
        offset = node_offset(ident, base)
        item = items.get(offset) or self._item_at(statement, offset)
        type_node = node.args.get("kind")
        if type_node is None:
            raise DdlProblem(
                offset,
                f"column {node.name!r} has no type",
                "give every column a type: name TYPE [constraints]",
            )
        sql_type = item.type_text if item else type_node.sql(dialect=self.dialect)
        try:
            spec = map_type(type_node, sql_type, self.dialect, self.user_types)
        except TypeProblem as problem:
            where = item.type_start if item else offset
            raise DdlProblem(where, problem.message, problem.hint) from None
        column = ColumnDraft(
            column=node.name,
            quoted=bool(isinstance(ident, exp.Identifier) and ident.quoted),
            offset=offset,
            spec=spec,
            sql_type=sql_type,
            doc=item.doc if item else None,
            location=self.source.location(offset),
        )
        if spec.auto_increment:
            column.generated, column.auto_increment, column.nullable = (
                True,
                spec.auto_increment,
                False,
            )
        if spec.nullable is False:
            column.nullable = False
        if spec.default is not None:
            column.default = spec.default
            column.default_offset = offset
            column.generated = column.generated or spec.default[0] == ir.Default.SQL
        draft.add_column(column)
        for constraint in node.args.get("constraints") or []:
            self._column_constraint(draft, column, constraint, base, item)

    def _item_at(self, statement: Statement, offset: int) -> ColumnItem | None:
        words = statement.words
        for index, token in enumerate(words):
            if token.start == offset:
                depth = 0
                end = index
                while end < len(words):
                    t = words[end]
                    if t.kind == "punct" and t.text in "([":
                        depth += 1
                    elif t.kind == "punct" and t.text in ")]":
                        depth -= 1
                    elif depth == 0 and t.kind == "punct" and t.text == ",":
                        break
                    end += 1
                return describe_column(self.source.text, words[index:end])
        return None

    def _column_constraint(
        self,
        draft: TableDraft,
        column: ColumnDraft,
        constraint: exp.Expression,
        base: int,
        item: ColumnItem | None,
    ) -> None:
        kind = (
            constraint.args.get("kind")
            if isinstance(constraint, exp.ColumnConstraint)
            else constraint
        )
        name = ident_name(constraint.this) if isinstance(constraint, exp.ColumnConstraint) else None
        offset = column.offset
        if isinstance(kind, exp.NotNullColumnConstraint):
            column.nullable = bool(kind.args.get("allow_null"))
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            draft.set_primary_key([column.column], offset, name)
        elif isinstance(kind, exp.UniqueColumnConstraint):
            draft.add_unique([column.column], offset, name)
        elif isinstance(kind, exp.DefaultColumnConstraint):
            self._default(column, kind.this, item)
        elif isinstance(kind, exp.AutoIncrementColumnConstraint):
            word = "AUTO_INCREMENT" if self.dialect == "mysql" else "AUTOINCREMENT"
            if self.dialect == "tsql":
                word = "IDENTITY"
            column.generated, column.auto_increment, column.nullable = True, word, False
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            self._identity(column, kind)
        elif isinstance(kind, exp.ComputedColumnConstraint):
            column.generated = True
            column.default = (ir.Default.SQL, kind.this.sql(dialect=self.dialect))
            column.extra["computed"] = "stored" if kind.args.get("persisted") else "virtual"
        elif isinstance(kind, exp.CheckColumnConstraint):
            self._check(draft, kind.this, base, name, column)
        elif isinstance(kind, exp.Reference):
            self._foreign_key(draft, [(column.column, offset)], kind, name, base)
        elif isinstance(kind, exp.CommentColumnConstraint):
            column.doc = str(kind.this.name) if kind.this is not None else column.doc
        elif isinstance(kind, exp.OnUpdateColumnConstraint):
            on_update = kind.this
            column.extra["on_update"] = (
                "CURRENT_TIMESTAMP"
                if isinstance(on_update, exp.CurrentTimestamp) and not on_update.this
                else on_update.sql(dialect=self.dialect)
            )
        elif isinstance(kind, exp.CollateColumnConstraint):
            column.extra["collate"] = kind.this.name if kind.this is not None else None
        elif isinstance(kind, exp.CharacterSetColumnConstraint):
            column.extra["charset"] = kind.this.name if kind.this is not None else None
        elif isinstance(kind, exp.Expression):
            column.extra.setdefault("sql_constraints", []).append(kind.sql(dialect=self.dialect))

    def _identity(self, column: ColumnDraft, kind: exp.Expression) -> None:
        if kind.args.get("expression") is not None:
            column.generated = True
            column.default = (
                ir.Default.SQL,
                kind.args["expression"].sql(dialect=self.dialect),
            )
            column.extra["computed"] = "stored"
            return
        if self.dialect == "tsql" and not re.search(r"GENERATED", self._statement_text(), re.I):
            word = "IDENTITY"
        else:
            word = (
                "GENERATED ALWAYS AS IDENTITY" if kind.this else "GENERATED BY DEFAULT AS IDENTITY"
            )
        column.generated, column.auto_increment, column.nullable = True, word, False

    def _statement_text(self) -> str:
        if self._statement is None:
            return ""
        return self.source.text[self._statement.start : self._statement.end]

    def _default(self, column: ColumnDraft, node: exp.Expression, item: ColumnItem | None) -> None:
        text = item.default_text if item and item.default_text else node.sql(dialect=self.dialect)
        column.default_offset = item.default_start if item and item.default_text else column.offset
        value = node
        while isinstance(value, exp.Paren):
            value = value.this
        literal = self._literal(value)
        if literal is not None and not self._is_special_time(literal[1], column):
            column.default = literal
            return
        column.default = (ir.Default.SQL, text)
        column.generated = True
        if isinstance(value, exp.Anonymous) and value.name.lower() == "nextval":
            column.auto_increment = "SEQUENCE"
            column.nullable = False

    def _literal(self, node: exp.Expression) -> tuple[str, Any] | None:
        if isinstance(node, exp.Null):
            return (ir.Default.LITERAL, None)
        if isinstance(node, exp.Boolean):
            return (ir.Default.LITERAL, bool(node.this))
        if isinstance(node, exp.Literal):
            return (ir.Default.LITERAL, node.this)
        if (
            isinstance(node, exp.Neg)
            and isinstance(node.this, exp.Literal)
            and not node.this.is_string
        ):
            return (ir.Default.LITERAL, "-" + node.this.this)
        if isinstance(node, exp.Cast):
            inner = node.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
            return self._literal(inner)
        return None

    @staticmethod
    def _is_special_time(value: Any, column: ColumnDraft) -> bool:
        return (
            isinstance(value, str)
            and value.strip().lower() in _PG_SPECIAL_TIMES
            and isinstance(column.spec.type, _TIME_TYPES)
        )

    # -- table constraints ------------------------------------------------------------

    def _table_constraint(self, draft: TableDraft, node: exp.Expression, base: int) -> None:
        if isinstance(node, exp.Identifier | exp.Column):
            raise DdlProblem(
                node_offset(node, base),
                f"column {node.name!r} has no type",
                "give every column a type: name TYPE [constraints]",
            )
        name: str | None = None
        parts: list[exp.Expression] = [node]
        if isinstance(node, exp.Constraint):
            name = ident_name(node.this)
            parts = list(node.expressions)
        index = 0
        while index < len(parts):
            part = parts[index]
            index += 1
            if isinstance(part, exp.PrimaryKey):
                cols = column_names(part.expressions, base)
                draft.set_primary_key([c for c, _ in cols], first_offset(cols, base), name)
            elif isinstance(part, exp.PrimaryKeyColumnConstraint | exp.UniqueColumnConstraint) and (
                index < len(parts)
                and isinstance(
                    parts[index],
                    exp.ClusteredColumnConstraint | exp.NonClusteredColumnConstraint,
                )
            ):
                cols = column_names(parts[index].this or [], base)
                index += 1
                if isinstance(part, exp.PrimaryKeyColumnConstraint):
                    draft.set_primary_key([c for c, _ in cols], first_offset(cols, base), name)
                else:
                    draft.add_unique([c for c, _ in cols], first_offset(cols, base), name)
            elif isinstance(part, exp.UniqueColumnConstraint):
                target = part.this
                columns = target.expressions if isinstance(target, exp.Schema) else []
                if isinstance(target, exp.Schema) and isinstance(target.this, exp.Identifier):
                    name = name or target.this.name
                cols = column_names(columns, base)
                if not cols:
                    raise DdlProblem(node_offset(part, base), "UNIQUE without columns")
                draft.add_unique([c for c, _ in cols], first_offset(cols, base), name)
            elif isinstance(part, exp.ForeignKey):
                cols = column_names(part.expressions, base)
                self._foreign_key(draft, cols, part.args.get("reference"), name, base)
            elif isinstance(part, exp.CheckColumnConstraint):
                self._check(draft, part.this, base, name, None)
            elif isinstance(part, exp.IndexColumnConstraint):
                self._inline_index(draft, part, base)
            else:
                draft.extra.setdefault("table_constraints", []).append(
                    part.sql(dialect=self.dialect)
                )
                self.warn(
                    node_offset(part, base),
                    f"table constraint kept as text only: {part.sql(dialect=self.dialect)[:60]}",
                )

    def _inline_index(self, draft: TableDraft, part: exp.Expression, base: int) -> None:
        cols = column_names(part.expressions, base)
        columns = [c for c, _ in cols]
        index_name = ident_name(part.this) or f"{draft.table}_{'_'.join(columns)}_idx"
        options: dict[str, Any] = {}
        if part.args.get("kind"):
            options["kind"] = str(part.args["kind"])
        prefixes = {
            n.this.name: int(n.expression.this)
            for n in part.expressions
            if isinstance(n, exp.ColumnPrefix) and isinstance(n.expression, exp.Literal)
        }
        if prefixes:
            options["prefix_lengths"] = prefixes
        draft.add_index(
            IndexDraft(
                index_name,
                columns,
                False,
                first_offset(cols, base),
                options,
                [o for _, o in cols],
            )
        )

    def _foreign_key(
        self,
        draft: TableDraft,
        cols: list[tuple[str, int]],
        reference: exp.Expression | None,
        name: str | None,
        base: int,
    ) -> None:
        if not isinstance(reference, exp.Reference):
            raise DdlProblem(first_offset(cols, base), "FOREIGN KEY without REFERENCES")
        target = reference.this
        ref_columns: list[str] = []
        if isinstance(target, exp.Schema):
            ref_columns = [n for n, _ in column_names(target.expressions, base)]
            target = target.this
        if not isinstance(target, exp.Table):
            raise DdlProblem(node_offset(reference, base), "REFERENCES without a table name")
        columns = [draft.require(c, o, "FOREIGN KEY").column for c, o in cols]
        if ref_columns and len(ref_columns) != len(columns):
            raise DdlProblem(
                node_offset(reference, base),
                f"FOREIGN KEY has {len(columns)} column(s) but REFERENCES lists {len(ref_columns)}",
            )
        actions: dict[str, str | None] = {"DELETE": None, "UPDATE": None}
        others: list[str] = []
        for option in reference.args.get("options") or []:
            text = str(option)
            matched = False
            for match in _FK_ACTION.finditer(text):
                actions[match.group(1).upper()] = re.sub(r"\s+", " ", match.group(2).upper())
                matched = True
            if not matched:
                others.append(text)
        fk: dict[str, Any] = {
            "columns": columns,
            "ref_table": target.name,
            "ref_columns": ref_columns,
            "on_delete": actions["DELETE"],
            "on_update": actions["UPDATE"],
            "name": name,
        }
        if others:
            fk["options"] = others
        draft.foreign_keys.append(fk)
        draft.extra.setdefault("_fk_offsets", []).append(node_offset(target, base))

    def _check(
        self,
        draft: TableDraft,
        condition: exp.Expression,
        base: int,
        name: str | None,
        column: ColumnDraft | None,
    ) -> None:
        facts = analyse_check(condition)
        if facts is not None:
            target = draft.require(facts.column, node_offset(condition, base), "CHECK")
            if apply_check(target, facts):
                return
        entry: dict[str, Any] = {
            "name": name,
            "sql": condition.sql(dialect=self.dialect),
        }
        if column is not None:
            entry["column"] = column.column
        draft.checks.append(entry)
