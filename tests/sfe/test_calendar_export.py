"""`visit calendar` as phones read it: every file is parsed by two independent parsers (icalendar and ics-py, and
node-ical when node has it) and the UTC instants compared with hand-computed ones."""
from __future__ import annotations

import datetime as _dt
import json
import shutil
import subprocess
from pathlib import Path

import icalendar
import ics

from tests.sfe.test_holidays import set_yaml
from tests.sfe.conftest import Run, ok

UTC = _dt.timezone.utc


def instants(path: Path) -> dict[str, dict]:
    """uid -> {start, end (UTC), status, sequence} from icalendar, checked equal to what ics-py (and node-ical) read."""
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    one = {str(e["uid"]): {"start": e.decoded("dtstart").astimezone(UTC), "end": e.decoded("dtend").astimezone(UTC),
                           "status": str(e["status"]), "sequence": int(e["sequence"])} for e in cal.walk("VEVENT")}
    other = {e.uid: {"start": e.begin.to("utc").datetime, "end": e.end.to("utc").datetime, "status": e.status}
             for e in ics.Calendar(path.read_text(encoding="utf-8")).events}
    assert {u: {k: v[k] for k in ("start", "end", "status")} for u, v in one.items()} == other
    node = _node_ical(path)
    if node is not None:
        assert {u: (v["start"], v["end"]) for u, v in one.items()} == node
    return one


