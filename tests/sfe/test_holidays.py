"""Visit plans follow the country's public holidays, its adjusted working days (调休) and the book's own days off."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.sfe.conftest import Run, ok
from tests.sfe.test_plan import visits


def set_yaml(book: Path, text: str) -> None:
    """Replace top-level keys of the book's crm.yaml (each line of ``text`` is ``key: value``)."""
    import re
    path = book / "crm.yaml"
    body = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        key = line.split(":", 1)[0]
        body, n = re.subn(rf"(?m)^{key}:.*$", line, body)
        assert n == 1, key
    path.write_text(body, encoding="utf-8")


def days(book: Path) -> Counter:
    return Counter(v["date"] for v in visits(book))


def test_national_day_and_the_working_saturday(run: Run, book: Path, now) -> None:
    """A zh_CN book's calendar is CN. 2026: National Day 1..7 Oct; Sat 10 Oct is worked (调休).

    rex: 5 tier-A accounts -> room ceil(5 / 5) = 1 a day; ria: baosteel alone. Today Wed 30 Sep.
    W41 (5..11 Oct): Mon 5 .. Wed 7 are holidays; the working days are Thu 8, Fri 9 and Sat 10:
    rex gets one visit on each (acme, a0, a1 -- the others wait for W42), ria's baosteel goes on Thu 8.
    The old plan put visits on 5, 6 and 7 Oct and never on the Saturday.
    """
    now("2026-09-30T09:00:00+08:00")
    for n in range(4):
        ok(run("account", "add", "--id", f"a{n}", "--name", f"A {n}", "--tier", "A", "--owner", "rex"))
    ok(run("visit", "plan", "--week", "2026-W41"))
    assert days(book) == {"2026-10-08": 2, "2026-10-09": 1, "2026-10-10": 1}
    # W40: Mon 28 .. Wed 30 Sep work, Thu 1 Oct (National Day) .. Sun 4 Oct do not; today is 30 Sep
    result = run("visit", "plan", "--week", "2026-W40", "--dry-run", "--format", "json")
    import json
    assert {r["date"] for r in json.loads(ok(result))} <= {"2026-09-30"}


def test_a_year_beyond_the_package_is_said_once(run: Run, book: Path, now) -> None:
    """chinesecalendar 1.11 knows 2004..2026: a plan over New Year 2027 says so, once, and plans on weekdays."""
    now("2026-12-28T09:00:00+08:00")
    result = run("visit", "plan", "--from", "2026-12-28", "--to", "2027-01-15")
    ok(result)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "no official holidays for 2027" in warnings[0] and "days_off" in warnings[0]


def test_another_country_and_the_books_own_days_off(run: Run, book: Path, now) -> None:
    """calendar: DE -> Fri 25 Dec 2026 (Christmas) is off; days_off adds Thu 24 Dec.

    rex: acme + 4 tier-A accounts = 5 -> room 1 a day; today Fri 18 Dec. W52: Mon 21, Tue 22, Wed 23 only.
    """
    set_yaml(book, 'calendar: DE\ndays_off: ["2026-12-24"]')
    now("2026-12-18T09:00:00+01:00")
    for n in range(4):
        ok(run("account", "add", "--id", f"a{n}", "--name", f"A {n}", "--tier", "A", "--owner", "rex"))
    ok(run("visit", "plan", "--rep", "rex", "--week", "2026-W52"))
    assert days(book) == {"2026-12-21": 1, "2026-12-22": 1, "2026-12-23": 1}


def test_calendar_none_and_bad_settings(run: Run, book: Path, now) -> None:
    """calendar: none -> working_days only: 1 Oct 2026 (Thu) is planned on; a bad days_off entry is one clear line."""
    from tests.sfe.conftest import fails
    set_yaml(book, "calendar: none")
    now("2026-09-30T09:00:00+08:00")
    ok(run("visit", "plan", "--rep", "rex", "--from", "2026-10-01", "--to", "2026-10-01"))
    assert days(book) == {"2026-10-01": 1}
    set_yaml(book, "days_off: [\"2026-13-01\"]")
    fails(run("visit", "plan", "--week", "2026-W41"), "days_off", "YYYY-MM-DD")


def test_days_off_written_under_visits_is_named_not_ignored(run: Run, book: Path, now) -> None:
    """A tester's crm.yaml had ``days_off`` under ``visits:`` (it belongs at the top level): the old crmctl planned
    on Thu 24 Dec without a word. Now every command says so in one stderr line (crm.yaml:LINE, the key path, where
    it belongs) and goes on with stdout as machine-readable as ever; `check` fails on it; moved to the top level,
    it takes 24 Dec off.

    rex: acme + 4 tier-A accounts = 5 -> room 1 a day; calendar DE: Fri 25 Dec is off; today Fri 18 Dec.
    """
    import json

    set_yaml(book, "calendar: DE")
    path = book / "crm.yaml"
    body = path.read_text(encoding="utf-8").replace("\nvisits:\n", '\nvisits:\n  days_off: ["2026-12-24"]\n', 1)
    path.write_text(body, encoding="utf-8")
    line = body.splitlines().index('  days_off: ["2026-12-24"]') + 1
    now("2026-12-18T09:00:00+01:00")
    for n in range(4):
        ok(run("account", "add", "--id", f"a{n}", "--name", f"A {n}", "--tier", "A", "--owner", "rex"))

    def planned() -> tuple[set[str], list[str]]:
        result = run("visit", "plan", "--rep", "rex", "--week", "2026-W52", "--dry-run", "--format", "json")
        return {r["date"] for r in json.loads(ok(result))}, [x for x in result.stderr.splitlines() if "warning" in x]

    dates, stderr = planned()
    assert stderr == [f"warning: crm.yaml:{line}: unknown key visits.days_off: days_off belongs at the top level "
                      "of crm.yaml; move it there (ignored)"]
    assert "2026-12-24" in dates  # ignored, as the warning says
    checked = run("check")
    assert checked.exit_code == 1
    assert f"crm.yaml:{line}: unknown key visits.days_off: days_off belongs at the top level" in checked.stdout
    assert "warning: crm.yaml" not in checked.stderr  # check reports it once, as its problem
    path.write_text(body.replace('  days_off: ["2026-12-24"]\n', "").replace("\ndays_off: []", '\ndays_off: ["2026-12-24"]'),
                    encoding="utf-8")
    dates, stderr = planned()
    assert stderr == [] and dates == {"2026-12-21", "2026-12-22", "2026-12-23"}
    ok(run("check"))
