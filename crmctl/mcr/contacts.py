"""Contact changes with a trail: moving to another account, consent per channel."""
from __future__ import annotations

from typing import Any, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.errors import ValidationError
from crmctl.mcr.history import appended


def moved(book: Book, contact: Record, account_ref: str, by: str | None, at: str) -> dict[str, Any]:
    """The contact's data after moving to another account, the move kept in its history."""
    target = book.get("accounts", account_ref)  # a merged account redirects to its survivor
    old = contact.get("account")
    if target.id == old:
        raise ValidationError(f"contact {contact.id} already works for {old}")
    out = dict(contact.data)
    out["account"] = target.id
    # the old boss stays behind at the old account
    if out.get("reports_to"):
        boss = book.records("contacts").get(out["reports_to"])
        if boss is None or boss.get("account") != target.id:
            out.pop("reports_to")
    out["history"] = appended(contact.data, "move", at, by, **{"from": old}, to=target.id)
    return out


def with_consent(contact: Record, changes: Mapping[str, bool], by: str | None, at: str) -> dict[str, Any]:
    """The contact's data with consent flags changed, the change kept in its history."""
    if not changes:
        raise ValidationError("say which consent to change, e.g. --email yes --phone no")
    out = dict(contact.data)
    consent = dict(out.get("consent") or {})
    diff = {k: v for k, v in changes.items() if consent.get(k) != v}
    consent.update(changes)
    out["consent"] = consent
    if diff:
        out["history"] = appended(contact.data, "consent", at, by, changes=dict(diff))
    return out


def account_by_name(book: Book) -> dict[str, str]:
    """Normalised name (``core.text.name_key``) → account id, for matching a card's ORG."""
    from crmctl.core.text import name_key

    index: dict[str, str] = {}
    for rec in sorted(book.live("accounts").values(), key=lambda r: r.id):
        for fname in ("name", "name_en", "short_name"):
            key = name_key(rec.get(fname))
            if key:
                index.setdefault(key, rec.id)
    return index


CARD_FIELDS = ("name", "title", "role", "email", "phone", "mobile", "wechat", "notes", "tags")


def from_vcards(book: Book, cards: list[dict[str, Any]], account_ref: str | None, at: str,
                owner: str | None = None) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """New contacts from vCards, and the cards skipped as already there (email, phone or UID).

    All or nothing: any card that cannot become a valid contact raises, naming
    the card; nothing is returned to write.
    """
    from crmctl.core.schema import validate
    from crmctl.core.schemas import get_schema
    from crmctl.core.text import email_key, name_key, phone_key

    schema = get_schema("contacts")
    fallback = book.get("accounts", account_ref).id if account_ref else None
    by_name = account_by_name(book)
    contacts = book.records("contacts")
    seen: set[str] = set()
    for rec in contacts.values():
        seen.update(_keys(rec.data, email_key, phone_key))
    created: list[tuple[str, dict[str, Any]]] = []
    skipped: list[dict[str, Any]] = []
    errors: list[str] = []
    for card in cards:
        label = f"card {card.get('card')} ({card.get('name') or 'no name'})"
        if not card.get("name"):
            errors.append(f"{label}: no FN or N, so no name")
            continue
        account = by_name.get(name_key(card.get("org"))) if card.get("org") else None
        account = account or fallback
        if account is None:
            why = f"no account matches ORG {card['org']!r}" if card.get("org") else "no ORG"
            errors.append(f"{label}: {why}; pass --account ACCOUNT or add the account first")
            continue
        keys = set(_keys(card, email_key, phone_key))
        if (card.get("uid") in contacts) or (keys & seen):
            skipped.append({"card": card.get("card"), "name": card["name"], "reason": "already there (uid, email or phone)"})
            continue
        seen.update(keys)
        data = {k: card[k] for k in CARD_FIELDS if card.get(k)}
        data.update(account=account, owner=owner, created=at)
        data = schema.order({k: v for k, v in data.items() if v is not None})
        problems = [message for _, message in validate(schema, data, book.settings)]
        if problems:
            errors.append(f"{label}: {problems[0]}")
            continue
        created.append((book.new_id("contacts"), data))
    if errors:
        more = f" (and {len(errors) - 1} more card(s) with problems)" if len(errors) > 1 else ""
        raise ValidationError(f"{errors[0]}{more}; nothing imported")
    return created, skipped


def _keys(data: Mapping[str, Any], email_key: Any, phone_key: Any) -> list[str]:
    keys = [f"email:{email_key(data['email'])}"] if data.get("email") else []
    for fname in ("phone", "mobile"):
        digits = phone_key(data.get(fname))
        if len(digits) >= 7:
            keys.append(f"phone:{digits}")
    return keys
