"""scripts/demo_history.py gives a copy of the demo book weeks of history that ends in the demo book exactly."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from tests.conftest import git, invoke

REPO = Path(__file__).resolve().parents[2]
NOW = {"CRMCTL_NOW": "2026-11-27T18:30:00+08:00"}


def test_the_history_ends_in_the_demo_book_and_its_changes_add_up(tmp_path: Path) -> None:
    book = tmp_path / "book"
    subprocess.run([sys.executable, str(REPO / "scripts" / "demo_history.py"), str(book)], check=True,
                   capture_output=True)
    assert git(book, "status", "--porcelain") == ""
    assert int(git(book, "rev-list", "--count", "HEAD")) > 10
    assert git(book, "log", "--reverse", "--format=%cs").split()[0] == "2026-10-01"
    for path in (REPO / "records" / "opportunities").glob("*.yaml"):  # the last commit is the demo book, byte for byte
        assert git(book, "show", f"HEAD:records/opportunities/{path.name}") == path.read_text(encoding="utf-8")
    result = invoke("report", "changes", "--from", "2026-10-01", "--period", "2026-Q4", "--format", "json",
                    book=book, env=NOW)
    assert result.exit_code == 0, result.output
    figures = {f["figure"]: Decimal(f["amount"]) for f in json.loads(result.stdout)["figures"]}
    assert sum(v for k, v in figures.items() if k != "open_end") == figures["open_end"]
    # the script's EDITS: 南京二号线 (1,200,000) slipped out of Q4 on 11-16
    assert figures["slipped_out"] == Decimal("-1200000.00")


def test_help_prints_the_usage_and_makes_no_book(tmp_path: Path) -> None:
    # attack 5, F15: `demo_history.py --help` made a book in a folder named --help
    script = str(REPO / "scripts" / "demo_history.py")
    here = tmp_path / "here"
    here.mkdir()
    shown = subprocess.run([sys.executable, script, "--help"], cwd=here, capture_output=True, text=True)
    assert shown.returncode == 0 and "Usage: ``python scripts/demo_history.py DIR``" in shown.stdout
    refused = subprocess.run([sys.executable, script, "--out"], cwd=here, capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stderr.startswith("Usage:")
    assert list(here.iterdir()) == []
