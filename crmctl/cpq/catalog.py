"""Pricing against a book: find the product, the price book and the bundle parts, then price.

The pure engine (:mod:`crmctl.cpq.configure`, :mod:`crmctl.cpq.pricing`) knows
nothing of files; this module looks records up and hands plain data to it,
for ``crmctl price`` and for quote lines alike.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Sequence

from crmctl.core.book import Book, Record
from crmctl.core.errors import CrmError, NotFound, ValidationError
from crmctl.cpq import pricebooks
from crmctl.cpq.configure import Configuration, configure
from crmctl.cpq.pricing import LinePrice, price_line, tax_rules


@dataclass
class Priced:
    """A priced configuration and where its prices came from."""

    product: Record
    config: Configuration
    line: LinePrice
    pricebook: str | None

    @property
    def problems(self) -> list[str]:
        return self.line.problems


def product(book: Book, sku: str) -> Record:
    """A product by exact SKU (a prefix would be too easy to misquote)."""
    rec = book.records("products").get(sku.strip().lower())
    if rec is None:
        raise NotFound(f"no product {sku!r}; `crmctl product list` shows the catalog")
    return rec


Want = tuple[str, Mapping[str, list[str]], int]   # (sku, choices, qty) of a line to price


def choose_pricebook(book: Book, account: Record | None, day: _dt.date, currency: str | None,
                     explicit: str | None = None, lines: Sequence[Want] = ()) -> Record | None:
    """``--pricebook`` if given (it must be valid on ``day``), else the most specific valid book; among books tied
    on specificity and priority, the one that prices ``lines`` lowest for the customer."""
    if explicit:
        return pricebooks.explicit(book.records("pricebooks"), explicit, day, book.resolve)
    # without a currency, the book's own currency first; any currency only when it has no book
    found = (pricebooks.candidates(book.all("pricebooks"), account, day, currency or book.settings.currency)
             or ([] if currency else pricebooks.candidates(book.all("pricebooks"), account, day)))
    if len(found) < 2 or not lines:
        return found[0] if found else None
    return min(found, key=lambda rec: (_cost_to_customer(book, rec, lines), rec.id))


def _cost_to_customer(book: Book, rec: Record, lines: Sequence[Want]) -> Decimal:
    """What ``lines`` cost the customer in ``rec`` (a book that cannot price one of them counts as dearest)."""
    total = Decimal(0)
    for sku, choices, qty in lines:
        try:
            total += price_sku(book, sku, choices, qty, str(rec.get("currency")), rec).line.net
        except CrmError:
            return Decimal("Infinity")
    return total


def parts_of(book: Book, prod: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The catalog data of a bundle's components (missing ones are left out; check reports them)."""
    products = book.records("products")
    return {str(c.get("sku")): products[str(c.get("sku"))].data for c in prod.get("components") or []
            if isinstance(c, dict) and str(c.get("sku")) in products}


def refuse_bad_price(rec: Record, currency: str) -> None:
    """Refuse to price with a product (or bundle part) whose price or cost in ``currency`` was hand-edited to a bad
    number: readers leave such a value out (:attr:`Record.bad`), which would read as "no price" or "cost unknown"."""
    for field in ("prices", "cost"):
        why = rec.bad.get(field, "")
        if f"{field}.{currency}:" in why:
            raise ValidationError(f"product {rec.id}: {why}; fix {rec.path} (`crmctl check` lists such values)")


def price_sku(book: Book, sku: str, choices: Mapping[str, list[str]], qty: int, currency: str,
              pricebook: Record | None, discount: Decimal = Decimal(0)) -> Priced:
    """Configure and price one line against the book's catalog and ``pricebook``."""
    prod = product(book, sku)
    products = book.records("products")
    for rec in [prod, *(products[c] for c in parts_of(book, prod.data))]:
        refuse_bad_price(rec, currency)
    config = configure(prod.id, prod.data, choices)
    book_rec = pricebook if pricebook is not None and str(pricebook.get("currency")) == currency else None
    line = price_line(prod.id, prod.data, config, qty, currency, tax_rules(book.settings),
                      book_rec.id if book_rec else None, pricebooks.entry(book_rec, prod.id), discount, parts_of(book, prod.data))
    return Priced(prod, config, line, book_rec.id if book_rec else None)
