"""`crmctl contact`: roles, reports-to, consent, moves with history, and bad input."""
from __future__ import annotations

from pathlib import Path

import pytest

from crmctl.core import yamlio
from tests.conftest import Run, err_line
from tests.mcr.conftest import clean, head, now, put  # noqa: F401 - fixtures


def load(book: Path, rid: str) -> dict:
    return yamlio.load_path(str(book / "records/contacts" / f"{rid}.yaml"))[0]


@pytest.fixture
def people(book: Path, now: str) -> Path:
    put(book, [("contacts", "boss", {"name": "Boss", "account": "acme", "role": "decision_maker"}),
               ("contacts", "mid", {"name": "Mid", "account": "acme", "role": "influencer", "reports_to": "boss"}),
               ("contacts", "low", {"name": "Low", "account": "acme", "role": "user", "reports_to": "mid"})])
    return book


@pytest.mark.parametrize(("args", "message"), [
    (("contact", "edit", "mid", "--role", "ceo"),
     "error: role: 'ceo' is not one of decision_maker, economic_buyer, influencer, technical_evaluator, user, gatekeeper, champion"),
    (("contact", "edit", "boss", "--reports-to", "low"), "error: contact boss: reports_to low would make a loop (boss -> low -> mid -> boss)"),
    (("contact", "edit", "boss", "--reports-to", "boss"), "error: contact boss: cannot report to themselves"),
    (("contact", "edit", "boss", "--channel", "fax"), "error: channel: 'fax' is not one of phone, email, wechat, visit, video"),
    (("contact", "edit", "boss", "--set", "consent.email=maybe"), "error: contact boss: consent.email: 'maybe' is not true or false"),
    (("contact", "edit", "boss", "--set", "consent.pigeon=true"),
     "error: contact boss: consent.pigeon: unknown channel; channels are phone, email, wechat, visit, video"),
    (("contact", "move", "boss", "--to", "nope"), "error: no account 'nope'; `crmctl account list` shows them"),
    (("contact", "move", "boss", "--to", "acme"), "error: contact boss already works for acme"),
    (("contact", "consent", "boss"), "error: say which consent to change, e.g. --email yes --phone no"),
])
def test_bad_input_is_one_line_and_writes_nothing(run: Run, people: Path, args: tuple[str, ...], message: str) -> None:
    before = head(people)
    result = run(*args)
    assert result.exit_code == 1
    assert err_line(result) == message
    assert head(people) == before and clean(people)


def test_consent_flags_with_history(run: Run, people: Path) -> None:
    result = run("--as", "rex", "contact", "consent", "boss", "--email", "yes", "--phone", "no")
    assert result.exit_code == 0, result.output
    data = load(people, "boss")
    assert data["consent"] == {"email": True, "phone": False}
    assert data["history"] == [{"action": "consent", "changes": {"email": True, "phone": False},
                                "at": "2026-11-27T10:00:00+08:00", "by": "rex"}]
    assert run("contact", "edit", "boss", "--set", "consent.wechat=true").exit_code == 0
    assert load(people, "boss")["consent"] == {"email": True, "phone": False, "wechat": True}


def test_move_keeps_history_and_leaves_the_old_boss_behind(run: Run, people: Path) -> None:
    result = run("--as", "ria", "contact", "move", "mid", "--to", "bao")
    assert result.exit_code == 0, result.output
    data = load(people, "mid")
    assert data["account"] == "baosteel" and "reports_to" not in data
    assert data["history"] == [{"action": "move", "from": "acme", "to": "baosteel", "at": "2026-11-27T10:00:00+08:00", "by": "ria"}]
    assert load(people, "low")["reports_to"] == "mid"  # whoever reported to the mover still does


def test_move_to_a_merged_account_follows_the_redirect(run: Run, people: Path) -> None:
    put(people, [("accounts", "bao-old", {"name": "Bao old", "merged_into": "baosteel"})])
    assert run("contact", "move", "boss", "--to", "bao-old").exit_code == 0
    assert load(people, "boss")["account"] == "baosteel"


def test_move_dry_run_writes_nothing(run: Run, people: Path) -> None:
    before = head(people)
    result = run("contact", "move", "mid", "--to", "baosteel", "--dry-run")
    assert result.exit_code == 0 and "would move" in result.stderr
    assert head(people) == before and load(people, "mid")["account"] == "acme"
