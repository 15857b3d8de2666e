"""Shared steps for L2C tests: a deal walked to won, an order with a plan."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from click.testing import Result

Run = Callable[..., Result]


def at(day: str) -> dict[str, str]:
    """The environment for a command run on ``day`` (a fixed clock)."""
    return {"CRMCTL_NOW": f"{day}T10:00:00+08:00"}


def ok(run: Run, *args: str, day: str = "2026-10-01") -> str:
    result = run(*args, env=at(day))
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def fails(run: Run, *args: str, day: str = "2026-10-01") -> str:
    """Run a command that must fail with one `error:` line; return that line."""
    result = run(*args, env=at(day))
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.output
    return lines[-1]


def contact(run: Run, account: str = "acme") -> str:
    return ok(run, "contact", "add", "--name", "Carl Contact", "--account", account)


def won_deal(run: Run, amount: str = "10000", account: str = "acme", currency: str | None = None) -> str:
    """A deal added on 2026-07-01 and walked through every stage to won on 2026-08-01."""
    cid = contact(run, account)
    extra = ["--set", f"currency={currency}"] if currency else []
    opp = ok(run, "--as", "rex", "opp", "add", "--name", "Deal", "--account", account, "--amount", amount,
             "--close-date", "2026-08-15", "--set", f"contacts={cid}", *extra, day="2026-07-01")
    for day in ("2026-07-05", "2026-07-10", "2026-07-20"):
        ok(run, "--as", "rex", "opp", "advance", opp, day=day)
    ok(run, "--as", "rex", "opp", "win", opp, day="2026-08-01")
    return opp


def order_for(run: Run, amount: str = "10000") -> str:
    opp = won_deal(run, amount)
    return ok(run, "--as", "dan", "order", "add", "--opp", opp, "--date", "2026-08-01", day="2026-08-01")


def commits(book: Path) -> int:
    from tests.conftest import git

    return len(git(book, "log", "--oneline").splitlines())


def setting(book: Path, old: str, new: str) -> None:
    """Change one line of the book's crm.yaml (as written by `crmctl init`)."""
    path = book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
