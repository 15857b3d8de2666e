"""attack8 #4: a quote line's ``qty: 004`` (a hand edit; the loader keeps it as its text, never 4) is refused by
``check`` and by every quote command with the same one line, at the value's own line, saying what to write.

Book: tests/cpq/conftest.py (holder 1000.00).
"""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, strategies as st

from crmctl.core.numbers import stored_count_problem
from tests.cpq.conftest import Run, holder_quote_with_qty


def test_a_zero_padded_qty_stops_every_quote_command_with_the_line_check_prints(cpq: Run, cpq_book: Path) -> None:
    # the old code: check refused it (at the `lines:` key, "write it like 1234.50"), while show priced it as 4 with a
    # warning naming no file, verify said "ok" and list said nothing
    qid, path, clean, line = holder_quote_with_qty(cpq, cpq_book, "004")   # line: the qty's own, not `lines:`'s
    assert clean.splitlines()[line - 1] == "  qty: 1" and line != clean.splitlines().index("lines:") + 1
    said = f"records/quotes/{qid}.yaml:{line}: line 1 (holder) qty: '004' is not a count as crmctl writes it (write 4)"
    r = cpq("check")
    assert r.exit_code == 1 and said in r.output.splitlines(), r.output
    assert "1234.50" not in r.output
    for args in (["quote", "show", qid], ["quote", "verify", qid], ["quote", "verify", "--all"], ["quote", "list"],
                 ["quote", "render", qid, "--html"], ["--as", "rex", "quote", "submit", qid],
                 ["quote", "edit", qid, "--notes", "x"], ["quote", "show", qid, "--format", "json"]):
        r = cpq(*args)
        assert r.exit_code == 1, (args, r.output)
        assert r.stderr.strip().splitlines() == [f"error: {said}; fix the file"], (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)
    # `qty: "+4"` (a sign crmctl never writes) is named the same way
    path.write_text(clean.replace("  qty: 1\n", '  qty: "+4"\n', 1), encoding="utf-8")
    r = cpq("quote", "show", qid)
    assert r.exit_code == 1 and "qty: '+4' is not a count as crmctl writes it (write 4); fix the file" in r.stderr


@given(st.integers(min_value=0, max_value=10**8), st.integers(min_value=1, max_value=4), st.booleans())
def test_a_count_is_read_only_as_crmctl_writes_it(n: int, zeros: int, plus: bool) -> None:
    assert stored_count_problem(str(n), field="qty") is None and stored_count_problem(n, field="qty") is None
    padded = ("+" if plus else "") + "0" * zeros + str(n)
    assert stored_count_problem(padded, field="qty") == f"qty: {padded!r} is not a count as crmctl writes it (write {n})"
