"""``crmctl account``: accounts, the 360° view, lifecycle and merges (MCR)."""
from __future__ import annotations

from typing import Any

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import App, done, dry_run_option, emit_record, emit_rows, output_option, pass_app, with_problems
from crmctl.cli.records import record_group
from crmctl.core.book import now_iso
from crmctl.core.output import render_rows
from crmctl.mcr.rules import account_rule

cli = record_group("accounts", "Accounts: customer companies, their hierarchy, tier and lifecycle (MCR).", rule=account_rule, duplicates=True)
cli.name = "account"
cli.commands.pop("show")  # the generic show gives way to the 360° view


@cli.command("show")
@click.argument("ref", metavar="ID")
@click.option("--timeline", "timeline_limit", default=20, show_default=True, type=click.IntRange(0), metavar="N",
              help="Timeline entries to show.")
@output_option
@as_of_option
@pass_app
@with_problems
def show(app: App, ref: str, timeline_limit: int, fmt: str) -> None:
    """The 360° view of an account: profile, hierarchy, contacts, pipeline, revenue, receivables, visits, timeline."""
    from crmctl.mcr import view360

    data = view360.build(app.book, ref, timeline_limit=timeline_limit)
    if fmt != "table":
        emit_record(data, fmt)
        return
    click.echo(f"{data['name']} ({data['id']})")
    for name, title in view360.titles().items():
        click.echo(f"\n== {title}")
        click.echo(render_section(data[name]))


def render_section(data: dict[str, Any]) -> str:
    """Scalars as aligned ``key: value`` lines, lists of mappings as tables, empty lists as (none)."""
    from crmctl.core.output import item_text

    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, list)}
    width = max((len(k) for k in scalars), default=0)
    for key, value in scalars.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        lines.append(f"{key.replace('_', ' ') + ':':<{width + 2}}{'-' if value in (None, '') else value}")
    for key, value in data.items():
        if not isinstance(value, list):
            continue
        if value and not isinstance(value[0], dict):
            lines.append(f"{key.replace('_', ' ')}: {', '.join(item_text(v) for v in value)}")
            continue
        if key != "rows" or lines:
            lines.append(f"{key.replace('_', ' ')}:" if key != "rows" else "")
        lines.append(render_rows(value, "table") if value else "(none)")
    return "\n".join(lines).strip("\n") or "(none)"


@cli.command("lifecycle")
@click.argument("ref", metavar="[ID]", required=False)
@click.option("--apply", "apply_", is_flag=True, help="Write the computed stages (history appended).")
@dry_run_option
@output_option
@pass_app
@with_problems
def lifecycle(app: App, ref: str | None, apply_: bool, dry_run: bool, fmt: str) -> None:
    """Lifecycle stage computed from orders and activity vs the stored one (all accounts, or ID)."""
    from crmctl.mcr import figures, lifecycle as lc
    from crmctl.mcr.related import IndexedRelated

    def verdicts() -> list[tuple[Any, lc.Verdict]]:
        book = app.book
        # one account: read only its group's records; all accounts: one pass per type
        ctx = figures.Context.build(book, IndexedRelated(book) if ref else None)
        targets = [book.get("accounts", ref)] if ref else list(book.live("accounts").values())
        return [(a, lc.compute(figures.compute(ctx, a), book.settings)) for a in sorted(targets, key=lambda a: a.id)]

    if not apply_ or dry_run:
        rows = [{"id": a.id, "stored": a.get("lifecycle"), "computed": v.stage, "change": v.stage != a.get("lifecycle"),
                 "reason": v.reason} for a, v in verdicts()]
        emit_rows(rows, fmt, ("id", "stored", "computed", "change", "reason"))
        if dry_run:
            done(f"would change {sum(1 for r in rows if r['change'])} account(s); nothing written")
        return
    with app.transaction("account lifecycle") as tx:
        changed = []
        at = now_iso(app.book.settings)
        for account, verdict in verdicts():
            if verdict.stage != account.get("lifecycle"):
                tx.put("accounts", account.id, lc.applied(account.data, verdict, app.actor_id, at))
                changed.append(f"{account.id} {account.get('lifecycle') or '-'}->{verdict.stage}")
        tx.message = f"account lifecycle: {', '.join(changed) or 'no change'}"
    for line in changed:
        click.echo(line)
    done(f"updated the lifecycle of {len(changed)} account(s)", tx)


@cli.command("merge")
@click.argument("survivor", metavar="A")
@click.argument("merged", metavar="B")
@dry_run_option
@output_option
@pass_app
def merge(app: App, survivor: str, merged: str, dry_run: bool, fmt: str) -> None:
    """Merge account B into A: every reference moves to A, B becomes a redirect (one commit)."""
    run_merge(app, "accounts", survivor, merged, dry_run, fmt)


def run_merge(app: App, rtype: str, survivor: str, merged: str, dry_run: bool, fmt: str) -> None:
    """Shared by ``account merge`` and ``contact merge``."""
    from crmctl.mcr import merge as mcr_merge

    noun = rtype[:-1]
    with app.transaction(f"{noun} merge") as tx:
        plan = mcr_merge.plan(app.book, rtype, survivor, merged, app.actor_id, now_iso(app.book.settings))
        tx.message = f"{noun} merge: {plan.merged} into {plan.survivor} ({len(plan.writes)} records changed)"
        if dry_run:
            tx.pending.clear()
        else:
            for (rtype_, rid), data in plan.writes.items():
                tx.put(rtype_, rid, data)
    if dry_run or fmt != "table":
        emit_rows([m.row() for m in plan.moves], fmt, ("record", "field", "from", "to"))
    if dry_run:
        done(f"would merge {noun} {plan.merged} into {plan.survivor}: {len(plan.moves)} change(s); nothing written")
    else:
        done(f"merged {noun} {plan.merged} into {plan.survivor}: {len(plan.moves)} change(s)", tx)
