"""Issue 11 §1: a state means one thing everywhere — each drifted example, driven through the CLI.

Every test here failed on the code before crmctl.core.states, crmctl.sfe.cadence
and crmctl.core.percent existed (the comment on each says how).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run, git
from tests.cpq.conftest import NOW, cpq, cpq_book, new_quote, write_catalog  # noqa: F401 - fixtures


def _edit_settings(book: Path, *pairs: tuple[str, str]) -> None:
    path = book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    git(book, "commit", "-qam", "settings")


def _rows(text: str) -> list[dict]:
    """A JSON list as crmctl prints it (one record per line inside ``[...]``)."""
    return json.loads(text)


def _ok(run: Run, *args: str) -> str:
    r = run(*args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def test_quote_accept_on_a_won_deal_in_a_book_whose_won_stage_is_closed_won(
        book: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # old code: cpq/lifecycle compared the stage with the literal "won", tried to win the deal
    # again and failed with "the opportunity is already in stage closed_won"
    monkeypatch.setenv("CRMCTL_NOW", NOW)
    _edit_settings(book, ("{id: won,", "{id: closed_won,"),
                   ("moves_to: [won, proposal, lost]", "moves_to: [closed_won, proposal, lost]"))
    write_catalog(book)
    cid = _ok(run, "contact", "add", "--name", "Carl Contact", "--account", "acme")
    opp = _ok(run, "--as", "rex", "opp", "add", "--name", "Mill for ACME", "--account", "acme", "--amount", "100000",
              "--close-date", "2026-09-30", "--set", f"contacts={cid}")
    _ok(run, "--as", "rex", "opp", "win", opp)
    qid = _ok(run, "--as", "rex", "quote", "new", "--opp", opp)
    _ok(run, "quote", "add-line", qid, "holder")
    _ok(run, "--as", "rex", "quote", "submit", qid)
    _ok(run, "--as", "rex", "quote", "send", qid)
    r = run("--as", "rex", "quote", "accept", qid)
    assert r.exit_code == 0, r.output
    shown = json.loads(_ok(run, "opp", "show", opp, "--format", "json"))
    assert shown["stage"] == "closed_won"
    assert [h["to"] for h in shown["stage_history"]] == ["closed_won"]  # won once, not twice


def test_the_360_view_counts_open_quotes_as_quote_list_shows_them(cpq_book: Path, cpq: Run) -> None:
    # old code: the 360° view counted stored draft/pending/approved/sent -> 2 here (the draft and
    # the sent one, which `quote list` shows as expired; never the rejected one) and printed the
    # stored "sent". One definition: draft and rejected are open, expired is not -> 2, other ones.
    draft = new_quote(cpq, ["holder"])
    rejected = new_quote(cpq, ["holder", "--discount", "12%"])         # beyond a rep's 10% -> pending a manager
    _ok(cpq, "--as", "rex", "quote", "submit", rejected)
    _ok(cpq, "--as", "mia", "quote", "reject", rejected, "--reason", "too much")
    for qid in (draft, rejected):  # these two are still valid on the later day; the sent one is not
        _ok(cpq, "quote", "edit", qid, "--valid-until", "2026-12-31")
    expired = new_quote(cpq, ["holder"])
    _ok(cpq, "--as", "rex", "quote", "submit", expired)
    _ok(cpq, "--as", "rex", "quote", "send", expired)
    later = {"CRMCTL_NOW": "2026-09-01T10:00:00+08:00"}                 # past the 30-day validity
    listed = {q["id"]: q["status"] for q in _rows(cpq("quote", "list", "--format", "json", env=later).stdout)}
    assert listed == {draft: "draft", rejected: "rejected", expired: "expired"}
    view = json.loads(cpq("account", "show", "acme", "--format", "json", env=later).stdout)
    quotes = view["quotes"]
    assert quotes["open"] == 2
    assert {r["id"]: r["status"] for r in quotes["rows"]} == listed


def test_visit_plan_and_the_360_view_share_one_cadence_rule(book: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # old code: mcr/figures ignored visits.cadence.default_days, so the 360° view said "no cadence"
    # for an account without a tier while `visit plan` scheduled it every 10 days
    monkeypatch.setenv("CRMCTL_NOW", "2026-03-02T09:00:00+08:00")
    _edit_settings(book, ("default_days: 0 ", "default_days: 10 "))
    _ok(run, "account", "add", "--id", "notier", "--name", "No Tier Ltd", "--owner", "rex")
    view = json.loads(_ok(run, "account", "show", "notier", "--format", "json"))
    assert view["visits"]["cadence_days"] == 10
    assert view["visits"]["cadence"] != "no cadence"
    planned = _ok(run, "visit", "plan", "--from", "2026-03-02", "--to", "2026-03-13", "--dry-run", "--format", "json")
    rows = _rows(planned)
    assert {r["cadence"] for r in rows if r["account"] == "notier"} == {10}


def test_one_sixteenth_is_six_point_three_percent_in_every_report(book: Path, run: Run,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 converted lead of 16 = 6.25 % -> half-up 6.3 (old L2C code: quantize's half-even gave 6.2,
    # while `report sfe` printed 6.3)
    monkeypatch.setenv("CRMCTL_NOW", "2026-03-20T09:00:00+08:00")
    folder = book / "records" / "leads"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(16):
        status = "converted" if n == 0 else "new"
        text = (f"name: Lead {n}\nstatus: {status}\ncreated: '2026-03-0{1 + n % 9}T09:00:00+08:00'\n")
        if n == 0:
            text += ("converted: {account: acme}\nhistory:\n- {at: '2026-03-05T09:00:00+08:00', event: status, "
                     "from: new, to: converted}\n")
        (folder / f"lead{n:02d}.yaml").write_text(text, encoding="utf-8")
    git(book, "add", "-A")
    git(book, "commit", "-qm", "leads")
    out = _ok(run, "report", "funnel", "--format", "json")
    rows = _rows(out)
    converted = next(r for r in rows if r["step"] == "converted")
    assert converted["count"] == 1 and str(converted["conversion_%"]) == "6.3"


def test_a_reference_to_a_merged_account_reads_the_survivor(book: Path, run: Run) -> None:
    # a contact made in another clone still names the merged account; whois printed the redirect's
    # own (old) company name because it read book.records("accounts").get(id)
    _ok(run, "account", "add", "--id", "acme-old", "--name", "ACME Old Name", "--owner", "rex")
    _ok(run, "--as", "mia", "account", "merge", "acme", "acme-old")
    (book / "records" / "contacts" / "zoe.yaml").write_text("name: Zoe Zhang\naccount: acme-old\nemail: zoe@example.com\n",
                                                              encoding="utf-8")
    git(book, "add", "-A")
    git(book, "commit", "-qm", "contact from another clone")
    r = run("whois", "zoe@example.com", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "ACME Industries" in r.stdout and "ACME Old Name" not in r.stdout
    listed = _ok(run, "account", "list", "--format", "csv")
    assert "acme-old" not in listed  # lists read Book.live: redirects are not accounts
