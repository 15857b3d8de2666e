"""``crmctl import TYPE FILE``: batch import from CSV, JSON, NDJSON or YAML, all or nothing.

The planning is :func:`crmctl.io.importer.plan_import`; this module reads the
input, shows the bad rows or the counts, and writes the planned records and
the import record in one transaction (one git commit). ``import_command``
builds the same command for one fixed type, so ``lead import`` can be
``import leads`` under another name.
"""
from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import sys
from typing import Any, Callable

import click

from crmctl.cli.base import App, done, emit_rows, pass_app
from crmctl.core.book import now_iso
from crmctl.core.errors import CrmError
from crmctl.core.limits import read
from crmctl.core.schemas import canonical, get_schema
from crmctl.io import importer, readers
from crmctl.io.dates import check_formats
from crmctl.io.mapping import PRESETS, STDIN, Mapping, identity_mapping, load_mapping, load_preset


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Mapping file (YAML): columns to fields, constants, translations, dates, references; "
                          "- reads it from stdin (when FILE is a file)."),
        click.option("--preset", type=click.Choice(PRESETS), help="Shipped mapping for a CRM's CSV export."),
        click.option("--input-format", type=click.Choice(readers.FORMATS),
                     help="csv, json, ndjson or yaml (default: from the file name, else from its first character)."),
        click.option("--encoding", metavar="NAME",
                     help="Text encoding, e.g. cp1252 or gb18030 (default: UTF-8, a byte order mark, else detected; "
                          "a file whose encoding is not certain is refused)."),
        click.option("--date-format", metavar="FORMAT",
                     help="The file's date order, e.g. %d/%m/%Y, or excel (serial day numbers); replaces the "
                          "mapping's date_format. ISO dates are always read; without a format nothing else is."),
        click.option("--delimiter", metavar="CHAR", help="CSV delimiter: a character, or tab (default: sniffed)."),
        click.option("--decimal-mark", type=click.Choice([".", ","]), metavar="MARK",
                     help="How the file writes decimals: . (1,234.50) or , (1.234,50) "
                          "(default: the mapping's decimal_mark, else the book's locale)."),
        click.option("--on-duplicate", type=click.Choice(importer.ON_DUPLICATE), default="skip", show_default=True,
                     help="A row matching a record (ext_id, email, phone, name...): skip it, update it, or fail."),
        click.option("--skip-invalid", is_flag=True,
                     help="Import the valid rows; write the rejected ones to NAME.rejected.csv beside the input."),
        click.option("--rejected", "rejected_file", type=click.Path(dir_okay=False), metavar="FILE",
                     help="With --skip-invalid: write the rejected rows here instead."),
        click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing."),
        click.option("--format", "fmt", type=click.Choice(("table", "json", "yaml")), default="table", show_default=True,
                     help="Format of the counts printed on stdout."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def _read_input(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        with open(file, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CrmError(f"{file}: cannot read: {exc.strerror}") from None


def encodings(settings: Any) -> tuple[str, ...]:
    """crm.yaml ``imports.encodings``: the encodings detection chooses among (each checked to exist)."""
    names = settings.get("imports.encodings") or readers.DETECTED
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise CrmError("crm.yaml: imports.encodings is a list of encodings, like [cp1252, gb18030]")
    for name in names:
        try:
            codecs.lookup(name)
        except LookupError:
            raise CrmError(f"crm.yaml: imports.encodings: unknown encoding {name!r}; try cp1252, gb18030, big5") from None
    return tuple(names)


def _writable(folder: str) -> bool:
    # root may write anywhere; a folder without write bits is still meant read-only
    try:
        return os.access(folder, os.W_OK) and bool(os.stat(folder).st_mode & 0o222)
    except OSError:
        return False


def _mapping(app: App, rtype: str, mapping_file: str | None, preset: str | None, columns: list[str],
             file: str) -> Mapping:
    """The mapping: ``--mapping FILE`` (``-``: stdin, when FILE is not), ``--preset`` or the columns as fields."""
    if mapping_file and preset:
        raise CrmError("give --mapping or --preset, not both")
    if mapping_file == "-":  # FILE is not also stdin: run_import refused that before reading either
        return load_mapping(STDIN, _read_input("-"))
    if mapping_file:
        return load_mapping(mapping_file)
    if preset:
        return load_preset(preset, rtype)
    return identity_mapping(columns, get_schema(rtype), app.book.settings)


def _report_rejected(plan: importer.Plan, file: str) -> None:
    """Every rejected row: ``FILE: row N, column C: reason`` on stderr."""
    for item in plan.rejected:
        for column, reason in item.reasons:
            where = f", column {column}" if column and not column.startswith("constants.") else ""
            click.echo(f"{file}: row {item.row}{where}: {reason}", err=True)


def _summarise_rejected(plan: importer.Plan, file: str, reject_file: str, dry_run: bool) -> None:
    """With --skip-invalid: a few examples and the count per reason; the CSV has every row."""
    by_reason: dict[str, int] = {}
    for item in plan.rejected:
        for _, reason in item.reasons:
            by_reason[reason] = by_reason.get(reason, 0) + 1
    where = f"would go to {reject_file}" if dry_run else f"are in {reject_file}"
    if len(plan.rejected) <= 10:
        _report_rejected(plan, file)
        click.echo(f"rejected {len(plan.rejected)} rows; they {where}", err=True)
        return
    for item in plan.rejected[:3]:
        click.echo(f"{file}: row {item.row}: {importer.reason_text(item)}", err=True)
    summary = ", ".join(f"{reason} ({count})" for reason, count in sorted(by_reason.items(), key=lambda kv: -kv[1])[:5])
    click.echo(f"rejected {len(plan.rejected)} rows: {summary}; all of them {where}", err=True)


POLICY_TYPES = ("pricebooks", "products", "users")   # see crmctl.cpq.authority.require_writer


def run_import(app: App, rtype: str, file: str, mapping_file: str | None, preset: str | None, input_format: str | None,
               encoding: str | None, delimiter: str | None, on_duplicate: str, skip_invalid: bool, dry_run: bool,
               fmt: str, rejected_file: str | None = None, date_format: str | None = None,
               decimal_mark: str | None = None) -> None:
    """The whole import: read, plan, report, write (one transaction)."""
    rtype = canonical(rtype)
    if rtype == "imports":
        raise CrmError("import records are written by imports themselves; import another type")
    if mapping_file == "-" and file == "-":
        raise CrmError("--mapping -: stdin is already FILE (the rows); give the mapping as a file "
                       "(--mapping m.yaml, or --mapping <(...))")
    raw = _read_input(file)
    limits = app.book.settings
    shown = "stdin" if file == "-" else file
    table = readers.read(raw, shown, input_format, encoding, delimiter,
                         int(read(limits, "imports.max_columns", readers.MAX_COLUMNS)),
                         int(read(limits, "imports.max_cell_bytes", readers.MAX_CELL_BYTES)),
                         candidates=encodings(limits))
    for note in table.notes:  # how the bytes were read (a non-UTF-8 encoding, Excel's sep= line), before anything else
        click.echo(f"note: {note}", err=True)
    if not table.rows:
        raise CrmError(f"{shown}: no rows{' (only a header)' if table.format == 'csv' else ''}; nothing to import")
    mapping = _mapping(app, rtype, mapping_file, preset, table.columns, file)
    if date_format:
        mapping = dataclasses.replace(mapping, date_formats=check_formats(date_format, "--date-format"))
    if decimal_mark:
        mapping = dataclasses.replace(mapping, decimal_mark=decimal_mark, decimal_origin="--decimal-mark")
    footer = importer.strip_report_footer(table)
    if footer:
        click.echo(f"note: {shown}: skipped the {len(footer)} footer lines of a Salesforce report export "
                   f"(rows {footer[0]}-{footer[-1]}: title, copyright, generated by)", err=True)
    reject_file = (rejected_file or importer.rejected_path(file)) if skip_invalid else None
    if reject_file and not _writable(os.path.dirname(os.path.abspath(reject_file))):
        raise CrmError(f"cannot write the rejected rows to {reject_file} (the folder is read-only); pass --rejected FILE")
    with app.transaction(f"import {rtype}: {os.path.basename(shown)}") as tx:
        tx.batch = True  # the fast dumper for new files and one sync for all
        plan = _plan(app, rtype, table, mapping, shown, on_duplicate)
        if plan.rejected and not skip_invalid:
            _report_rejected(plan, shown)
            raise CrmError(f"{len(plan.rejected)} of {plan.read} rows in {shown} are invalid; nothing was imported "
                           "(fix them, or pass --skip-invalid to import the rest)")
        counts = plan.counts
        if rtype in POLICY_TYPES:   # price books, prices and roles are policy however they come in
            from crmctl.cpq.authority import require_writer

            existing = app.book.records(rtype)
            for action in plan.actions:
                before = existing.get(action.id)
                require_writer(app.book, app.actor, rtype, before.data if before is not None else None, action.data,
                               action.id)
        if dry_run or not plan.actions:
            tx.pending.clear()
        else:
            for action in plan.actions:
                tx.put(rtype, action.id, action.data, check=False)  # validated in the plan
            record = importer.import_record(
                plan, file=shown, sha256=hashlib.sha256(raw).hexdigest(), mapping=mapping, by=_who(app),
                at=now_iso(app.book.settings), rejected_file=reject_file if plan.rejected else None,
                options={"on_duplicate": on_duplicate, "skip_invalid": skip_invalid, "encoding": table.encoding,
                         "delimiter": table.delimiter or None, "format": table.format,
                         "decimal_mark": mapping.decimal_mark or None})
            import_id = app.book.new_id("imports")
            tx.put("imports", import_id, record)
            if sys.stderr.isatty() and len(plan.actions) >= 500:
                click.echo(f"writing {len(plan.actions)} files and committing ...", err=True)
            tx.message = (f"import {rtype}: {os.path.basename(shown)} ({counts['created']} created, {counts['updated']} "
                          f"updated, {counts['duplicates']} duplicates, {counts['rejected']} rejected)")
    if plan.rejected and reject_file:
        if not dry_run:
            importer.write_rejected(reject_file, table.columns, plan.rejected)
        _summarise_rejected(plan, shown, reject_file, dry_run)
    _emit_counts(counts, fmt)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    if plan.unmapped:
        click.echo(f"note: columns not imported: {', '.join(plan.unmapped)}", err=True)
    if plan.kept:
        types = sorted({t for t, _ in plan.kept})
        click.echo(f"note: {len(plan.kept)} link(s) to {', '.join(types)} not in the book yet were kept as given "
                   f"({', '.join(i for _, i in plan.kept[:3])}{' ...' if len(plan.kept) > 3 else ''}); import "
                   f"{', '.join(types)} next (`crmctl check` reports them until then)", err=True)
    for line in importer.fallback_notes(plan):
        click.echo(f"note: {shown}: {line}", err=True)
    if dry_run:
        done(f"dry run: would create {counts['created']} and update {counts['updated']} {rtype}; nothing written")
    elif not plan.actions:
        done(f"nothing to import: every row of {shown} is already in the book or rejected; nothing written")
    else:
        tail = f"; rejected rows in {reject_file}" if plan.rejected and reject_file else ""
        done(f"imported {rtype} from {shown} (import {import_id}){tail}", tx)


def _plan(app: App, rtype: str, table: readers.Table, mapping: Mapping, shown: str, on_duplicate: str) -> importer.Plan:
    now = now_iso(app.book.settings)
    if not sys.stderr.isatty() or len(table.rows) < 500:
        return importer.plan_import(app.book, rtype, table, mapping, shown, on_duplicate=on_duplicate, now=now)
    # a progress bar only on a terminal: pipes and logs stay clean
    with click.progressbar(length=len(table.rows), label=f"importing {rtype}", file=sys.stderr) as bar:
        return importer.plan_import(app.book, rtype, table, mapping, shown, on_duplicate=on_duplicate, now=now,
                                    progress=bar.update)


def _who(app: App) -> str | None:
    if app.actor is not None:
        return app.actor.id
    author = app.author()
    return author.email if author else None


def _emit_counts(counts: dict[str, int], fmt: str) -> None:
    if fmt == "table":
        emit_rows([counts], "table", list(counts))
    else:
        from crmctl.core.output import render_record

        click.echo(render_record(counts, fmt))


def import_command(rtype: str, name: str = "import") -> click.Command:
    """``import`` for one fixed record type (``lead import FILE`` is ``import leads FILE``)."""
    fixed = canonical(rtype)

    @click.command(name)
    @click.argument("file", metavar="FILE")
    @_options
    @pass_app
    def command(app: App, file: str, **options: Any) -> None:
        run_import(app, fixed, file, **options)

    command.help = (f"Import {fixed} from a CSV, JSON, NDJSON or YAML FILE ('-' for stdin); same as `crmctl import {fixed}`.\n\n"
                    "All or nothing unless --skip-invalid; a re-run changes nothing.")
    return command


@click.command("import")
@click.argument("rtype", metavar="TYPE")
@click.argument("file", metavar="FILE")
@_options
@pass_app
def cli(app: App, rtype: str, file: str, **options: Any) -> None:
    """Import records of TYPE from a CSV, JSON, NDJSON or YAML FILE ('-' for stdin).

    TYPE is any record type (accounts, contacts, leads, opportunities,
    products, users, pricebooks, orders, payments, visits; singular works).
    Without --mapping or --preset the columns name the fields. Every row is
    checked first: if any is invalid, each is listed (row, column, reason)
    and nothing is written, unless --skip-invalid. Rows matching a record
    by ext_id or the dedupe keys (crm.yaml `lead.dedupe_on`,
    `imports.dedupe_on`, or the mapping's `dedupe:`) are duplicates, so a
    re-run changes nothing. Each run that writes leaves records/imports/ID.yaml
    and makes one git commit.
    """
    run_import(app, rtype, file, **options)
