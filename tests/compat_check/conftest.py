"""A temporary git repository holding the shop fixture, driven through the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from persist_tool.cli import app

ROOT = Path(__file__).resolve().parents[2]
SHOP_SQL = ROOT / "fixtures" / "shop" / "shop.sql"

PYPROJECT = """\
[project]
name = "shop"
version = "0"

[tool.persist-tool]
sources = ["shop.sql"]
out-dir = "entities"
migrations-dir = "migrations"
{extra}"""


@dataclass
class Outcome:
    """What one command-line run gave."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def findings(self) -> list[dict[str, Any]]:
        """Return the findings of a JSON report."""
        found: list[dict[str, Any]] = json.loads(self.stdout)["findings"]
        return found

    @property
    def rules(self) -> list[str]:
        """Return the rule ids of the findings, from a JSON report."""
        return [f["rule"] for f in self.findings]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


class ShopRepo:
    """The shop fixture in its own git repository, with ``[tool.persist-tool]`` set up."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.email", "ci@example.com")
        git(root, "config", "user.name", "CI")
        git(root, "config", "commit.gpgsign", "false")
        shutil.copy(SHOP_SQL, root / "shop.sql")
        self.configure()

    def configure(self, extra: str = "") -> None:
        (self.root / "pyproject.toml").write_text(PYPROJECT.format(extra=extra), encoding="utf-8")

    @property
    def sql(self) -> str:
        return (self.root / "shop.sql").read_text(encoding="utf-8")

    def edit(self, old: str, new: str) -> None:
        """Replace ``old`` (which must occur) in shop.sql."""
        text = self.sql
        assert old in text, old
        (self.root / "shop.sql").write_text(text.replace(old, new), encoding="utf-8")

    def bump_order(self, to: int = 2) -> None:
        """Order v1 -> v``to``: drop ``shipped_on`` (its setter goes), add ``gift_wrap``."""
        self.edit("-- persist: Order schema_version=1", f"-- persist: Order schema_version={to}")
        self.edit("    shipped_on DATE\n", "    gift_wrap BOOLEAN NOT NULL DEFAULT FALSE\n")

    def run(self, *args: str) -> Outcome:
        """Run ``persist-tool ARGS`` in the repository (in process)."""
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(self.root)
            result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        return Outcome(result.exit_code, result.stdout, result.stderr)

    def check(self, *args: str) -> Outcome:
        """Run ``compat-check --format json ARGS``."""
        return self.run("compat-check", "--format", "json", *args)

    def commit(self, message: str = "change") -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)

    def write_json(self, name: str, data: Any) -> Path:
        path = self.root / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    def write_journal(self, name: str, records: list[Mapping[str, Any]]) -> Path:
        path = self.root / name
        lines = [json.dumps({**JOURNAL_BASE, "seq": i, **r}) for i, r in enumerate(records, 1)]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path


JOURNAL_BASE: dict[str, Any] = {
    "format_version": 1,
    "seq": 1,
    "ts": "2026-11-21T10:00:00.000000Z",
    "entity": "Order",
    "id": 7,
    "schema_version": 1,
    "command": "SetStatus",
    "payload_version": 1,
    "payload": {"value": "paid"},
    "expected_version": 1,
    "new_version": 2,
    "idempotency_key": None,
}


def snapshot(records: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    """Return a snapshot document (DESIGN §7) holding ``records``."""
    return {
        "format": "persist-snapshot",
        "format_version": 1,
        "api_version": "1.0.0",
        "mode": "with_data",
        "created_at": "2026-11-21T10:00:00Z",
        "types": [],
        "records": records,
        **header,
    }


ORDER_V1_FIELDS: dict[str, Any] = {
    "id": 1,
    "customer_id": 1,
    "status": "paid",
    "total": "10.00",
    "note": None,
    "placed_at": "2026-11-21T10:00:00",
    "shipped_on": "2026-11-22",
}


def order_record(id: int, schema_version: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "entity": "Order",
        "id": id,
        "version": 1,
        "schema_version": schema_version,
        "fields": {**ORDER_V1_FIELDS, "id": id, **fields},
    }


@pytest.fixture
def shop(tmp_path: Path) -> ShopRepo:
    """The shop repository, its schemas locked and committed."""
    repo = ShopRepo(tmp_path / "shop")
    assert repo.run("lock").exit_code == 0
    repo.commit("shop v1")
    return repo
