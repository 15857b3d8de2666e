"""The book at any date: a git history built by script, read back with --as-of, changes, diff and log --fields.

The script below writes deal files and commits them on known days (committer
and author dates set, as a team's commits would carry them). Every expected
figure is computed from the script's own list of changes (``replay``), never
from crmctl's code. The book's zone is +08:00 (crm.yaml from ``crmctl init``).
"""
from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, invoke

NOW = {"CRMCTL_NOW": "2026-03-31T12:00:00+08:00"}
OPEN = ("prospecting", "qualification", "proposal", "negotiation")
PROB = {"prospecting": 10, "qualification": 20, "proposal": 50, "negotiation": 75}

# (commit time in +08:00, deal, fields set); a deal's first entry creates it
SCRIPT: list[tuple[str, str, dict[str, str]]] = [
    ("2026-01-05T10:00", "a1", {"stage": "prospecting", "amount": "100000.00", "close_date": "2026-03-15", "owner": "rex"}),
    ("2026-01-05T10:00", "a2", {"stage": "proposal", "amount": "200000.00", "close_date": "2026-02-20", "owner": "ria"}),
    ("2026-01-05T10:00", "a3", {"stage": "negotiation", "amount": "50000.00", "close_date": "2026-03-01", "owner": "rex"}),
    ("2026-01-20T15:00", "a1", {"amount": "150000.00"}),
    ("2026-01-20T15:00", "a4", {"stage": "qualification", "amount": "80000.00", "close_date": "2026-03-30", "owner": "ria"}),
    ("2026-02-03T09:00", "a2", {"stage": "won", "closed_on": "2026-02-03"}),
    ("2026-02-10T23:30", "a3", {"amount": "40000.00", "close_date": "2026-04-15"}),  # 15:30 UTC: still the 10th here
    ("2026-02-11T00:30", "a4", {"stage": "lost", "closed_on": "2026-02-11"}),                                  # 16:30 UTC on the 10th: the 11th here
    ("2026-02-25T11:00", "a1", {"stage": "proposal", "owner": "ria"}),
    ("2026-03-02T11:00", "a5", {"stage": "prospecting", "amount": "70000.00", "close_date": "2026-03-31", "owner": "rex"}),
]


def replay(day: str) -> dict[str, dict[str, str]]:
    """The deals as the script left them at the end of ``day`` (+08:00)."""
    deals: dict[str, dict[str, str]] = {}
    for at, rid, fields in SCRIPT:
        if at[:10] <= day:
            deals.setdefault(rid, {}).update(fields)
    return deals


def expected_pipeline(day: str) -> dict[str, tuple[int, Decimal]]:
    out: dict[str, tuple[int, Decimal]] = {}
    for deal in replay(day).values():
        if deal["stage"] in OPEN:
            count, amount = out.get(deal["stage"], (0, Decimal(0)))
            out[deal["stage"]] = (count + 1, amount + Decimal(deal["amount"]))
    return out


def _yaml(rid: str, deal: dict[str, str], created: str) -> str:
    lines = [f"name: Deal {rid}", "account: acme", *(f"{k}: {json.dumps(v)}" for k, v in deal.items()),
             f"created: \"{created}:00+08:00\""]
    return "\n".join(lines) + "\n"


@pytest.fixture
def history_book(book: Path) -> Path:
    """The ``book`` fixture's files committed on 2026-01-01, then the script's commits on their days."""
    folder = book / "records" / "opportunities"
    folder.mkdir(parents=True, exist_ok=True)
    # the fixture's users and accounts were committed now: start the history again, on the script's first day
    import shutil

    shutil.rmtree(book / ".git")
    first = {**os.environ, "GIT_AUTHOR_DATE": "2026-01-01T09:00:00+08:00", "GIT_COMMITTER_DATE": "2026-01-01T09:00:00+08:00"}
    subprocess.run(["git", "-C", str(book), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(book), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(book), "commit", "-qm", "the book"], check=True, env=first)
    deals: dict[str, dict[str, str]] = {}
    created: dict[str, str] = {}
    for at in sorted({a for a, _, _ in SCRIPT}):
        for when, rid, fields in SCRIPT:
            if when == at:
                deals.setdefault(rid, {}).update(fields)
                created.setdefault(rid, at)
                (folder / f"{rid}.yaml").write_text(_yaml(rid, deals[rid], created[rid]))
        stamp = f"{at}:00+08:00"
        env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        subprocess.run(["git", "-C", str(book), "add", "-A", "records"], check=True, env=env)
        subprocess.run(["git", "-C", str(book), "commit", "-qm", f"script {at}"], check=True, env=env)
    return book


