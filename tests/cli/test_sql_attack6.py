"""``crmctl sql``: the attack-6 findings W7 (dsum adds only what the reports count), W8 (no currency is the book's)
and W9 (Ctrl-C stops a long statement)."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from decimal import Context, Decimal, MAX_EMAX, MAX_PREC, MIN_EMIN
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.readmodel import Notes
from tests.conftest import err_line, invoke

NOW = {"CRMCTL_NOW": "2026-11-30T18:00:00+08:00"}
DEAL = Path("records") / "opportunities" / "2ndtj4mm3vkw.yaml"  # zhou-tao's open deal: amount "1480000.00", CNY
OPEN_CNY = "FROM opportunities WHERE stage NOT IN ('won','lost') AND currency = 'CNY'"


def sql(book: Path, statement: str):
    return invoke("sql", statement, "--format", "json", book=book, env=NOW)


def rewrite(book: Path, old: str, new: str) -> None:
    path = book / DEAL
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# ---------------------------------------------------------------- W7: dsum adds what the reports count


@pytest.mark.parametrize("written", ["1e6", "1E6", " 1480000.00", "1480000.00 ", "+1480000.00", "1480000.",
                                     "1_480_000.00", "١٤٨٠٠٠٠", ".5"])
def test_dsum_leaves_out_what_the_reports_leave_out_and_says_so(demo_copy: Path, written: str) -> None:
    # before: dsum added every text Python's Decimal() takes (1e6 as 1,000,000) and said nothing
    rewrite(demo_copy, 'amount: "1480000.00"', f"amount: {json.dumps(written, ensure_ascii=False)}")
    result = sql(demo_copy, f"SELECT dsum(amount) AS exact, dsum(amount, currency) AS in_cny, sum(amount_num) AS n "
                            f"{OPEN_CNY}")
    assert result.exit_code == 0, result.output
    # the other nine open CNY deals: 1250000 + 2600000 + 420000 + 1200000 + 380000 + 460000 + 1500000 + 560000
    # + 120000 = 8490000 (the report's figure too: the deal's amount is left out with a warning)
    assert json.loads(result.stdout) == [{"exact": "8490000.00", "in_cny": "8490000.00", "n": 8490000.0}]
    assert f"warning: sql: dsum left out 2 values that are not a number: {written!r}, {written!r}" in \
        result.stderr.splitlines()


def test_dsum_answers_in_plain_decimal_text(demo_copy: Path) -> None:
    # before: '1E+22' and '1E-7'
    result = sql(demo_copy, "SELECT dsum(1e22) AS big, dsum('0.0000001') AS small, dsum(x) AS whole "
                            "FROM (SELECT 1000 AS x)")
    assert json.loads(result.stdout) == [{"big": "10000000000000000000000", "small": "0.0000001", "whole": "1000"}]


def exact_sum(values: list[Decimal]) -> Decimal:
    total, exact = Decimal(0), Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
    for v in values:
        total = exact.add(total, v)
    return total


PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?%?")  # texts that look like numbers (generated)
STORED = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")  # the reports' rule for a stored number, written out again here
TRICKY = ["1e6", " 1.00", "1.00 ", "+1.00", "1.", ".5", "1_000.00", "١٤٨", "1,000.00", "0x10", "NaN", "Infinity",
          "-0.00", "12.5%", "5\n", "", "-", "1.2.3"]


@given(st.lists(st.one_of(st.from_regex(PLAIN, fullmatch=True), st.sampled_from(TRICKY), st.text(max_size=8)),
                max_size=12))
def test_dsum_is_the_decimal_sum_of_exactly_the_plain_decimal_texts(texts: list[str]) -> None:
    noted, _ = Notes().aggregates()
    conn = sqlite3.connect(":memory:")
    conn.create_aggregate("dsum", 1, noted)
    # the reports' rule (attack7): no leading zero ('0002600000.00'), no '%', no '-0', below 10^15
    counted = [Decimal(t) for t in texts if STORED.fullmatch(t) and not re.fullmatch(r"-0(\.0+)?", t)
               and abs(Decimal(t)) < Decimal(10) ** 15]
    got = conn.execute("SELECT dsum(x) FROM (SELECT ? AS x" + " UNION ALL SELECT ?" * (len(texts) - 1) + ")",
                       texts).fetchone()[0] if texts else None
    if not counted:
        assert got is None
    else:  # the same decimal, written plain (never '1E+3')
        assert Decimal(got) == exact_sum(counted) and STORED.fullmatch(got.lstrip("-")) or got == "-0", got


# ---------------------------------------------------------------- W8: a record without currency is in the book's


def test_dsum_with_the_currency_counts_no_currency_as_the_books(demo_copy: Path) -> None:
    # before: "error: sql: dsum(x, currency) met CNY and no currency in one group", though every report counts
    # the deal in CNY (the book currency): 8490000 + 1480000 = 9970000
    rewrite(demo_copy, "currency: CNY\n", "")
    result = sql(demo_copy, "SELECT dsum(amount, currency) AS s FROM opportunities "
                            "WHERE stage NOT IN ('won','lost') AND (currency = 'CNY' OR currency IS NULL)")
    assert json.loads(result.stdout) == [{"s": "9970000.00"}]
    mixed = sql(demo_copy, "SELECT dsum(amount, currency) FROM opportunities "
                           "WHERE id IN ('2ndtj4mm3vkw', '2ndtj4y3hg40')")  # no currency, then 36000.00 USD
    assert err_line(mixed) == ("error: sql: dsum(x, currency) met CNY (no currency: the book's) and USD in one "
                               "group; GROUP BY currency, or add the <money>_book column (the book currency)")


# ---------------------------------------------------------------- W9: Ctrl-C inside one long SQLite step


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process ``pid`` has used so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("aggregate", ["count(*)", "dsum(x)"])  # SQLite's own; one calling Python for each row
def test_ctrl_c_stops_a_statement_inside_one_sqlite_step(crmctl_bin: str, book: Path, aggregate: str) -> None:
    # before: SIGINT did nothing (SQLite never gave Python a chance to run its handler) and the count never ended;
    # in dsum's step it became "error: sql: user-defined aggregate's 'step' method raised error", exit 1
    endless = f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT {aggregate} FROM c"
    started = subprocess.run([crmctl_bin, "--book", str(book), "sql", "SELECT 1"], capture_output=True, env=os.environ)
    assert started.returncode == 0
    proc = subprocess.Popen([crmctl_bin, "--book", str(book), "sql", endless], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _cpu_seconds(proc.pid) < 3.0:  # start-up takes well under a second of CPU: by now it counts
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C at a terminal sends
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, err, out) == (130, "error: interrupted (Ctrl-C)\n", "")
