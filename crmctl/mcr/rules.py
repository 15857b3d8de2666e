"""Rules every account and contact must keep, whoever writes them."""
from __future__ import annotations

from typing import Any

from crmctl.core.book import Book
from crmctl.core.errors import ValidationError


def parent_chain(book: Book, start: str | None, child: str) -> list[str]:
    """Ancestors of ``child`` from ``start`` upwards; refuses a loop back to ``child``."""
    chain: list[str] = []
    accounts = book.records("accounts")
    current = start
    while current:
        if current == child or current in chain:
            raise ValidationError(f"account {child}: parent {start} would make a loop ({' -> '.join([child, *chain, current])})")
        chain.append(current)
        parent = accounts.get(current)
        current = parent.get("parent") if parent else None
    return chain


def account_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    parent_chain(book, data.get("parent"), rid)


def contact_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    if data.get("reports_to") == rid:
        raise ValidationError(f"contact {rid}: cannot report to themselves")