def run_json(book: Path, *args: str) -> Any:
    result = invoke(*args, "--format", "json", book=book, env=NOW)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("day", ["2026-01-05", "2026-01-19", "2026-01-20", "2026-02-10", "2026-02-11", "2026-03-01"])
def test_pipeline_as_of_matches_the_script(history_book: Path, day: str) -> None:
    rows = {r["stage"]: r for r in run_json(history_book, "report", "pipeline", "--as-of", day) if r["stage"] != "total"}
    want = expected_pipeline(day)
    assert {s: (r["count"], Decimal(r["amount"])) for s, r in rows.items()} == want
    for stage, row in rows.items():  # weighted: amount × the stage's probability
        assert Decimal(row["weighted"]) == want[stage][1] * PROB[stage] / 100


def test_as_of_says_which_book_it_read(history_book: Path) -> None:
    result = invoke("report", "pipeline", "--as-of", "2026-02-10", book=history_book, env=NOW)
    sha = git(history_book, "log", "--format=%h", "-1", "--grep", "script 2026-02-10T23:30").strip()
    assert result.stderr.startswith(f"as of 2026-02-10: the book as committed in {sha}")
    # before the first commit: the records' own histories, said so
    early = invoke("report", "pipeline", "--as-of", "2025-12-01", book=history_book, env=NOW)
    assert early.exit_code == 0
    assert "from the records' own stage and payment histories" in early.stderr
    assert "before the book's first commit (2026-01-01)" in early.stderr


def test_list_and_show_as_of_give_every_field_of_that_day(history_book: Path) -> None:
    rows = {r["id"]: r for r in run_json(history_book, "opp", "list", "--as-of", "2026-02-10")}
    want = replay("2026-02-10")
    assert set(rows) == set(want)
    for rid, deal in want.items():
        assert {k: rows[rid][k] for k in deal} == deal
    shown = run_json(history_book, "opp", "show", "a3", "--as-of", "2026-02-09")
    assert (shown["amount"], shown["close_date"]) == ("50000.00", "2026-03-01")
    refused = invoke("opp", "list", "--as-of", "2025-12-01", book=history_book, env=NOW)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == ("error: --as-of: 2025-12-01 is before the book's first commit (2026-01-01); only the "
                                      "reports (`crmctl report pipeline --as-of 2025-12-01`, funnel, forecast, ...) can "
                                      "go further back, from the records' own histories")


def test_reading_the_past_touches_neither_working_tree_nor_index(history_book: Path) -> None:
    index = history_book / ".git" / "index"
    status = git(history_book, "status", "--porcelain")  # (git status itself may refresh the index: first)
    before = (index.stat().st_mtime_ns, index.read_bytes())
    run_json(history_book, "report", "pipeline", "--as-of", "2026-01-20")
    run_json(history_book, "opp", "list", "--as-of", "2026-01-20")
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before
    assert git(history_book, "status", "--porcelain") == status == ""
    # a blob is parsed once: the cache holds each version read, and two days share what did not change
    store = history_book / ".crmctl" / "cache" / "git" / "opportunities.json"
    assert len(json.loads(store.read_text())["blobs"]) == 4  # a1 (its 01-20 version), a2, a3, a4
    run_json(history_book, "report", "pipeline", "--as-of", "2026-01-05")
    assert len(json.loads(store.read_text())["blobs"]) == 5  # + a1's 01-05 version; a2 and a3 are the same blobs


