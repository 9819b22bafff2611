"""Data checks over Python sources: user commands are checked, user code never runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.compat_check.conftest import JOURNAL_BASE, ROOT, ShopRepo

PYTHON_SHOP = ROOT / "fixtures" / "shop" / "python" / "shop"


def python_repo(tmp_path: Path) -> ShopRepo:
    repo = ShopRepo(tmp_path / "py")
    (repo.root / "shop.sql").unlink()
    shutil.copytree(PYTHON_SHOP, repo.root / "shop")
    marker = repo.root / "imported.txt"
    models = repo.root / "shop" / "models.py"
    models.write_text(
        models.read_text(encoding="utf-8")
        + f"\nopen({str(marker)!r}, 'w').write('user code ran')\n",
        encoding="utf-8",
    )
    repo.configure("")
    pyproject = repo.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('"shop.sql"', '"shop/models.py"'),
        encoding="utf-8",
    )
    assert repo.run("lock").exit_code == 0
    return repo


def test_user_commands_in_a_journal_are_checked_without_running_user_code(
    tmp_path: Path,
) -> None:
    repo = python_repo(tmp_path)
    account = {**JOURNAL_BASE, "entity": "Account", "payload_version": 1}
    lines = [
        {**account, "command": "Deposit", "payload": {"amount": "12.50"}},
        {**account, "command": "Close", "payload": {}},
        {**account, "command": "Deposit", "payload": {"amount": "lots"}},
        {**account, "command": "Transfer", "payload": {"to": 3}},
    ]
    journal = repo.root / "accounts.jsonl"
    journal.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    outcome = repo.check("--journal", journal.name)
    assert outcome.exit_code == 1, outcome.stderr
    found = [
        (f["rule"], f["location"]["line"], f["location"]["pointer"])
        for f in json.loads(outcome.stdout)["findings"]
    ]
    assert found == [("PT032", 3, "/payload/amount"), ("PT033", 4, "/command")]
    assert not (repo.root / "imported.txt").exists()
