"""``crmctl pricebook``: price books with validity, audience, entries and volume tiers (CPQ)."""
from __future__ import annotations

from typing import Any

from crmctl.cli.records import record_group
from crmctl.core.book import Book
from crmctl.core.errors import ValidationError


def pricebook_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    """Refuse a price book that `crmctl check` would report."""
    from crmctl.cpq.checks import pricebook_problems

    for _, message in pricebook_problems(data, book.records("products")):
        raise ValidationError(f"price book {rid}: {message}")


cli = record_group("pricebooks", "Price books: currency, validity, audience, per-product entries and tiers (CPQ).",
                   rule=pricebook_rule, defaults=lambda app: {"applies_to": {"all": True}, "priority": 0})
cli.name = "pricebook"
