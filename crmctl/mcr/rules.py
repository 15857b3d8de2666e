"""Rules every account and contact must keep, whoever writes them.

``account add/edit`` and ``contact add/edit`` call these before writing (so
bad input is one clear line and nothing is written); ``mcr.checks`` reports
the same problems for records that were edited by hand.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

from crmctl.core.book import Book
from crmctl.core.edit import follow_chain
from crmctl.core.errors import ValidationError
from crmctl.core.money import to_decimal
from crmctl.core.text import tax_id_problem

BOUNDS = {"lat": Decimal(90), "lon": Decimal(180)}


def parent_chain(book: Book, start: str | None, child: str) -> list[str]:
    """Ancestors of ``child`` from ``start`` upwards; refuses a loop back to ``child``."""
    return follow_chain(book, "accounts", "parent", child, start, "account")


def coordinate_problems(data: dict[str, Any]) -> Iterator[str]:
    """Latitude within -90..90, longitude within -180..180, and both or neither."""
    places = [("", data)] + [(f"addresses[{i}].", a) for i, a in enumerate(data.get("addresses") or []) if isinstance(a, dict)]
    for prefix, place in places:
        if (place.get("lat") in (None, "")) != (place.get("lon") in (None, "")):
            yield f"{prefix}lat and {prefix}lon go together; set both or neither"
        for key, bound in BOUNDS.items():
            value = place.get(key)
            if value in (None, ""):
                continue
            try:
                number = to_decimal(value, f"{prefix}{key}")
            except ValidationError as exc:
                yield str(exc)
                continue
            if not -bound <= number <= bound:
                yield f"{prefix}{key}: {value} is out of range (-{bound}..{bound})"


PHONE_KINDS = ("work", "cell", "home", "fax", "pager", "other")


def phone_entry_problems(data: dict[str, Any]) -> Iterator[str]:
    """Each of a contact's extra ``phones`` is ``{type, number}`` with a known type and a phone number."""
    from crmctl.core.schema import PHONE

    for i, entry in enumerate(data.get("phones") or []):
        if not isinstance(entry, dict) or set(entry) - {"type", "number"}:
            yield f"phones[{i}]: write it as {{type: work|cell|home|fax|pager|other, number: ...}}"
        elif not PHONE.match(str(entry.get("number") or "")):
            yield f"phones[{i}].number: {entry.get('number')!r} is not a phone number"
        elif str(entry.get("type") or "other") not in PHONE_KINDS:
            yield f"phones[{i}].type: {entry.get('type')!r} is not one of {', '.join(PHONE_KINDS)}"


def account_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    parent = data.get("parent")
    if parent:
        target = book.records("accounts").get(parent)  # the redirect itself: say where it leads
        if target is not None and target.merged_into:
            raise ValidationError(f"account {rid}: parent {parent} was merged into {target.merged_into}; use that instead")
    parent_chain(book, parent, rid)
    for problem in coordinate_problems(data):
        raise ValidationError(f"account {rid}: {problem}")
    problem = tax_id_problem(data.get("tax_id"))
    if problem:
        raise ValidationError(f"account {rid}: {problem}")


def manager_chain(book: Book, start: str | None, contact: str) -> list[str]:
    """Whom ``contact`` reports to, upwards; refuses a loop back to ``contact``."""
    return follow_chain(book, "contacts", "reports_to", contact, start, "contact")


def contact_rule(book: Book, rid: str, data: dict[str, Any]) -> None:
    if data.get("reports_to") == rid:
        raise ValidationError(f"contact {rid}: cannot report to themselves")
    manager_chain(book, data.get("reports_to"), rid)
    account = book.records("accounts").get(str(data.get("account") or ""))
    if account is not None and account.merged_into:
        raise ValidationError(f"contact {rid}: account {account.id} was merged into {account.merged_into}; use that instead")
    channels = book.settings.values("contact.channels")
    for key, value in (data.get("consent") or {}).items():
        if channels and key not in channels:
            raise ValidationError(f"contact {rid}: consent.{key}: unknown channel; channels are {', '.join(channels)}")
        if not isinstance(value, bool):
            raise ValidationError(f"contact {rid}: consent.{key}: {value!r} is not true or false")
    for problem in phone_entry_problems(data):
        raise ValidationError(f"contact {rid}: {problem}")