def test_other_reports_as_of_equal_the_same_report_on_a_checkout_of_that_commit(history_book: Path, tmp_path: Path) -> None:
    sha = git(history_book, "rev-list", "-n1", "--first-parent", "--before=2026-02-11T23:59:59+08:00", "HEAD").strip()
    other = tmp_path / "checkout"
    git(history_book, "worktree", "add", "-q", "--detach", str(other), sha)
    env = {"CRMCTL_NOW": "2026-02-11T12:00:00+08:00"}
    for report in (("forecast", "--period", "2026-Q1"), ("funnel",), ("velocity",), ("receivables",), ("customers",),
                   ("sfe", "--period", "2026-Q1")):
        past = invoke("report", *report, "--as-of", "2026-02-11", "--format", "json", book=history_book, env=NOW)
        there = invoke("report", *report, "--format", "json", book=other, env=env)
        assert past.exit_code == 0 and there.exit_code == 0, past.output + there.output
        got, want = json.loads(past.stdout), json.loads(there.stdout)
        if isinstance(got, dict):
            got.pop("source")
        assert got == want, report
    closed = {r["owner"]: Decimal(r["closed"]) for r in json.loads(invoke(
        "report", "forecast", "--period", "2026-Q1", "--as-of", "2026-02-11", "--format", "json",
        book=history_book, env=NOW).stdout)}
    assert closed["ria"] == Decimal("200000.00")  # a2, won on 2026-02-03


def test_changes_between_two_days_add_up_from_the_script(history_book: Path) -> None:
    got = run_json(history_book, "report", "changes", "--from", "2026-01-10", "--to", "2026-03-05")
    figures = {f["figure"]: (Decimal(f["amount"]), sorted(d["id"] for d in f["deals"])) for f in got["figures"]}
    # open on 01-10: a1 100,000 + a2 200,000 + a3 50,000 = 350,000
    assert figures["open_start"] == (Decimal("350000.00"), ["a1", "a2", "a3"])
    # new since: a4 (lost by 03-05: enters and leaves? no — it was never open at either end... it is not counted) and a5
    assert figures["new_deals"] == (Decimal("70000.00"), ["a5"])
    assert figures["increased"] == (Decimal("50000.00"), ["a1"])        # 100,000 -> 150,000
    assert figures["decreased"] == (Decimal("-10000.00"), ["a3"])       # 50,000 -> 40,000
    assert figures["won"] == (Decimal("-200000.00"), ["a2"])
    assert figures["lost"] == (Decimal("0.00"), [])                    # a4 was born after 01-10 and lost before 03-05
    # open on 03-05: a1 150,000 + a3 40,000 + a5 70,000 = 260,000
    assert figures["open_end"] == (Decimal("260000.00"), ["a1", "a3", "a5"])
    # in Q1 only: a3's close date moved to 04-15, so it slipped out (at its new amount)
    q1 = run_json(history_book, "report", "changes", "--from", "2026-01-10", "--to", "2026-03-05", "--period", "2026-Q1")
    slipped = {f["figure"]: Decimal(f["amount"]) for f in q1["figures"]}
    assert slipped["slipped_out"] == Decimal("-40000.00")
    assert slipped["open_end"] == Decimal("220000.00")  # a1 150,000 + a5 70,000
    assert sum(v for k, v in slipped.items() if k != "open_end") == slipped["open_end"]


