"""`report sfe`: every figure checked against numbers worked out by hand on a small book."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sfe.conftest import ACME, Run, do_visit, fails, ok
from tests.sfe.test_holidays import set_yaml


@pytest.fixture
def month(run: Run, book: Path, now) -> dict[str, str]:
    """November 2026, as of 27 Nov (see each visit's comment for what it counts as)."""
    ok(run("account", "edit", "acme", "--set", f"lat={ACME[0]}", "--set", f"lon={ACME[1]}"))
    ok(run("user", "quota", "rex", "--period", "2026-11", "--visits", "4", "--amount", "300000"))
    ids = {
        # rex: on time, 90 min, 'present' ticked too; its follow-up (due 2 Nov) is overdue 25 days
        "v1": do_visit(run, "acme", "2026-11-02", extra_steps=("present",)),
        # rex: checked in a day late, 30 min
        "v2": do_visit(run, "acme", "2026-11-09", checkin_at="2026-11-10T09:00", end="2026-11-10T09:30"),
        # rex: planned, never done -> missed
        "v3": ok(run("visit", "add", "--account", "acme", "--date", "2026-11-16")),
        # rex: later this month -> planned, not yet due
        "v4": ok(run("visit", "add", "--account", "acme", "--date", "2026-11-30")),
        # rex: next month -> outside the period
        "v5": ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01")),
    }
    now("2026-10-15T17:00:00+08:00")
    ids["r0"] = do_visit(run, "baosteel", "2026-10-15", with_="mia", end="10:00")
    ok(run("--as", "mia", "visit", "coach", ids["r0"], "--score", "discover=2", "--score", "present=2"))
    now("2026-11-20T17:00:00+08:00")
    # ria: accompanied by mia, on time, 60 min, coached 4 and 2 -> 3.0 (October's was 2.0: trend +1.0)
    ids["r1"] = do_visit(run, "baosteel", "2026-11-20", with_="mia", end="10:00")
    ok(run("--as", "mia", "visit", "coach", ids["r1"], "--score", "discover=4", "--score", "present=2"))
    ok(run("visit", "followup", ids["r1"], "1", "--done"))
    ok(run("visit", "followup", ids["r0"], "1", "--done"))
    now("2026-11-27T18:00:00+08:00")
    (book / "records" / "opportunities").mkdir(exist_ok=True)
    (book / "records" / "opportunities" / "2ndt00000won1.yaml").write_text(
        "name: VMC order\naccount: acme\nowner: rex\nstage: won\namount: '100000.00'\nclosed_on: '2026-11-15'\n", encoding="utf-8")
    return ids


def report(run: Run, *args: str) -> dict:
    return json.loads(ok(run("report", "sfe", *args, "--format", "json")))


def test_plan_against_actual(run: Run, month: dict[str, str]) -> None:
    got = report(run, "--period", "2026-11")
    reps = {r["rep"]: r for r in got["reps"]}
    assert (got["from"], got["to"], got["as_of"]) == ("2026-11-01", "2026-11-30", "2026-11-27")
    rex = reps["rex"]
    # planned v1 v2 v3 v4 = 4; due (up to 27 Nov) v1 v2 v3 = 3; completed v1 v2 = 2
    assert (rex["planned"], rex["due"], rex["completed"], rex["missed"]) == (4, 3, 2, 1)
    assert rex["completion_pct"] == "66.7"      # 2 / 3
    assert rex["on_time_pct"] == "50.0"         # v1 on its day, v2 a day late
    assert rex["avg_min"] == "60.0"             # (90 + 30) / 2
    assert (rex["target"], rex["target_pct"]) == (4, "50.0")  # 2 of the quota's 4 visits
    assert (rex["won"], rex["visits_per_won"]) == (1, "2.0")
    assert rex["overdue_followups"] == 2        # v1's (due 2 Nov) and v2's (due 9 Nov)
    ria = reps["ria"]
    assert (ria["planned"], ria["due"], ria["completed"], ria["completion_pct"], ria["on_time_pct"], ria["avg_min"]) == \
        (1, 1, 1, "100.0", "100.0", "60.0")
    total = reps["(total)"]
    assert (total["due"], total["completed"], total["completion_pct"], total["avg_min"]) == (4, 3, "75.0", "60.0")


def test_act_says_when_the_week_has_no_working_day(run: Run, book: Path, month: dict[str, str]) -> None:
    # before: "(the accounts' next visits are planned)", the reason when a plan moves nothing; here nothing can be
    # planned at all (27 Nov..3 Dec are all days off), and `visit plan` for that week refuses
    set_yaml(book, 'days_off: ["2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", '
                   '"2026-12-03"]')
    act = report(run, "--period", "2026-11")["act"]
    assert act[0]["who"] == "rex"
    assert "1 missed visit(s), none to move: no working day 2026-11-27..2026-12-03 to plan on (working_days, " \
        "calendar and days_off in crm.yaml): crmctl visit list --rep rex --status missed" in act[0]["action"]
    assert "next visits are planned" not in act[0]["action"]


def test_cadence_sop_coaching_followups(run: Run, month: dict[str, str]) -> None:
    got = report(run, "--period", "2026-11")
    # 1..27 Nov is 27 days: acme (A, 7 days) asks for 3 visits and had 2; baosteel (B, 14) asks for 1 and had 1
    assert got["cadence"] == [
        {"tier": "A", "accounts": 1, "covered": 0, "coverage_pct": "0.0", "visits": 2, "asked": 3, "visits_pct": "66.7"},
        {"tier": "B", "accounts": 1, "covered": 1, "coverage_pct": "100.0", "visits": 1, "asked": 1, "visits_pct": "100.0"},
    ]
    sop = {r["step"]: r for r in got["sop"]}
    assert sop["present"]["visits"] == 3 and sop["present"]["done"] == 1 and sop["present"]["adherence_pct"] == "33.3"
    assert sop["discover"]["adherence_pct"] == "100.0" and sop["photo"]["adherence_pct"] == "0.0"
    assert got["coaching"] == [{"rep": "ria", "scores": 2, "avg": "3.0", "by_month": "2026-11: 3.0", "trend": ""}]
    assert [(f["visit"], f["days_overdue"]) for f in got["followups"]] == [(month["v1"], 25), (month["v2"], 18)]
    quarter = report(run, "--period", "2026-Q4")
    assert quarter["coaching"] == [{"rep": "ria", "scores": 4, "avg": "2.5", "by_month": "2026-10: 2.0, 2026-11: 3.0", "trend": "+1.0"}]


def test_act_lists_who_is_furthest_behind(run: Run, month: dict[str, str]) -> None:
    act = report(run, "--period", "2026-11")["act"]
    assert act[0]["kind"] == "rep" and act[0]["who"] == "rex" and act[0]["behind"] == 3  # 1 missed + 2 overdue follow-ups
    # v3 (16 Nov) was missed, but acme's next visit (v4, 30 Nov) is planned within its 7 days: nothing to reschedule
    # (the plan of 27 Nov..3 Dec would move nothing; test_plan_over_time has the case where it moves one)
    assert "1 missed visit(s), none to move 2026-11-27..2026-12-03 (the accounts' next visits are planned): " \
        "crmctl visit list --rep rex --status missed" in act[0]["action"]
    assert "close 2 overdue follow-up(s)" in act[0]["action"]
    accounts = [r for r in act if r["kind"] == "account"]
    # acme's last completed visit was 9 Nov: 18 days ago, 11 past its 7-day cadence; a visit is planned for 30 Nov
    assert accounts[0]["who"] == "acme" and accounts[0]["behind"] == 11
    assert "planned for 2026-11-30" in accounts[0]["action"]
    # baosteel: 7 days since 20 Nov, inside its 14 days -> not behind
    assert all(r["who"] != "baosteel" for r in accounts)


def test_scope_by_rep_and_team_and_formats(run: Run, month: dict[str, str]) -> None:
    only = report(run, "--period", "2026-11", "--rep", "ria")
    assert [r["rep"] for r in only["reps"]] == ["ria"] and only["followups"] == []
    team = report(run, "--period", "2026-11", "--team", "mia")
    assert [r["rep"] for r in team["reps"]] == ["mia", "rex", "ria", "(total)"]
    table = ok(run("report", "sfe", "--period", "2026-11"))
    assert "Plan against actual" in table and "66.7" in table and "Act: furthest behind" in table
    csv = ok(run("report", "sfe", "--period", "2026-11", "--format", "csv"))
    assert "# reps" in csv and "# act" in csv
    fails(run("report", "sfe", "--period", "2026-Q5"), "period '2026-Q5'")
    fails(run("report", "sfe", "--rep", "rex", "--team", "mia"), "either --rep or --team")
    fails(run("report", "sfe", "--team", "nobody"), "--team 'nobody'")


def test_demo_book_has_a_quarter_of_visits(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import invoke

    monkeypatch.setenv("CRMCTL_NOW", "2026-11-27T18:00:00+08:00")
    assert invoke("check", book=demo_copy).exit_code == 0
    got = json.loads(ok(invoke("report", "sfe", "--period", "2026-Q4", "--format", "json", book=demo_copy)))
    reps = {r["rep"]: r for r in got["reps"]}
    assert set(reps) == {"li-na", "zhou-tao", "tom-baker", "(total)"}
    assert all(reps[r]["missed"] > 0 and reps[r]["completed"] > 0 for r in reps)  # some missed, most done
    assert got["coaching"] and got["followups"]                                   # coached, and some overdue
    assert reps["li-na"]["target"] == 50                                          # quotas on the user records
    visits = json.loads(ok(invoke("visit", "list", "--format", "json", book=demo_copy)))
    months = {v["date"][:7] for v in visits}
    assert {"2026-09", "2026-10", "2026-11"} <= months


def test_the_act_preview_reads_the_visits_the_plan_reads_from_the_reports_own_view(book: Path) -> None:
    """The reschedule preview plans from the report's visits view (seen_visits) instead of a second view of every
    visit: the tuples are those plan.seen makes of the records, also when a value holds the view's separators
    (``|`` and ``;`` are taken out of its flat text, so those four fields are kept as written)."""
    from crmctl.core.book import Book
    from crmctl.sfe.agenda import light_visits
    from crmctl.sfe.pdca import VIEW, seen_visits, visit_row
    from crmctl.sfe.plan import seen

    folder = book / "records" / "visits"
    folder.mkdir(parents=True, exist_ok=True)
    visits = {
        "v-plain": "account: acme\nrep: rex\ntype: onsite\nstatus: planned\ndate: 2026-11-16\n",
        "v-coached": "account: acme\nrep: rex\ntype: onsite\nstatus: completed\ndate: '2026-11-02'\n"
                     "coaching:\n- at: '2026-11-02'\n  scores: {discover: 3}\n",
        "v-bar-rep": "account: acme\nrep: 're|x'\ntype: onsite\nstatus: planned\ndate: 2026-11-09\n",
        "v-semicolon": "account: 'ac;me'\nrep: rex\ntype: onsite\nstatus: 'plan|ned'\ndate: 2026-11-10\n",
        "v-no-date": "account: acme\nrep: rex\ntype: onsite\nstatus: cancelled\n",
    }
    for vid, text in visits.items():
        (folder / f"{vid}.yaml").write_text(text, encoding="utf-8")
    expected = sorted(seen(light_visits(Book(str(book)))))
    assert sorted(seen_visits(Book(str(book)).view("visits", VIEW, visit_row))) == expected
    assert ("v-bar-rep", "acme", "re|x", "2026-11-09", "planned") in expected
    assert ("v-semicolon", "ac;me", "rex", "2026-11-10", "plan|ned") in expected
    assert ("v-no-date", "acme", "rex", "None", "cancelled") in expected


def test_the_act_preview_is_remembered_by_what_it_reads_and_redone_when_any_of_it_changes(
        run: Run, month: dict[str, str], book: Path) -> None:
    import datetime as _dt

    from crmctl.core.book import Book
    from crmctl.sfe import pdca
    from crmctl.sfe.plan import plan

    # the declared reads are all plan() reads: nothing else can change its answer unseen
    fresh = Book(str(book))
    plan(fresh, (_dt.date(2026, 11, 27), _dt.date(2026, 12, 3)), None, _dt.date(2026, 11, 27))
    assert fresh.read <= set(pdca.PREVIEW_READS), fresh.read
    memo_file = book / ".crmctl" / "cache" / "memo" / "sfe-act-preview.json"

    def act() -> str:
        result = run("report", "sfe", "--period", "2026-11", "--format", "json")
        assert result.exit_code == 0, result.output
        return json.dumps(json.loads(result.stdout)["act"])

    first = act()
    assert memo_file.exists()
    assert act() == first  # remembered
    key = json.loads(memo_file.read_text(encoding="utf-8"))["key"]
    # cancel v4 (30 Nov) by hand: acme's next planned visit is now v5 (1 Dec), and the week's plan is made again
    path = book / "records" / "visits" / f"{month['v4']}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("status: planned", "status: cancelled"), encoding="utf-8")
    changed = act()
    assert json.loads(memo_file.read_text(encoding="utf-8"))["key"] != key and changed != first
    off = run("report", "sfe", "--period", "2026-11", "--format", "json", env={"CRMCTL_READ_MODEL": "off"})
    assert changed == json.dumps(json.loads(off.stdout)["act"])  # the same as computed afresh
