"""A fresh user's second attack on `crmctl sql` (W10, W11): no value near a gigabyte, no pointer out of the process."""
from __future__ import annotations

import resource
import subprocess
from pathlib import Path

from tests.conftest import err_line, invoke


def sql(book: Path, statement: str):  # noqa: ANN201 - a click Result
    return invoke("sql", statement, book=book)


def test_a_giant_value_is_refused_at_once_with_one_line(demo_copy: Path) -> None:
    result = sql(demo_copy, "SELECT zeroblob(1000000000)")
    assert result.exit_code == 1
    assert err_line(result).startswith("error: sql: a value the statement makes is over 64 MB (string or blob too big)")
    assert sql(demo_copy, "SELECT length(zeroblob(1000)) AS n").stdout.splitlines()[-1].strip() == "1000"


def test_the_giant_value_never_grows_the_process(demo_copy: Path, crmctl_bin: str) -> None:
    """The old code built the gigabyte (4 GB resident, 10 minutes) before printing anything."""
    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))

    done = subprocess.run([crmctl_bin, "--book", str(demo_copy), "sql", "SELECT zeroblob(1000000000)"],
                          capture_output=True, text=True, timeout=120, preexec_fn=limited)
    assert done.returncode == 1 and "string or blob too big" in done.stderr and "MemoryError" not in done.stderr


def test_functions_that_reach_outside_sql_are_refused(demo_copy: Path) -> None:
    for statement, name in (("SELECT fts3_tokenizer('simple')", "fts3_tokenizer"),
                            ("SELECT hex(fts3_tokenizer('simple'))", "fts3_tokenizer")):
        result = sql(demo_copy, statement)
        assert result.exit_code == 1 and f"refused (function {name})" in err_line(result), statement