def test_changes_by_owner_open_each_owner_at_their_own_pipeline_of_the_first_day(history_book: Path) -> None:
    # attack on step 8, F11: a1 went from rex to ria on 02-25; its 100,000 (01-10) was counted in ria's opening
    # pipeline, which she never had. From the script: on 01-10 rex has a1 100,000 + a3 50,000 = 150,000, ria a2
    # 200,000; a1 moves out of rex and into ria at 100,000; on 03-05 rex has a3 40,000 + a5 70,000 = 110,000, ria
    # a1 150,000.
    got = run_json(history_book, "report", "changes", "--from", "2026-01-10", "--to", "2026-03-05", "--by", "owner")
    figures: dict[str, dict[str, Decimal]] = {}
    for f in got["figures"]:
        figures.setdefault(f["owner"], {})[f["figure"]] = Decimal(f["amount"])
    assert figures["rex"]["open_start"] == Decimal("150000.00") and figures["ria"]["open_start"] == Decimal("200000.00")
    assert figures["rex"]["moved_out"] == Decimal("-100000.00") and figures["ria"]["moved_in"] == Decimal("100000.00")
    assert figures["rex"]["open_end"] == Decimal("110000.00") and figures["ria"]["open_end"] == Decimal("150000.00")
    for owner, row in figures.items():       # each owner's waterfall adds up, to the cent
        assert sum(v for k, v in row.items() if k != "open_end") == row["open_end"], owner
    # and each owner's open_start is that owner's pipeline on the first day
    for owner in ("rex", "ria"):
        start = run_json(history_book, "report", "pipeline", "--as-of", "2026-01-10", "--by", "owner")
        mine = [r for r in start if r.get("owner") == owner]
        assert Decimal(mine[0]["amount"]) == figures[owner]["open_start"], owner
    whole = run_json(history_book, "report", "changes", "--from", "2026-01-10", "--to", "2026-03-05")
    assert not {"moved_in", "moved_out"} & {f["figure"] for f in whole["figures"]}   # no moves in the whole book


def _commit_on(book: Path, at: str, rid: str, fields: dict[str, str]) -> None:
    """One more commit of the script's kind: ``fields`` set on deal ``rid`` at ``at`` (+08:00)."""
    path = book / "records" / "opportunities" / f"{rid}.yaml"
    created = next(when for when, r, _ in SCRIPT if r == rid)
    deal = {**replay("9999-12-31")[rid], **fields}   # the deal as the script left it, then ``fields``
    path.write_text(_yaml(rid, deal, created))
    env = {**os.environ, "GIT_AUTHOR_DATE": f"{at}:00+08:00", "GIT_COMMITTER_DATE": f"{at}:00+08:00"}
    subprocess.run(["git", "-C", str(book), "commit", "-qam", f"extra {at}"], check=True, env=env)


def test_changes_by_owner_credit_a_reassigned_then_won_deal_to_its_new_owner(history_book: Path) -> None:
    # attack 5, F1: a3 (rex, 50,000 on 01-10, 40,000 since 02-10) is handed to ria and won by her on 03-04. Before,
    # the win was rex's and each row's single `owner` column was the FROM owner for won deals, the TO owner for
    # open ones. Now it is moved_out of rex and moved_in to ria at its 01-10 amount, decreased by ria (50,000 ->
    # 40,000) and won by ria, as `report forecast` credits her with it.
    _commit_on(history_book, "2026-03-04T10:00", "a3", {"owner": "ria", "stage": "won", "closed_on": "2026-03-04"})
    got = run_json(history_book, "report", "changes", "--from", "2026-01-10", "--to", "2026-03-05", "--by", "owner")
    figures: dict[str, dict[str, Decimal]] = {}
    deals: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in got["figures"]:
        figures.setdefault(f["owner"], {})[f["figure"]] = Decimal(f["amount"])
        deals[f["owner"], f["figure"]] = f["deals"]
    # rex: 150,000 (a1 100,000 + a3 50,000) − moved out 150,000 + new a5 70,000 = 70,000
    assert figures["rex"]["moved_out"] == Decimal("-150000.00") and figures["rex"]["won"] == Decimal("0.00")
    assert figures["rex"]["open_end"] == Decimal("70000.00")
    # ria: 200,000 (a2) + moved in 150,000 + a1 +50,000 − a3 −10,000 − won (a2 200,000 + a3 40,000) = 150,000
    assert figures["ria"]["moved_in"] == Decimal("150000.00")
    assert figures["ria"]["decreased"] == Decimal("-10000.00")
    assert figures["ria"]["won"] == Decimal("-240000.00")
    for owner, row in figures.items():
        assert sum(v for k, v in row.items() if k != "open_end") == row["open_end"], owner
    won = {d["id"]: d for d in deals["ria", "won"]}
    assert (won["a3"]["owner_start"], won["a3"]["owner_end"]) == ("rex", "ria")
    # the same owner as the forecast's: ria closed a2 200,000 + a3 40,000 in Q1
    closed = {r["owner"]: Decimal(r["closed"]) for r in run_json(
        history_book, "report", "forecast", "--period", "2026-Q1", "--as-of", "2026-03-05")}
    assert closed["ria"] == -figures["ria"]["won"] and closed.get("rex", Decimal(0)) == Decimal(0)
    # by stage a closed deal leaves from the stage it was open in at FROM (won is no pipeline stage)
    by_stage = run_json(history_book, "report", "changes", "--from", "2026-01-10", "--to", "2026-03-05", "--by", "stage")
    assert {f["stage"] for f in by_stage["figures"] if f["figure"] == "won" and f["deals"]} == {"negotiation", "proposal"}


