"""``crmctl user``: the sales team — roles, managers, territories and quotas per period."""
from __future__ import annotations

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import App, done, emit_record, emit_section, output_option, pass_app, with_problems
from crmctl.cli.records import policy_guard, record_group
from crmctl.sfe.team import require_user, set_quota, user_rule
from crmctl.sfe.when import check_period

# adding a user or changing a role is team policy (crm.yaml team_maintainers): roles decide who approves discounts
cli = record_group("users", "Users: the sales team, their roles and managers.", rule=user_rule,
                   authorize=policy_guard("users"))
cli.name = "user"


@cli.command("quota")
@click.argument("ref", metavar="USER")
@click.option("--period", required=True, metavar="P", help="2026-Q4, 2026-11 or 2026.")
@click.option("--amount", metavar="A", help="Sales quota in the book's currency.")
@click.option("--visits", metavar="N", help="Visit target for the period (a whole number below 100,000).")
@pass_app
def quota_cmd(app: App, ref: str, period: str, amount: str | None, visits: str | None) -> None:
    """Set a user's quota for a period; what is not given (--amount or --visits) keeps its value."""
    key = check_period(period)
    with app.transaction("user quota") as tx:
        uid = require_user(app.book, ref, "user")
        data = set_quota(app.book.records("users")[uid].data, key, amount, visits, app.book.settings)
        tx.message = f"user quota: {uid} {key}"
        tx.put("users", uid, data)
    done(f"quota for {uid} {key} set", tx)


@cli.command("show")
@click.argument("ref", metavar="ID")
@output_option
@as_of_option
@pass_app
@with_problems
def show(app: App, ref: str, fmt: str) -> None:
    """Show one user (ID or a unique prefix), with quotas per period."""
    rec = app.book.get("users", ref)
    emit_record(rec.row(), fmt)
    if fmt == "table" and rec.get("quotas"):
        emit_section("quotas", rec.get("quotas"), ("period", "amount", "visits"))
