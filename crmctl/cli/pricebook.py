"""``crmctl pricebook``: price books with validity, audience, entries and volume tiers (CPQ).

Price books are pricing policy: only the roles in ``discount_policy.maintainers``
may add or change one (:mod:`crmctl.cpq.authority`).
"""
from __future__ import annotations

from typing import Any

from crmctl.cli.records import policy_guard, record_group
from crmctl.core.book import Book
from crmctl.core.errors import ValidationError


def _names(value: Any) -> list[str]:
    """``[a, b]``, ``a,b`` or a YAML list -> ``["a", "b"]`` (``--set applies_to.accounts=[acme]`` writes text)."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part.strip().strip("'\"") for part in text.split(",") if part.strip().strip("'\"")]


def pricebook_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    """Refuse a price book that `crmctl check` would report; named audiences are stored as lists of real ids."""
    from crmctl.cpq.checks import pricebook_problems

    applies = data.get("applies_to")
    if isinstance(applies, dict):
        applies = dict(applies)
        if "accounts" in applies:
            applies["accounts"] = [book.resolve("accounts", a) for a in _names(applies["accounts"])]
        if "tiers" in applies:
            applies["tiers"] = _names(applies["tiers"])
        data["applies_to"] = applies
    for _, message in pricebook_problems(data, book.records("products")):
        raise ValidationError(f"price book {rid}: {message}")


# no default audience: a book without applies_to is for everyone, and one given named accounts is only for them
cli = record_group("pricebooks", "Price books: currency, validity, audience, per-product entries and tiers (CPQ).",
                   rule=pricebook_rule, defaults=lambda app: {"priority": 0}, authorize=policy_guard("pricebooks"))
cli.name = "pricebook"