def test_changes_csv_lists_the_deals_and_the_pdf_draws_a_waterfall(history_book: Path, tmp_path: Path) -> None:
    result = invoke("report", "changes", "--from", "2026-01-10", "--to", "2026-03-05", "--format", "csv",
                    book=history_book, env=NOW)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("figure,id,name,owner_start,owner_end,stage_start,stage_end")
    assert any(line.startswith("won,a2,Deal a2,ria,ria,proposal,won,") and line.endswith(",-200000.00") for line in lines)
    out = tmp_path / "changes.pdf"
    pdf = invoke("report", "changes", "--from", "2026-01-10", "--to", "2026-03-05", "--pdf", str(out),
                 book=history_book, env=NOW)
    assert pdf.exit_code == 0, pdf.output
    import pdfplumber

    with pdfplumber.open(out) as doc:
        text = doc.pages[0].extract_text()
    # the book's locale (zh) names the figures and formats the money; the waterfall's labels and the table both
    # carry them (before: the slug open_end)
    assert "期末在途 ¥260,000.00" in text and "200,000.00" in text and "open_end" not in text
    from crmctl.io import charts

    svg = charts.waterfall(["open_start", "won", "open_end"], ["300", "-100", "200"])
    assert svg.count("<rect") == 3 and "#e53e3e" in svg


def test_diff_and_field_log(history_book: Path) -> None:
    rows = run_json(history_book, "diff", "2026-01-19", "2026-02-11", "opportunities")
    assert [(r["id"], r["change"], r["fields"]) for r in rows] == [
        ("a1", "changed", "amount"), ("a2", "changed", "closed_on, stage"), ("a3", "changed", "amount, close_date"),
        ("a4", "added", "")]
    log = run_json(history_book, "log", "a3", "--fields")
    assert [(r["field"], r["old"], r["new"]) for r in log[:2]] == [("amount", "50000.00", "40000.00"),
                                                                    ("close_date", "2026-03-01", "2026-04-15")]
    assert log[0]["when"] == "2026-02-10T23:30:00+08:00" and log[0]["who"] == "Test Runner <runner@example.com>"


def test_field_log_reaches_inside_lists(history_book: Path) -> None:
    quote = history_book / "records" / "quotes" / "q1.yaml"
    quote.parent.mkdir(exist_ok=True)
    for discount in ("5", "12"):
        quote.write_text(f"account: acme\nlines:\n  - {{product: p1, qty: 1, discount: \"{discount}\"}}\n")
        git(history_book, "add", "-A")
        git(history_book, "commit", "-qm", f"discount {discount}")
    log = run_json(history_book, "log", "quotes/q1", "--fields")
    assert (log[0]["field"], log[0]["old"], log[0]["new"]) == ("lines[1].discount", "5", "12")


