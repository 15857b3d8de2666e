"""A day after today is refused by every command that reads the book as of a day; today itself reads the book as it is.

attack8 finding 6: with ``--as-of 2027-01-01`` (today 2026-11-27) ``report
receivables`` aged every installment to 2027-01-01 while ``quote list``,
``order list`` and ``visit list`` judged expired/overdue/missed on the real
today, all under the one header "as of 2027-01-01: the book as it is now".
There is no book of a later day yet, so one rule (``snapshot.book_on``) refuses
it for every command, with one line and nothing else written.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tests.cli.test_asof_today import NOW, dated_book  # noqa: F401 (fixture)
from tests.conftest import invoke

TOMORROW = "2026-04-01"  # NOW is 2026-03-31 12:00 +08:00: the closest day that is after today


def refusal(option: str, day: str = TOMORROW) -> str:
    return (f"error: {option}: {day} is after today (2026-03-31); {option} reads the book as it was at the end of a "
            "past day, or as it is now for today")


def commands_with_as_of() -> list[tuple[str, ...]]:
    """Every command of the tree (now or added later) with an ``--as-of`` option, its required arguments filled in."""
    from crmctl.cli import cli

    ctx = click.Context(cli)
    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            elif any(p.name == "as_of" for p in command.params):
                args = tuple("acme" for p in command.params if isinstance(p, click.Argument) and p.required)
                found.append((*path, name, *args))
    walk(cli, ())
    return found


COMMANDS = commands_with_as_of()


def test_the_walk_finds_lists_shows_and_reports() -> None:
    assert {("quote", "list"), ("order", "show", "acme"), ("account", "show", "acme"), ("visit", "list"),
            ("report", "receivables"), ("report", "sfe"), ("report", "customers")} <= set(COMMANDS)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_as_of_refuses_a_day_after_today(dated_book: Path, args: tuple[str, ...]) -> None:  # noqa: F811
    # old code: exit 0 and "as of 2026-04-01: the book as it is now", reports aged to 04-01, lists judged on 03-31
    result = invoke(*args, "--as-of", TOMORROW, book=dated_book, env=NOW)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [refusal("--as-of")]
    assert result.stdout == ""


@pytest.mark.parametrize("args, option", [(("diff", "2026-02-01", TOMORROW), "D2"),
                                          (("report", "changes", "--from", "2026-02-01", "--to", TOMORROW), "--to")])
def test_two_day_commands_refuse_a_later_day_before_reading_either(dated_book: Path, args: tuple[str, ...],  # noqa: F811
                                                                   option: str) -> None:
    # no "as of 2026-02-01: ..." line for the first day either: both days are checked before a book is read
    result = invoke(*args, book=dated_book, env=NOW)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [refusal(option)]


def test_the_attack_example_receivables_and_quote_list_no_longer_disagree(dated_book: Path) -> None:  # noqa: F811
    """The example: a far later day gave receivables aged to it and a quote list of today; now both refuse alike."""
    day = "2027-01-01"
    for args in (("report", "receivables"), ("quote", "list"), ("order", "list"), ("visit", "list")):
        result = invoke(*args, "--as-of", day, book=dated_book, env=NOW)
        assert (result.exit_code, result.stderr.strip()) == (1, refusal("--as-of", day)), args


def test_today_reads_the_book_as_it_is_and_agrees_with_no_as_of(dated_book: Path) -> None:  # noqa: F811
    for args in (("quote", "list"), ("visit", "list"), ("order", "show", "o1"), ("report", "receivables")):
        today = invoke(*args, "--as-of", "2026-03-31", "--format", "json", book=dated_book, env=NOW)
        assert today.exit_code == 0, today.output
        assert today.stderr.splitlines() == ["as of 2026-03-31: the book as it is now"]
        plain = invoke(*args, "--format", "json", book=dated_book, env=NOW)
        assert json.loads(today.stdout) == json.loads(plain.stdout), args
