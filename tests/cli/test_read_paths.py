"""Every whole-book command prints the same bytes whether it reads the records or the read model.

``CRMCTL_READ_MODEL=off`` makes every command read the records themselves
(the old path); otherwise the commands that can answer from
``.crmctl/book.sqlite`` do (report sfe's won deals, account merge's
references). Each command runs off, then on with no read model yet (built
in that run), then on again (from the stored one), on the demo book and on a
generated one; stdout, stderr and the exit code must be equal.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from crmctl.core.yamlio import dumps_fast
from tests.conftest import git, invoke

NOW = {"CRMCTL_NOW": "2026-11-27T10:00:00+08:00"}
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")
REPORTS = (("report", "customers"), ("report", "customers", "--limit", "5", "--sort", "-open_pipeline"),
           ("report", "customers", "--limit", "5", "--format", "json"),  # only the 5 kept rows are finished
           ("report", "sfe"), ("report", "sfe", "--period", "2026"), ("report", "sfe", "--period", "2025-Q3"),
           ("report", "pipeline"), ("report", "funnel"), ("report", "forecast"), ("report", "velocity"),
           ("report", "receivables"), ("check",))


def write(book: Path, rtype: str, rid: str, data: dict) -> None:
    (book / "records" / rtype).mkdir(parents=True, exist_ok=True)
    (book / "records" / rtype / f"{rid}.yaml").write_text(dumps_fast(data), encoding="utf-8")


@pytest.fixture
def generated(book: Path) -> Path:
    """The team book plus 40 accounts and 300 each of deals, orders (half paid) and visits, with a fixed seed."""
    rnd = random.Random(1919)
    accounts = ["acme", "baosteel", *(f"ac{i:03d}" for i in range(40))]
    for i, aid in enumerate(accounts[2:]):
        write(book, "accounts", aid, {"name": f"Account {i}", "tier": "ABC"[i % 3], "owner": ("rex", "ria")[i % 2],
                                      **({"parent": accounts[2 + i - i % 4]} if i % 4 else {})})
    for i in range(300):
        aid, owner = rnd.choice(accounts), rnd.choice(("rex", "ria", "mia"))
        day = f"{rnd.choice((2025, 2026))}-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d}"
        stage = rnd.choice(STAGES)
        opp = {"name": f"Deal {i}", "account": aid, "owner": owner, "stage": stage,
               "amount": f"{rnd.randint(1, 900) * 100}.00", "close_date": day}
        if stage in ("won", "lost") and i % 3:
            opp["closed_on"] = day
        write(book, "opportunities", f"op{i:04d}", opp)
        total = f"{rnd.randint(1, 500) * 100}.00"
        write(book, "orders", f"or{i:04d}", {"number": f"SO-2026-{i:04d}", "account": aid, "date": day, "currency": "CNY",
                                             "total": total, "status": "open", "installments": [{"due": day, "amount": total}]})
        if i % 2:
            write(book, "payments", f"pa{i:04d}", {"order": f"or{i:04d}", "account": aid, "date": day, "amount": total,
                                                   "currency": "CNY"})
        write(book, "visits", f"vi{i:04d}", {"account": aid, "rep": owner, "type": "onsite", "date": day,
                                             "status": rnd.choice(("completed", "planned", "cancelled")),
                                             "next_steps": [{"text": "follow up", "due": day, "done": bool(i % 3)}]})
    git(book, "add", "-A")
    git(book, "commit", "--no-verify", "-qm", "generated")
    return book


def outputs(book: Path, args: tuple[str, ...], switch: str) -> tuple[int, str, str]:
    result = invoke(*args, book=book, env={**NOW, "CRMCTL_READ_MODEL": switch})
    return result.exit_code, result.stdout, result.stderr


def same_both_ways(book: Path, args: tuple[str, ...]) -> None:
    old = outputs(book, args, "off")
    assert old[0] in (0, 1), old
    shutil.rmtree(book / ".crmctl", ignore_errors=True)
    assert outputs(book, args, "on") == old, f"{args}: built in this run"
    assert (book / ".crmctl" / "book.sqlite").exists() or args[:2] != ("report", "sfe")
    assert outputs(book, args, "on") == old, f"{args}: from the stored read model"


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_demo_book_reports_are_the_same_from_both_read_paths(demo_copy: Path, fmt: str) -> None:
    for args in REPORTS:
        same_both_ways(demo_copy, (*args, "--format", fmt))
    same_both_ways(demo_copy, ("account", "merge", "acme", "baosteel", "--dry-run"))


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_generated_book_reports_are_the_same_from_both_read_paths(generated: Path, fmt: str) -> None:
    for args in REPORTS:
        same_both_ways(generated, (*args, "--format", fmt))
    same_both_ways(generated, ("account", "merge", "ac000", "ac004", "--dry-run"))
    same_both_ways(generated, ("contact", "list", "--format", fmt))


def test_a_won_deal_changed_by_an_editor_git_checkout_or_merge_is_counted_by_the_next_sfe_report(generated: Path) -> None:
    def won(rep: str) -> object:
        result = invoke("report", "sfe", "--period", "2026-Q4", "--rep", rep, "--format", "json", book=generated, env=NOW)
        assert result.exit_code == 0, result.output
        import json

        return next(r["won"] for r in json.loads(result.stdout)["reps"] if r.get("rep") == rep)

    before = won("rex")
    deal = {"name": "Late win", "account": "acme", "owner": "rex", "stage": "won", "amount": "100.00",
            "close_date": "2026-11-20", "closed_on": "2026-11-20"}
    git(generated, "checkout", "-qb", "side")
    write(generated, "opportunities", "late", deal)
    git(generated, "add", "-A")
    git(generated, "commit", "--no-verify", "-qm", "late win")
    assert won("rex") == before + 1
    git(generated, "checkout", "-q", "main")
    assert won("rex") == before
    git(generated, "merge", "-q", "--no-edit", "side")
    assert won("rex") == before + 1
    path = generated / "records" / "opportunities" / "late.yaml"
    with open(path, "r+", encoding="utf-8") as handle:  # in place: the folder does not change
        text = handle.read().replace("owner: rex", "owner: ria")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    assert won("rex") == before


def test_check_sees_an_in_place_edit_a_new_file_and_a_settings_change_once_its_caches_are_warm(book: Path) -> None:
    def problems() -> list[str]:
        result = invoke("check", book=book, env=NOW)
        return [line for line in result.stdout.splitlines() if "tier" in line or "duplicate" in line]

    assert problems() == [] and problems() == []  # the second run answers from the stored views
    path = book / "records" / "accounts" / "acme.yaml"
    with open(path, "r+", encoding="utf-8") as handle:  # in place: the folder does not change
        text = handle.read().replace("tier: A", "tier: Z")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    assert problems() == ["records/accounts/acme.yaml:2: tier: 'Z' is not one of A, B, C"]
    settings = book / "crm.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("tiers: [A, B, C]", "tiers: [A, B, C, Z]"),
                        encoding="utf-8")
    assert problems() == []  # what is valid changed with crm.yaml: validated again
    write(book, "accounts", "acme-2", {"name": "ACME Industries", "tier": "A"})  # a new file: its keys are computed
    found = problems()
    assert len(found) == 1 and "probable duplicate of account acme-2" in found[0], found
