"""``crmctl opp``: opportunities (商机) and their pipeline stages — L2C.

add/list/show/edit come from the schema; stage changes go only through
advance/win/lose/reopen, which call :mod:`crmctl.l2c.pipeline` and so always
append to ``stage_history``.
"""
from __future__ import annotations

from typing import Any, Callable

import click

from crmctl.cli.base import App, done, pass_app
from crmctl.cli.history_show import history_show
from crmctl.cli.records import record_group
from crmctl.core.book import Book, now_iso
from crmctl.core.errors import PolicyError
from crmctl.core.settings import Settings
from crmctl.l2c import pipeline


def _defaults(app: App) -> dict[str, Any]:
    settings = app.book.settings
    out: dict[str, Any] = {"stage": pipeline.first_stage(settings), "currency": settings.currency}
    if app.actor_id:
        out["owner"] = app.actor_id
    return out


def _rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    old = book.records("opportunities").get(rid)
    if old is None:
        if data.get("stage") != pipeline.first_stage(book.settings):
            raise PolicyError(f"a new opportunity starts in stage {pipeline.first_stage(book.settings)}; "
                              "move it on with `crmctl opp advance`")
        return
    if data.get("stage") != old.get("stage"):
        raise PolicyError(f"change the stage with `crmctl opp advance {rid} --to {data.get('stage')}` "
                          "(win, lose, reopen), so the move is checked and kept in the history")


cli = record_group("opportunities", "Opportunities (商机): stages with gates, win/loss, history (L2C).",
                   rule=_rule, defaults=_defaults)
cli.name = "opp"

Change = Callable[[str, dict[str, Any], str, Settings], dict[str, Any]]


def _move(app: App, ref: str, verb: str, change: Change) -> None:
    with app.transaction(f"opp {verb}") as tx:
        rec = app.book.get("opportunities", ref)
        data = change(rec.id, rec.data, now_iso(app.book.settings), app.book.settings)
        last = data["stage_history"][-1]
        tx.message = f"opp {verb}: {rec.id} ({rec.get('name')}) {last['from']} -> {last['to']}"
        tx.put("opportunities", rec.id, data)
    done(f"opportunity {rec.id}: {last['from']} -> {last['to']}", tx)


@cli.command("advance")
@click.argument("ref", metavar="ID")
@click.option("--to", "to", metavar="STAGE", help="The stage to move to (default: the next one).")
@pass_app
def advance(app: App, ref: str, to: str | None) -> None:
    """Move a deal to the next stage (or --to STAGE), checking the stage's gate."""
    quotes = app.book.all("quotes")

    def change(rid: str, data: dict[str, Any], at: str, settings: Settings) -> dict[str, Any]:
        target = to or pipeline.next_stage(settings, str(data.get("stage")))
        return pipeline.move(data, target, app.actor_id, at, settings, quotes=quotes, opp_id=rid)

    _move(app, ref, "advance", change)


@cli.command("win")
@click.argument("ref", metavar="ID")
@pass_app
def win(app: App, ref: str) -> None:
    """Mark a deal won (from any open stage, passing the gates of the stages it skips)."""
    quotes = app.book.all("quotes")

    def change(rid: str, data: dict[str, Any], at: str, settings: Settings) -> dict[str, Any]:
        if pipeline.is_closed(settings, str(data.get("stage"))):
            raise PolicyError(f"opportunity {rid} is already closed ({data.get('stage')}); `crmctl opp reopen {rid}` first")
        return pipeline.win(data, app.actor_id, at, settings, quotes=quotes, opp_id=rid)

    _move(app, ref, "win", change)


@cli.command("lose")
@click.argument("ref", metavar="ID")
@click.option("--reason", required=True, metavar="REASON", help="One of pipeline.lost_reasons in crm.yaml.")
@pass_app
def lose(app: App, ref: str, reason: str) -> None:
    """Mark a deal lost, with a reason from crm.yaml."""
    _move(app, ref, "lose", lambda rid, data, at, settings: pipeline.lose(data, reason, app.actor_id, at, settings))


@cli.command("reopen")
@click.argument("ref", metavar="ID")
@pass_app
def reopen(app: App, ref: str) -> None:
    """Reopen a won or lost deal (to pipeline.reopen_to; the history is kept)."""
    def change(rid: str, data: dict[str, Any], at: str, settings: Settings) -> dict[str, Any]:
        from crmctl.l2c.orders import orders_of_opportunity

        orders = orders_of_opportunity(app.book, rid)
        if orders:
            raise PolicyError(f"opportunity {rid} has order {orders[0].get('number')}; a deal that became an order stays won")
        return pipeline.reopen(data, app.actor_id, at, settings)

    _move(app, ref, "reopen", change)


cli.add_command(history_show("opportunities", "stage_history", ("at", "by", "from", "to", "reason"), "opportunity"))