def test_log_in_a_shallow_clone_says_its_history_is_cut(history_book: Path, tmp_path: Path) -> None:
    # attack on step 8, F1: in a --depth 1 clone, `log ID --fields` credited the clone's oldest commit with every field
    # of the record (set long before), and `log ID` showed that commit as where the record began, without a word
    shallow = tmp_path / "shallow"
    git(history_book, "clone", "-q", "--depth", "1", f"file://{history_book}", str(shallow))
    deal = next((shallow / "records" / "opportunities").glob("*.yaml")).stem
    result = invoke("log", deal, "--fields", book=shallow, env=NOW)
    assert result.exit_code == 1
    assert "shallow clone" in result.stderr and "git fetch --unshallow" in result.stderr
    result = invoke("log", deal, book=shallow, env=NOW)
    assert result.exit_code == 0
    assert "warning: shallow clone: history before commit" in result.stderr
    result = invoke("log", deal, book=history_book, env=NOW)
    assert result.exit_code == 0 and "shallow" not in result.stderr


def test_log_of_a_removed_record_shows_who_removed_it(history_book: Path) -> None:
    # attack on step 8, F2: `log ID` of a deleted deal said "no record in any type", so the deletion could not be traced
    git(history_book, "rm", "-q", "records/opportunities/a5.yaml")
    git(history_book, "commit", "-qm", "delete a5")
    log = run_json(history_book, "log", "a5")
    assert [row["message"] for row in log][:1] == ["delete a5"] and len(log) == 2   # created 03-02, deleted now
    fields = run_json(history_book, "log", "a5", "--fields")
    assert any(row["field"] == "amount" and row["old"] == "70000.00" and row["new"] is None for row in fields)
    result = invoke("log", "zz9", book=history_book, env=NOW)
    assert result.exit_code == 1 and "no record 'zz9' in any type, now or in the book's git history" in result.stderr


def test_log_of_a_removed_record_takes_a_prefix_and_names_the_type_asked_for(history_book: Path) -> None:
    # attack 5, F2: a removed record's log took only its full id ("no record '…' in any type, now or in the book's
    # git history" for a prefix, which is false), and --type account still said "in any type"
    folder = history_book / "records" / "opportunities"
    for rid in ("zq-old-deal", "zq-other-deal"):
        (folder / f"{rid}.yaml").write_text(_yaml(rid, {"stage": "prospecting", "amount": "1000.00"}, "2026-03-20T10:00"))
    git(history_book, "add", "-A")
    git(history_book, "commit", "-qm", "two deals", "--no-verify")
    git(history_book, "rm", "-q", str(folder / "zq-old-deal.yaml"), str(folder / "zq-other-deal.yaml"))
    git(history_book, "commit", "-qm", "delete them", "--no-verify")
    assert [row["message"] for row in run_json(history_book, "log", "zq-ol")] == ["delete them", "two deals"]
    assert run_json(history_book, "log", "zq-old", "--type", "opp")[0]["message"] == "delete them"
    result = invoke("log", "zq-o", book=history_book, env=NOW)
    assert result.exit_code == 1 and result.stderr.strip() == (
        "error: 'zq-o' is the start of several removed opportunities in the book's git history (zq-old-deal, "
        "zq-other-deal); give more of the id")
    result = invoke("log", "zq-old-deal", "--type", "account", book=history_book, env=NOW)
    assert result.exit_code == 1 and result.stderr.strip() == ("error: no account 'zq-old-deal', now or in the book's "
                                                               "git history")


