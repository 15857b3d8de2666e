"""A past book takes the parses the working tree's cache already holds, and only for files git says are unchanged."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crmctl.core import snapshot, yamlio
from tests.cli.test_asof import history_book, replay, run_json  # noqa: F401 - the fixture
from tests.conftest import git


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path yamlio.loads parses from now on; the seed is taken whatever the number of unseen blobs."""
    seen: list[str] = []
    real = yamlio.loads

    def counting(text: str, path: str = "<string>", *what: str):  # type: ignore[no-untyped-def]
        seen.append(path)
        return real(text, path, *what)

    monkeypatch.setattr(yamlio, "loads", counting)
    monkeypatch.setattr(snapshot, "SEED_AFTER", 0)
    return seen


def _fresh_store(book: Path) -> None:
    shutil.rmtree(book / ".crmctl" / "cache" / "git", ignore_errors=True)
    snapshot.BlobStore._open.clear()
    snapshot.BlobStore._saved.clear()


def test_unchanged_files_are_not_parsed_again(history_book: Path, parses: list[str]) -> None:
    run_json(history_book, "opp", "list")  # the working tree's cache now holds every deal
    _fresh_store(history_book)
    parses.clear()
    rows = {r["id"]: r for r in run_json(history_book, "opp", "list", "--as-of", "2026-03-02")}
    # on 03-02 every deal's blob is HEAD's (a5 was the last commit): nothing parsed but crm.yaml
    assert [p for p in parses if "opportunities" in p] == []
    want = replay("2026-03-02")
    assert {rid: {k: rows[rid][k] for k in deal} for rid, deal in want.items()} == want
    parses.clear()
    run_json(history_book, "opp", "list", "--as-of", "2026-02-10")
    # changed after 02-10: a1 (02-25) and a4 (lost 02-11): their old versions are parsed; a2, a3 are HEAD's blobs
    assert sorted(p.split("/")[-1].split("@")[0] for p in parses if "opportunities" in p) == ["a1.yaml", "a4.yaml"]


@pytest.mark.parametrize("staged", [False, True])
def test_an_edited_file_is_never_taken_for_its_committed_blob(history_book: Path, parses: list[str], staged: bool) -> None:
    deal = history_book / "records" / "opportunities" / "a5.yaml"
    deal.write_text(deal.read_text().replace('"70000.00"', '"99999.00"'))
    if staged:
        git(history_book, "add", str(deal))
    assert run_json(history_book, "opp", "show", "a5")["amount"] == "99999.00"  # the cache is fresh for the edit
    run_json(history_book, "opp", "list")
    _fresh_store(history_book)
    shown = run_json(history_book, "opp", "show", "a5", "--as-of", "2026-03-02")
    assert shown["amount"] == "70000.00"  # the committed value, not the edit the cache holds