def _node_ical(path: Path) -> dict | None:
    """uid -> (start, end) as node-ical reads them; None when node or node-ical is not installed (CI without npm)."""
    if not shutil.which("node"):
        return None
    script = ("const ical=require('node-ical');const d=ical.sync.parseFile(process.argv[1]);const o={};"
              "for(const k in d){const e=d[k];if(e.type==='VEVENT')o[e.uid]=[e.start.toISOString(),e.end.toISOString()]}"
              "console.log(JSON.stringify(o))")
    done = subprocess.run(["node", "-e", script, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        return None  # node-ical is not installed
    parse = lambda s: _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return {u: (parse(a), parse(b)) for u, (a, b) in json.loads(done.stdout).items()}


def test_berlin_summer_time_is_cest(run: Run, book: Path, now, tmp_path: Path) -> None:
    """timezone: Europe/Berlin. 10:00 on 15 Jul 2026 is CEST (UTC+2): 08:00Z, to 09:30Z (90 min onsite).
    10:00 on 15 Dec is CET (UTC+1): 09:00Z. The old export wrote TZID=Etc/GMT-1 for a +01:00 book: 11:00 in July."""
    set_yaml(book, 'timezone: "Europe/Berlin"')
    summer = ok(run("visit", "add", "--account", "acme", "--date", "2026-07-15", "--time", "10:00"))
    winter = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-15", "--time", "10:00"))
    out = tmp_path / "rex.ics"
    result = run("visit", "calendar", "--rep", "rex", "--out", str(out))
    ok(result)
    assert "warning" not in result.stderr
    text = out.read_text(encoding="utf-8")
    assert "DTSTART;TZID=Europe/Berlin:20260715T100000" in text and "BEGIN:VTIMEZONE" in text and "TZID:Europe/Berlin" in text
    got = instants(out)
    assert (got[f"{summer}@crmctl.local"]["start"], got[f"{summer}@crmctl.local"]["end"]) == \
        (_dt.datetime(2026, 7, 15, 8, 0, tzinfo=UTC), _dt.datetime(2026, 7, 15, 9, 30, tzinfo=UTC))
    assert got[f"{winter}@crmctl.local"]["start"] == _dt.datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def test_a_fixed_offset_is_written_in_utc_with_one_warning(run: Run, book: Path, now, tmp_path: Path) -> None:
    """timezone: +05:30 (India, no zone). 09:30 on 2 Dec is 04:00Z; no TZID, no VTIMEZONE (the old file said
    TZID=UTC+05:30 with no VTIMEZONE, which three of five parsers read as 09:30Z)."""
    set_yaml(book, 'timezone: "+05:30"')
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02", "--time", "09:30"))
    out = tmp_path / "rex.ics"
    result = run("visit", "calendar", "--rep", "rex", "--out", str(out))
    ok(result)
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        "warning: timezone +05:30 is an offset, not a zone: the calendar's times are written in UTC; "
        "set timezone (or visits.calendar_tzid) to an IANA name such as Asia/Kolkata"]
    text = out.read_text(encoding="utf-8")
    assert "TZID" not in text and "DTSTART:20261202T040000Z" in text
    assert instants(out)[f"{vid}@crmctl.local"]["start"] == _dt.datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def test_cancelled_and_rescheduled_bump_sequence(run: Run, book: Path, now, tmp_path: Path) -> None:
    """Book in Asia/Shanghai. Exported at 27 Nov 18:00 +08:00 = 10:00Z (DTSTAMP).
    kept: planned, untouched -> SEQUENCE 0; moved: 1 Dec -> 3 Dec (edit, 28 Nov 09:00 +08) -> SEQUENCE 1,
    LAST-MODIFIED 28 Nov 01:00Z, 10:00 +08 on 3 Dec = 02:00Z; dropped: cancelled -> STATUS:CANCELLED, SEQUENCE 1."""
    set_yaml(book, 'timezone: "Asia/Shanghai"')
    kept = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01"))
    moved = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01"))
    dropped = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))
    out = tmp_path / "before.ics"
    ok(run("visit", "calendar", "--rep", "rex", "--out", str(out)))
    now("2026-11-28T09:00:00+08:00")
    ok(run("visit", "edit", moved, "--set", "date=2026-12-03"))
    ok(run("visit", "cancel", dropped, "--reason", "customer closed for audit"))
    now("2026-11-28T18:00:00+08:00")
    ok(run("visit", "calendar", "--rep", "rex", "--out", str(out)))
    got = instants(out)
    assert {u.split("@")[0]: (v["status"], v["sequence"]) for u, v in got.items()} == {
        kept: ("CONFIRMED", 0), moved: ("CONFIRMED", 1), dropped: ("CANCELLED", 1)}
    assert got[f"{moved}@crmctl.local"]["start"] == _dt.datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    event = {str(e["uid"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    assert event[moved].decoded("last-modified") == _dt.datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert {e.decoded("dtstamp") for e in event.values()} == {_dt.datetime(2026, 11, 28, 10, 0, tzinfo=UTC)}


def test_a_managers_calendar_has_the_visits_they_accompany(run: Run, book: Path, now, tmp_path: Path) -> None:
    """mia accompanies rex on 1 Dec (陪访); her calendar has that visit (the old export: empty)."""
    set_yaml(book, 'timezone: "Asia/Shanghai"')
    vid = ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01", "--time", "14:00", "--with", "mia"))
    ok(run("visit", "add", "--account", "acme", "--date", "2026-12-02"))  # rex alone: not in mia's calendar
    out = tmp_path / "mia.ics"
    ok(run("visit", "calendar", "--rep", "mia", "--out", str(out)))
    got = instants(out)
    assert list(got) == [f"{vid}@crmctl.local"]
    assert got[f"{vid}@crmctl.local"]["start"] == _dt.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 14:00 +08
    event = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")[0]
    assert str(event["organizer"]) == "mailto:rex@example.com" and str(event["attendee"]) == "mailto:mia@example.com"


def test_an_empty_calendar_writes_nothing(run: Run, book: Path, now, tmp_path: Path) -> None:
    out = tmp_path / "empty.ics"
    result = run("visit", "calendar", "--rep", "ria", "--out", str(out), "--week", "2026-W49")
    ok(result)
    assert "no visits for ria 2026-11-30..2026-12-06; nothing written" in result.stderr
    assert not out.exists()


def test_out_into_a_missing_folder_makes_it(run: Run, book: Path, now, tmp_path: Path) -> None:
    set_yaml(book, 'timezone: "Asia/Shanghai"')
    ok(run("visit", "add", "--account", "acme", "--date", "2026-12-01"))
    out = tmp_path / "dir" / "that" / "does" / "not" / "exist" / "x.ics"
    ok(run("visit", "calendar", "--rep", "rex", "--out", str(out)))
    assert len(instants(out)) == 1