def test_log_dates_are_the_dates_as_of_counts(history_book: Path) -> None:
    # attack 5, F13: `log` said its date is "the one --as-of counts", but printed a commit's own committer date: one
    # dated before its parent (a clock behind) or made on a branch merged later counts from a later time.
    _commit_on(history_book, "2026-02-01T10:00", "a5", {"amount": "99000.00"})      # after 03-02's commit, dated 02-01
    r = invoke("log", "a5", "--fields", "--limit", "1", "--format", "json", book=history_book, env=NOW)
    row = json.loads(r.stdout)[0]
    assert (row["field"], row["new"]) == ("amount", "99000.00")
    assert (row["when"], row["authored"]) == ("2026-03-02T11:00:00+08:00", "2026-02-01T10:00:00+08:00")  # its parent's
    assert (f"note: commit {row['commit']} was committed 2026-02-01T10:00:00+08:00, before a commit it follows (a "
            "clock behind, or a branch merged later): --as-of counts it from 2026-03-02T11:00:00+08:00, the date "
            "shown") in r.stderr
    # the day shown is the first day --as-of sees the change
    for day, amount in (("2026-03-01", None), ("2026-03-02", "99000.00")):
        deals = {d["id"]: d for d in run_json(history_book, "opp", "list", "--as-of", day)}
        assert deals.get("a5", {}).get("amount") == amount, day
    plain = json.loads(invoke("log", "a5", "--format", "json", book=history_book, env=NOW).stdout)
    assert plain[0]["date"] == "2026-03-02T11:00:00+08:00"
    # a change made on a branch on 03-10 and merged on 03-15 counts from the merge
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-03-10T09:00:00+08:00", "GIT_COMMITTER_DATE": "2026-03-10T09:00:00+08:00"}
    git(history_book, "checkout", "-qb", "side")
    (history_book / "records" / "opportunities" / "a1.yaml").write_text(
        _yaml("a1", {**replay("2026-03-10")["a1"], "amount": "155000.00"}, "2026-01-05T10:00"))
    subprocess.run(["git", "-C", str(history_book), "commit", "-qam", "side: a1", "--no-verify"], check=True, env=env)
    git(history_book, "checkout", "-q", "-")
    env = {**env, "GIT_AUTHOR_DATE": "2026-03-15T09:00:00+08:00", "GIT_COMMITTER_DATE": "2026-03-15T09:00:00+08:00"}
    subprocess.run(["git", "-C", str(history_book), "merge", "-q", "--no-ff", "--no-verify", "-m", "merge side", "side"],
                   check=True, env=env)
    row = json.loads(invoke("log", "a1", "--fields", "--limit", "1", "--format", "json", book=history_book, env=NOW).stdout)[0]
    assert (row["new"], row["when"], row["authored"]) == ("155000.00", "2026-03-15T09:00:00+08:00", "2026-03-10T09:00:00+08:00")
    assert run_json(history_book, "opp", "show", "a1", "--as-of", "2026-03-12")["amount"] == "150000.00"


def test_field_log_shows_no_change_between_absent_and_empty(history_book: Path) -> None:
    # attack on step 8, F3: a commit that wrote `printed: {en: []}` where there was nothing printed a row with empty
    # old and empty new — a "change" a reader cannot see
    deal = history_book / "records" / "opportunities" / "a5.yaml"
    deal.write_text(deal.read_text(encoding="utf-8") + "tags: []\nnotes: \"\"\n", encoding="utf-8")
    git(history_book, "commit", "-qam", "empty fields")
    deal.write_text(deal.read_text(encoding="utf-8").replace("amount: \"70000.00\"", "amount: \"75000.00\""),
                    encoding="utf-8")
    git(history_book, "commit", "-qam", "amount")
    rows = run_json(history_book, "log", "a5", "--fields")
    assert not [r for r in rows if r["field"] in ("tags", "notes")]
    assert [(r["field"], r["old"], r["new"]) for r in rows][0] == ("amount", "70000.00", "75000.00")


def test_no_history_is_one_clear_line(book: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    git(book, "clone", "-q", "--depth", "1", f"file://{book}", str(plain))
    result = invoke("opp", "list", "--as-of", "2020-01-01", book=plain, env=NOW)
    assert result.exit_code == 1
    assert "oldest commit of this shallow clone; run `git fetch --unshallow`" in result.stderr
    import shutil

    shutil.rmtree(plain / ".git")
    result = invoke("diff", "2026-01-01", "2026-02-01", book=plain, env=NOW)
    assert result.exit_code == 1
    assert ("is not in a git repository, so it has no past versions; run `git init` and commit, and from then on "
            "every day can be read back; only the reports (`crmctl report pipeline --as-of 2026-01-01`") in result.stderr
    result = invoke("log", "--fields", book=plain, env=NOW)
    assert result.exit_code == 1
