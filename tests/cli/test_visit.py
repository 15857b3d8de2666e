"""`crmctl visit`: add, check-in/out with distance, SOP steps and the completion gate, log, coaching, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.sfe.conftest import ACME, Run, clock, do_visit, fails, now, ok, snapshot  # noqa: F401 (now: the fixed-clock fixture)


@pytest.fixture
def located(run: Run, book: Path, now) -> Path:
    ok(run("account", "edit", "acme", "--set", f"lat={ACME[0]}", "--set", f"lon={ACME[1]}"))
    return book


def record(book: Path, vid: str) -> dict:
    return yaml.safe_load((book / "records" / "visits" / f"{vid}.yaml").read_text(encoding="utf-8"))


def test_checkin_records_place_and_distance(run: Run, located: Path) -> None:
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-27", "--time", "14:00"))
    # run at 14:06 (a check-in at --time 14:05, a minute ago, is on time and no late entry)
    result = run("visit", "checkin", vid, "--at", "31.2310,121.4740", "--time", "14:05", env=clock("2026-11-27", "14:06"))
    ok(result)
    assert "warning" not in result.stderr
    data = record(located, vid)
    assert data["status"] == "in_progress"
    assert data["checkin"]["at"] == "2026-11-27T14:05:00+08:00"
    # 0.0006° of latitude (66.7 m) and 0.0003° of longitude at 31.23° (28.5 m): sqrt(66.7² + 28.5²) ≈ 73 m
    assert data["checkin"]["distance_m"] == 73
    assert "far" not in data["checkin"]
    assert [s["id"] for s in data["steps"]] == ["checkin"]  # the SOP's check-in step ticks itself
    result = run("visit", "checkout", vid, "--at", "31.2500,121.4737", "--time", "15:35", env=clock("2026-11-27", "15:40"))
    ok(result)
    assert "warning: visit" in result.stderr and "more than 500 m" in result.stderr
    data = record(located, vid)
    assert data["checkout"]["duration_min"] == 90
    assert data["checkout"]["far"] is True and 2170 <= data["checkout"]["distance_m"] <= 2185


def test_radius_comes_from_crm_yaml(run: Run, located: Path) -> None:
    settings = located / "crm.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("checkin_radius_m: 500", "checkin_radius_m: 50"), encoding="utf-8")
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-27"))
    result = run("visit", "checkin", vid, "--at", "31.2310,121.4740")
    ok(result)
    assert "73 m from the account (more than 50 m)" in result.stderr


def test_sop_gates_completion(run: Run, located: Path) -> None:
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-27"))
    fails(run("visit", "done", vid), "required SOP steps still open: prepare, checkin, discover, next_steps, checkout, writeup")
    ok(run("visit", "checkin", vid, "--time", "09:00"))
    fails(run("visit", "done", vid), "checked in but not out")
    ok(run("visit", "checkout", vid, "--time", "10:00"))
    ok(run("visit", "step", vid, "prepare", "--done"))
    ok(run("visit", "step", vid, "discover", "--done", "--note", "needs a 5-axis machine"))
    ok(run("visit", "log", vid, "--outcome", "good", "--next-step", "send quote", "--next-step", "book demo", "--due", "2026-12-04"))
    before = record(located, vid)
    assert before["status"] == "in_progress"
    ok(run("visit", "step", vid, "writeup", "--undo"))
    fails(run("visit", "done", vid), "writeup")
    ok(run("visit", "step", vid, "writeup", "--done"))
    ok(run("visit", "done", vid))
    data = record(located, vid)
    assert data["status"] == "completed"
    assert data["next_steps"] == [
        {"text": "send quote", "due": "2026-12-04", "done": False, "owner": "rex"},
        {"text": "book demo", "due": "2026-12-04", "done": False, "owner": "rex"},
    ]
    ok(run("visit", "followup", vid, "2", "--done"))
    assert record(located, vid)["next_steps"][1]["done"] is True
    fails(run("visit", "followup", vid, "2", "--done"), "already done")
    fails(run("visit", "followup", vid, "3", "--done"), "N must be 1..2")


def test_steps_need_values_and_must_be_in_the_sop(run: Run, located: Path) -> None:
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-27"))
    before = snapshot(located)
    fails(run("visit", "step", vid, "competitor", "--done"), "needs a value (text)", "--value")
    fails(run("visit", "step", vid, "smile", "--done"), "'smile' is not in the onsite SOP")
    fails(run("visit", "step", vid, "prepare", "--done", "--value", "x"), "takes no value")
    assert snapshot(located) == before
    ok(run("visit", "step", vid, "order", "--done", "--value", "2 x VMC-850"))
    assert record(located, vid)["steps"][0]["value"] == "2 x VMC-850"


def test_bad_check_ins_are_refused_and_write_nothing(run: Run, located: Path) -> None:
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-27"))
    before = snapshot(located)
    fails(run("visit", "checkout", vid), "no check-in", f"visit checkin {vid}")
    fails(run("visit", "checkin", vid, "--at", "91,121"), "latitude 91 is out of range (-90..90)")
    fails(run("visit", "checkin", vid, "--at", "31,-180.5"), "longitude -180.5 is out of range (-180..180)")
    fails(run("visit", "checkin", vid, "--at", "31.2;121"), "LAT,LON")
    fails(run("visit", "checkin", vid, "--time", "25:00"), "HH:MM")
    assert snapshot(located) == before
    ok(run("visit", "checkin", vid, "--time", "10:00"))
    before = snapshot(located)
    fails(run("visit", "checkin", vid), "already checked in")
    fails(run("visit", "checkout", vid, "--time", "2026-11-27T09:59"), "before the check-in")
    # HH:MM for a check-out is the first 09:59 after the check-in: tomorrow, in the future
    fails(run("visit", "checkout", vid, "--time", "09:59"), "2026-11-28T09:59:00+08:00 is in the future")
    assert snapshot(located) == before


def test_coaching_only_by_the_manager_on_the_visit(run: Run, located: Path) -> None:
    vid = do_visit(run, "acme", "2026-11-27", with_="mia")
    before = snapshot(located)
    fails(run("--as", "rex", "visit", "coach", vid, "--score", "discover=4"), "rex was not on visit", "with: mia")
    fails(run("--as", "dan", "visit", "coach", vid, "--score", "discover=4"), "dan was not on visit")
    fails(run("--as", "mia", "visit", "coach", vid, "--score", "discover=6"), "1 to 5")
    fails(run("--as", "mia", "visit", "coach", vid, "--score", "dance=3"), "'dance' is not in the onsite SOP")
    fails(run("visit", "coach", vid, "--score", "discover=3"), "needs to know who you are")
    assert snapshot(located) == before
    ok(run("--as", "mia", "visit", "coach", vid, "--score", "discover=4", "--score", "present=2", "--comment", "ask more"))
    coaching = record(located, vid)["coaching"]
    assert coaching == [{"by": "mia", "at": "2026-11-27T18:00:00+08:00", "scores": {"discover": 4, "present": 2}, "comment": "ask more"}]
    shown = ok(run("visit", "show", vid))
    assert "discover=4, present=2" in shown and "ask more" in shown


def test_accompanied_visit_needs_a_manager(run: Run, located: Path) -> None:
    before = snapshot(located)
    fails(run("visit", "add", "--account", "acme", "--date", "2026-11-30", "--with", "ria"), "needs a manager or director")
    fails(run("visit", "add", "--account", "acme", "--date", "2026-11-30", "--with", "ghost"), "--with 'ghost'")
    fails(run("visit", "add", "--account", "acme", "--date", "2026-13-01"), "YYYY-MM-DD")
    fails(run("visit", "add", "--account", "acme", "--date", "2026-12-01", "--type", "carrier-pigeon"), "unknown visit type")
    assert snapshot(located) == before
    result = run("visit", "add", "--account", "acme", "--date", "2026-11-30", "--with", "dan")
    vid = ok(result)
    assert "dan is not in rex's management chain" in result.stderr
    assert record(located, vid)["with"] == ["dan"]


def test_edit_keeps_the_companion_rules(run: Run, located: Path) -> None:
    vid = do_visit(run, "acme", "2026-11-27", with_="mia")
    ok(run("--as", "mia", "visit", "coach", vid, "--score", "discover=4"))
    before = snapshot(located)
    fails(run("visit", "edit", vid, "--set", "with=ria"), "needs a manager or director", "ria is a rep")
    fails(run("visit", "edit", vid, "--set", "with=mia", "--set", "rep=mia"), "the rep cannot accompany their own visit")
    fails(run("visit", "edit", vid, "--set", "with=dan"), "mia coached this visit, so they stay in `with`")
    fails(run("visit", "edit", vid, "--set", "status=planned"), "status")
    assert snapshot(located) == before
    result = run("visit", "edit", vid, "--set", "with=mia,dan")
    ok(result)
    assert "dan is not in rex's management chain" in result.stderr
    assert record(located, vid)["with"] == ["mia", "dan"]


def test_cancel_and_list_and_show(run: Run, located: Path) -> None:
    missed = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-20"))
    later = ok(run("visit", "add", "--account", "baosteel", "--date", "2026-12-02", "--time", "9:30", "--purpose", "demo"))
    gone = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-03"))
    fails(run("visit", "cancel", gone, "--reason", " "), "say why")
    ok(run("visit", "cancel", gone, "--reason", "customer on holiday"))
    assert record(located, gone)["cancelled"]["reason"] == "customer on holiday"
    fails(run("visit", "checkin", gone), "is cancelled")
    rows = json.loads(ok(run("visit", "list", "--format", "json")))
    status = {r["id"]: r["status"] for r in rows}
    assert status == {missed: "missed", later: "planned", gone: "cancelled"}
    week = json.loads(ok(run("visit", "list", "--week", "2026-W49", "--rep", "ria", "--format", "json")))
    assert [(r["id"], r["time"]) for r in week] == [(later, "09:30")]
    assert [r["id"] for r in json.loads(ok(run("visit", "list", "--status", "missed", "--format", "json")))] == [missed]
    shown = json.loads(ok(run("visit", "show", later, "--format", "json")))
    assert shown["sop"][0] == {"n": 1, "step": "prepare", "name": "Review last visit and open opportunities", "required": True,
                               "needs": "", "status": "open", "at": "", "value": "", "note": ""}
    fails(run("visit", "list", "--rep", "nobody"), "--rep 'nobody'")


def test_agenda_shows_visits_and_follow_ups(run: Run, located: Path) -> None:
    vid = do_visit(run, "acme", "2026-11-20")  # its follow-up is due 2026-11-20: overdue a week
    nxt = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01", "--purpose", "quote review"))
    rows = json.loads(ok(run("visit", "agenda", "--rep", "rex", "--week", "2026-W49", "--format", "json")))
    assert [(r["kind"], r["ref"], r["status"]) for r in rows] == [
        ("follow-up", f"{vid} 1", "overdue 7d"), ("visit", nxt, "planned")]
    assert json.loads(ok(run("visit", "agenda", "--rep", "ria", "--week", "2026-W49", "--format", "json"))) == []


def test_follow_ups_per_account_for_the_360_view(run: Run, located: Path) -> None:
    import datetime as _dt

    from crmctl.core.book import Book
    from crmctl.sfe.agenda import followups

    vid = do_visit(run, "acme", "2026-11-20")
    do_visit(run, "baosteel", "2026-11-23")
    rows = followups(Book(str(located)).all("visits"), _dt.date(2026, 11, 27), account="acme")
    assert rows == [{"visit": vid, "n": 1, "owner": "rex", "account": "acme", "text": "send the quote", "due": "2026-11-20",
                     "days_overdue": 7}]
