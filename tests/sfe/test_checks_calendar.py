"""`crmctl check` on visits, and the iCalendar export parsed back with icalendar."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import icalendar
import yaml

from tests.sfe.conftest import ACME, Run, do_visit, fails, ok


def edit(book: Path, vid: str, change) -> None:
    path = book / "records" / "visits" / f"{vid}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_check_finds_broken_visits(run: Run, book: Path, now) -> None:
    vid = do_visit(run, "acme", "2026-11-20", with_="mia")
    ok(run("--as", "mia", "visit", "coach", vid, "--score", "discover=4"))
    assert "no problems" in run("check").output

    def spoil(data: dict) -> None:
        data["steps"] = [s for s in data["steps"] if s["id"] != "prepare"] + [{"id": "dance", "done": True}]
        data["coaching"].append({"by": "ria", "at": "2026-11-21T10:00:00+08:00", "scores": {"discover": 9}})
        data["checkout"]["at"] = "2026-11-20T08:00:00+08:00"
        data["checkin"]["lat"] = "95.0"
        data["with"] = ["mia", "rex"]  # a hand edit: rex is the visit's own rep

    edit(book, vid, spoil)
    other = ok(run("visit", "add", "--account", "acme", "--date", "2026-11-30"))
    edit(book, other, lambda data: data.update({"with": ["ria"]}))  # ria is a rep
    result = run("check")
    assert result.exit_code == 1
    text = result.output
    assert f"records/visits/{vid}.yaml" in text
    assert "completed visit with required SOP steps open: prepare" in text
    assert "step 'dance' is not in the onsite SOP" in text
    assert "coaching by 'ria', who was not on the visit" in text
    assert "coaching score discover=9" in text
    assert "is before the check-in" in text
    assert "checkin: latitude 95.0 is out of range" in text
    assert "with: ria is a rep; an accompanied visit needs a manager" in text
    assert "with: rex is the visit's own rep" in text


def test_calendar_parses_back(run: Run, book: Path, now, tmp_path: Path) -> None:
    ok(run("account", "edit", "acme", "--set", "address=上海市静安区威海路489号", "--set", "city=上海",
           "--set", f"lat={ACME[0]}", "--set", f"lon={ACME[1]}"))
    a = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01", "--time", "14:30", "--with", "mia", "--purpose", "报价评审"))
    b = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-03", "--type", "phone"))
    c = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-04"))
    ok(run("visit", "cancel", c, "--reason", "holiday"))
    ok(run("visit", "add", "--account", "baosteel", "--date", "2026-12-02"))  # ria's: not in rex's calendar
    out = tmp_path / "rex.ics"
    result = run("visit", "calendar", "--rep", "rex", "--out", str(out), "--week", "2026-W49")
    ok(result)
    # the test book's timezone is the bare offset +08:00: UTC times, and one line saying so
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        "warning: timezone +08:00 is an offset, not a zone: the calendar's times are written in UTC; "
        "set timezone (or visits.calendar_tzid) to an IANA name such as Asia/Kolkata"]
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    events = [e for e in cal.walk("VEVENT")]
    # the cancelled visit stays, as cancelled (SEQUENCE 1), so a phone that imported it removes it
    assert [(str(e["uid"]), str(e["status"]), e["sequence"]) for e in events] == [
        (f"{a}@crmctl.local", "CONFIRMED", 0), (f"{b}@crmctl.local", "CONFIRMED", 0), (f"{c}@crmctl.local", "CANCELLED", 1)]
    first = events[0]
    start, end = first.decoded("dtstart"), first.decoded("dtend")
    assert start.utcoffset() == _dt.timedelta(0)
    # 14:30 at +08:00 is 06:30 UTC; an onsite visit lasts 90 minutes
    assert (start.replace(tzinfo=None), (end - start)) == (_dt.datetime(2026, 12, 1, 6, 30), _dt.timedelta(minutes=90))
    assert str(first["location"]) == "上海市静安区威海路489号, 上海"
    assert "Purpose: 报价评审" in str(first["description"]) and "1. Review last visit" in str(first["description"])
    assert str(first["attendee"]) == "mailto:mia@example.com" and first["attendee"].params["cn"] == "Mia Manager"
    second = events[1]
    assert second.decoded("dtstart").replace(tzinfo=None) == _dt.datetime(2026, 12, 3, 2, 0)  # visits.default_time 10:00 +08
    assert second.decoded("dtend") - second.decoded("dtstart") == _dt.timedelta(minutes=30)  # a phone call
    assert "attendee" not in second
    assert not cal.walk("VTIMEZONE")  # UTC times need none
    # the same visits give the same UIDs: a re-import updates instead of duplicating
    again = tmp_path / "again.ics"
    ok(run("visit", "calendar", "--rep", "rex", "--out", str(again), "--week", "2026-W49"))
    assert [str(e["uid"]) for e in icalendar.Calendar.from_ical(again.read_bytes()).walk("VEVENT")] == [str(e["uid"]) for e in events]
    fails(run("visit", "calendar", "--rep", "nobody", "--out", str(again)), "--rep 'nobody'")


def test_user_quota_replaces_the_period(run: Run, book: Path, now) -> None:
    ok(run("user", "quota", "rex", "--period", "2026-Q4", "--amount", "500000", "--visits", "40"))
    ok(run("user", "quota", "rex", "--period", "2027-Q1", "--visits", "30"))
    ok(run("user", "quota", "rex", "--period", "2026-q4", "--amount", "600,000.50", "--visits", "42"))
    data = yaml.safe_load((book / "records" / "users" / "rex.yaml").read_text(encoding="utf-8"))
    assert data["quotas"] == [{"period": "2026-Q4", "amount": "600000.50", "visits": 42}, {"period": "2027-Q1", "visits": 30}]
    shown = ok(run("user", "show", "rex"))
    assert "2026-Q4" in shown and "600000.50" in shown
    fails(run("user", "quota", "rex", "--period", "Q4"), "--period 'Q4'")
    fails(run("user", "quota", "rex", "--period", "2026-Q4"), "--amount and/or --visits")
    fails(run("user", "quota", "rex", "--period", "2026-Q4", "--visits", "-1"), "cannot be negative")
