"""Choosing the price book for an account on a day, and finding a product's entry in it.

A book applies to everyone (``applies_to: {all: true}`` or no ``applies_to``),
to account tiers (``{tiers: [A]}``) or to named accounts (``{accounts: [acme]}``).
The most specific valid book wins — named account over tier over everyone —
then the higher ``priority``. Books still tied are all candidates: the one
giving the customer the better price for the quote's lines wins (see
:func:`crmctl.cpq.catalog.choose_pricebook`; `check` warns about such ties),
then the id, so the choice is always the same.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, Mapping

from crmctl.core.book import Record
from crmctl.core.errors import PolicyError

SPECIFICITY = {"accounts": 3, "tiers": 2, "all": 1}


def specificity(book: Mapping[str, Any], account: Record | None) -> int:
    """How specifically a price book applies to ``account``; 0 when it does not apply."""
    applies = book.get("applies_to") or {"all": True}
    if account is not None:
        if account.id in [str(a) for a in applies.get("accounts") or []]:
            return SPECIFICITY["accounts"]
        if account.get("tier") and str(account.get("tier")) in [str(t) for t in applies.get("tiers") or []]:
            return SPECIFICITY["tiers"]
    return SPECIFICITY["all"] if applies.get("all") else 0


def valid_on(book: Mapping[str, Any], day: _dt.date) -> bool:
    if book.get("active") is False:
        return False
    start, end = book.get("valid_from"), book.get("valid_to")
    return (not start or _dt.date.fromisoformat(str(start)) <= day) and (not end or day <= _dt.date.fromisoformat(str(end)))


def candidates(books: Iterable[Record], account: Record | None, day: _dt.date, currency: str | None = None) -> list[Record]:
    """The valid price books for ``account`` on ``day`` (in ``currency`` if given) tied for most specific and
    highest priority, by id; empty when none applies."""
    ranked = []
    for rec in books:
        level = specificity(rec.data, account)
        if level and valid_on(rec.data, day) and (currency is None or str(rec.get("currency")) == currency):
            ranked.append(((level, int(rec.get("priority") or 0)), rec))
    if not ranked:
        return []
    best = max(rank for rank, _ in ranked)
    return sorted((rec for rank, rec in ranked if rank == best), key=lambda rec: rec.id)


def choose(books: Iterable[Record], account: Record | None, day: _dt.date, currency: str | None = None) -> Record | None:
    """The first of :func:`candidates` (the caller that knows the lines breaks a tie by price)."""
    found = candidates(books, account, day, currency)
    return found[0] if found else None


def explicit(books: Mapping[str, Record], ref: str, day: _dt.date, resolve: Any) -> Record:
    """``--pricebook P``: the named book, which must be active and valid on ``day``."""
    rec = books[resolve("pricebooks", ref)]
    if not valid_on(rec.data, day):
        span = f"{rec.get('valid_from') or '...'} to {rec.get('valid_to') or '...'}"
        raise PolicyError(f"price book {rec.id} is not valid on {day} ({span}, active: {rec.get('active', True)}); choose another --pricebook or --date")
    return rec


def entry(book: Record | None, sku: str) -> dict[str, Any] | None:
    """The price book's entry for ``sku``, if any."""
    if book is None:
        return None
    return next((dict(e) for e in book.get("entries") or [] if isinstance(e, dict) and str(e.get("sku")) == sku), None)

