"""Helpers for SFE tests: a fixed clock and a visit that has been done by the book."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from click.testing import Result

Run = Callable[..., Result]
ACME = ("31.2304", "121.4737")


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def fails(result: Result, *needles: str) -> str:
    """The command failed with exit 1 and one error line containing every needle."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def snapshot(book: Path) -> dict[str, str]:
    """Every record file's text, to prove a refused command wrote nothing."""
    return {str(p.relative_to(book)): p.read_text(encoding="utf-8") for p in sorted((book / "records").rglob("*.yaml"))}


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def set_now(value: str) -> None:
        monkeypatch.setenv("CRMCTL_NOW", value)
    set_now("2026-11-27T18:00:00+08:00")
    return set_now


def clock(day: str, when: str) -> dict[str, str]:
    """The environment of a command run at ``when`` (HH:MM on ``day``, or YYYY-MM-DDTHH:MM) in +08:00."""
    stamp = when if "T" in when else f"{day}T{when}"
    return {"CRMCTL_NOW": f"{stamp}:00+08:00"}


def do_visit(run: Run, account: str, day: str, *, start: str = "09:00", end: str = "10:30", extra_steps: tuple[str, ...] = (),
             with_: str | None = None, checkin_at: str | None = None) -> str:
    """Plan, check in/out (each at its real time: the clock is set to it), tick the required onsite steps, log and
    complete a visit; its id."""
    args = ["visit", "add", "--account", account, "--date", day] + (["--with", with_] if with_ else [])
    vid = ok(run(*args))
    ok(run("visit", "checkin", vid, "--at", ",".join(ACME), env=clock(day, checkin_at or start)))
    for step in ("prepare", "discover", *extra_steps):
        ok(run("visit", "step", vid, step, "--done"))
    ok(run("visit", "checkout", vid, env=clock(day, end)))
    ok(run("visit", "log", vid, "--outcome", "went well", "--next-step", "send the quote", "--due", day))
    ok(run("visit", "done", vid))
    return vid
