"""``add``, ``list``, ``show`` and ``edit`` for any record type, built from its schema.

Every record type gets the same four commands with an option per common
field, so they behave the same everywhere; a type adds its own rules (a
contact's account must exist, a user's manager may not be themselves) as a
callable, and its own extra verbs in its module.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import click

from crmctl.cli.asof import as_of_option
from crmctl.cli.base import (App, done, dry_run_option, emit_record, emit_rows, list_options, output_option, pass_app,
                             record_fields, with_problems)
from crmctl.core.edit import Rule, apply_values, new_record
from crmctl.core.output import render_record
from crmctl.core.schema import Schema
from crmctl.core.schemas import get_schema
from crmctl.core.text import a_an

Defaults = Callable[[App], Mapping[str, Any]]
# who may make this change: (app, the record's data before (None when new), after); raises PolicyError
Guard = Callable[[App, Mapping[str, Any] | None, Mapping[str, Any], str], None]   # (app, before, after, record id)


def policy_guard(rtype: str) -> Guard:
    """The :data:`Guard` for a record type that is policy (price books, products' prices, users' roles):
    :func:`crmctl.cpq.authority.require_writer` with the acting user."""
    def guard(app: App, before: Mapping[str, Any] | None, after: Mapping[str, Any], rid: str) -> None:
        from crmctl.cpq.authority import require_writer

        require_writer(app.book, app.actor, rtype, before, after, rid)
    return guard


def _field_options(schema: Schema, func: Callable[..., Any]) -> Callable[..., Any]:
    for f in reversed([f for f in schema.fields if f.option]):
        func = click.option(f"--{f.name.replace('_', '-')}", f.name, metavar=f.kind.upper(), help=f.help or f.name)(func)
    return func


def _set_options(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Set any field; repeatable.")(func)


def _values(schema: Schema, kwargs: dict[str, Any]) -> dict[str, str | None]:
    return {f.name: kwargs.get(f.name) for f in schema.fields if f.option}


def record_group(rtype: str, help_text: str, rule: Rule | None = None, defaults: Defaults | None = None,
                 duplicates: bool = False, authorize: Guard | None = None) -> click.Group:
    """A click group with add/list/show/edit for ``rtype``.

    ``duplicates``: ``add`` looks for probable duplicates (``mcr.dupes``) and warns,
    or refuses when crm.yaml says ``duplicates.on_create: refuse``, unless ``--allow-duplicate``.
    ``authorize``: decides who may add or change one (raises PolicyError).
    """
    schema = get_schema(rtype)
    title = schema.title
    group = click.Group(name=rtype, help=help_text)

    def add(app: App, record_id: str | None, sets: tuple[str, ...], dry_run: bool, fmt: str,
            allow_duplicate: bool = False, **kwargs: Any) -> None:
        book = app.book
        message = f"{title} add"
        with app.transaction(message) as tx:
            base = dict(defaults(app)) if defaults else {}
            rid, data = new_record(book, schema, _values(schema, kwargs), sets, record_id, base)
            if rule:
                rule(book, rid, data)
            if authorize:
                authorize(app, None, data, rid)
            if duplicates:
                from crmctl.mcr.dupes import guard

                for line in guard(book, rtype, data, allow_duplicate):
                    click.echo(f"warning: {line}", err=True)
            tx.message = f"{title} add: {rid} ({data.get(schema.name_field, rid)})"
            if dry_run:
                tx.pending.clear()
                click.echo(render_record({"id": rid, **data}, fmt))
                done(f"would add {title} {rid}")
                return
            tx.put(rtype, rid, data)
        emit_record({"id": rid, **data}, fmt) if fmt != "table" else click.echo(rid)
        done(f"added {title} {rid}", tx)

    add.__doc__ = f"Add {a_an(title)}. Prints the new id."
    cmd = _field_options(schema, add)
    cmd = click.option("--id", "record_id", metavar="ID",
                       help="Choose the id (master data only; default: from the name).")(cmd)
    cmd = _set_options(dry_run_option(output_option(cmd)))
    if duplicates:
        cmd = click.option("--allow-duplicate", is_flag=True,
                           help="Add it even if it looks like an existing record (see duplicates.on_create in crm.yaml).")(cmd)
    group.command("add")(pass_app(cmd))

    @group.command("list")
    @list_options
    @output_option
    @as_of_option
    @pass_app
    @with_problems
    def list_cmd(app: App, where: tuple[str, ...], sort: tuple[str, ...], limit: int | None, fmt: str) -> None:
        rows = [rec.row() for rec in app.book.live(rtype).values()]
        emit_rows(rows, fmt, schema.columns, where, (*sort, "id"), limit,  # ties break by id: stable output
                  record_fields(app, rtype))

    list_cmd.help = f"List {rtype} (filter with --where, order with --sort)."

    @group.command("show")
    @click.argument("ref", metavar="ID")
    @output_option
    @as_of_option
    @pass_app
    @with_problems
    def show(app: App, ref: str, fmt: str) -> None:
        rec = app.book.get(rtype, ref)
        emit_record(rec.row(), fmt)

    show.help = f"Show one {title} (ID or a unique prefix)."

    def edit(app: App, ref: str, sets: tuple[str, ...], unset: tuple[str, ...], dry_run: bool,
             adds: tuple[str, ...], removes: tuple[str, ...], **kwargs: Any) -> None:
        with app.transaction(f"{title} edit") as tx:
            rec = app.book.get(rtype, ref)
            data = apply_values(app.book, schema, rec.data, _values(schema, kwargs), sets, unset, adds, removes)
            if rule:
                rule(app.book, rec.id, data)
            if authorize:
                authorize(app, rec.data, data, rec.id)
            changed = sorted(k for k in set(data) | set(rec.data) if data.get(k) != rec.data.get(k))
            tx.message = f"{title} edit: {rec.id} ({', '.join(changed) or 'no change'})"
            if dry_run or not changed:
                tx.pending.clear()
                done(f"{'would change' if dry_run else 'no change to'} {title} {rec.id}: {', '.join(changed) or 'nothing'}")
                return
            tx.put(rtype, rec.id, data)
        done(f"updated {title} {rec.id}: {', '.join(changed)}", tx)

    edit.__doc__ = f"Change fields of {a_an(title)}."
    cmd = _field_options(schema, edit)
    cmd = click.option("--unset", multiple=True, metavar="FIELD", help="Remove a field; repeatable.")(cmd)
    cmd = click.option("--remove", "removes", multiple=True, metavar="FIELD=ITEM",
                       help="Remove one item from a list field (a signing key, a tag); repeatable.")(cmd)
    cmd = click.option("--add", "adds", multiple=True, metavar="FIELD=ITEM",
                       help="Add one item to a list field (a second signing key); repeatable.")(cmd)
    cmd = _set_options(dry_run_option(cmd))
    cmd = click.argument("ref", metavar="ID")(cmd)
    group.command("edit")(pass_app(cmd))
    return group
