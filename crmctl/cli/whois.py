"""``crmctl whois TEXT``: who already owns a matching lead, contact or account."""
from __future__ import annotations

import click

from crmctl.cli.base import App, done, emit_rows, output_option, pass_app, with_problems
from crmctl.l2c.whois import whois


@click.command("whois")
@click.argument("text")
@output_option
@pass_app
@with_problems
def cli(app: App, text: str, fmt: str) -> None:
    """Who already owns a lead, contact or account matching TEXT (name, email, phone or company).

    Case, full-width/half-width characters, legal forms (Ltd./Limited, AG/Aktiengesellschaft),
    umlauts, Chinese place prefixes and phone formatting (+86 138-0013-8000 = 13800138000) do
    not matter (likely: probable); similar names (a typo) are listed as likely: possible with
    their similarity score. Exits 0 either way.
    """
    rows = whois(app.book, text)
    emit_rows(rows, fmt, ("type", "id", "name", "company", "owner", "status", "matched_on", "likely", "score"))
    if not rows and fmt == "table":
        done(f"no lead, contact or account matches {text!r}")
