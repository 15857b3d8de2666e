"""Contact changes with a trail (moving to another account, consent per channel) and vCard imports."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.errors import ValidationError
from crmctl.core.text import default_region
from crmctl.io.vcard import Card
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


SCALARS = ("name", "name_en", "title", "job_role", "role", "wechat", "channel", "notes", "uid")


@dataclass
class CardResult:
    """What one card does: ``op`` is add, update, unchanged or skip; ``data`` is the contact to write."""

    card: Card
    op: str
    id: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    not_kept: list[str] = field(default_factory=list)

    def row(self, dry_run: bool) -> dict[str, Any]:
        verb = {"add": "would add" if dry_run else "added", "update": "would update" if dry_run else "updated",
                "skip": "skipped"}.get(self.op, self.op)
        return {"card": self.card.number, "id": self.id, "name": self.card.name, "account": self.data.get("account", ""),
                "result": f"{verb}: {self.note}" if self.note else verb, "not_kept": ", ".join(self.not_kept)}


def card_data(card: Card, roles: list[str], channels: list[str]) -> tuple[dict[str, Any], list[str]]:
    """A card as contact fields (primary email/phone/mobile, the rest in emails/phones), and what does not fit."""
    data: dict[str, Any] = {"name": card.name, **card.values}
    not_kept = list(card.dropped)
    if data.get("role") and roles and data["role"] not in roles:  # another book's buying-committee role
        role = data.pop("role")
        if data.get("job_role"):
            not_kept.append(f"X-CRMCTL-ROLE {role} (not one of contact.roles)")
        else:
            data["job_role"] = role
    if data.get("channel") and channels and data["channel"] not in channels:
        not_kept.append(f"X-CRMCTL-CHANNEL {data.pop('channel')} (not one of contact.channels)")
    if card.emails:
        data["email"] = card.emails[0]
        data["emails"] = card.emails[1:]
    extra: list[dict[str, str]] = []
    for kind, number in card.phones:
        key = "mobile" if kind == "cell" else "phone" if kind in ("work", "other") else ""
        if key and key not in data:
            data[key] = number
        else:
            extra.append({"type": kind, "number": number})
    data["phones"] = extra
    return {k: v for k, v in data.items() if v not in ("", None, [])}, not_kept


def _updated(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` with the card's values; extra emails and phones are the union of both."""
    out = {**old, **{k: v for k, v in new.items() if k not in ("emails", "phones")}}
    primaries = {out.get("email")}
    emails = [e for e in [*(old.get("emails") or []), *(new.get("emails") or []), old.get("email")] if e and e not in primaries]
    out["emails"] = list(dict.fromkeys(emails))
    taken = {out.get("phone"), out.get("mobile")}
    phones: list[dict[str, Any]] = []
    # a number the card replaced as phone or mobile stays, among the other phones
    moved = [{"type": kind, "number": old[key]} for key, kind in (("phone", "work"), ("mobile", "cell"))
             if old.get(key) and old[key] not in taken]
    for entry in [*(old.get("phones") or []), *(new.get("phones") or []), *moved]:
        if entry.get("number") not in taken:
            taken.add(entry.get("number"))
            phones.append(dict(entry))
    out["phones"] = phones
    return {k: v for k, v in out.items() if v not in ("", None, [])}


def from_vcards(book: Book, cards: list[Card], account_ref: str | None, at: str, owner: str | None = None) -> list[CardResult]:
    """What importing ``cards`` does to the book's contacts (nothing is written here).

    A card whose UID is a contact's ``uid`` (or id, for a card this book
    exported) updates that contact; a card whose email or phone is already a
    contact's is skipped, naming it; every other card adds a contact. All or
    nothing: any card that cannot become a valid contact raises, naming the card.
    """
    from crmctl.core.schema import validate
    from crmctl.core.schemas import get_schema
    from crmctl.core.text import name_key
    from crmctl.mcr.rules import phone_entry_problems

    schema = get_schema("contacts")
    roles, channels = book.settings.values("contact.roles"), book.settings.values("contact.channels")
    fallback = book.get("accounts", account_ref).id if account_ref else None
    by_name = account_by_name(book)
    contacts = book.records("contacts")
    by_uid = {str(rec.get("uid")): rec.id for rec in contacts.values() if rec.get("uid")}
    region = default_region(book.settings)
    seen: dict[str, str] = {}
    for rec in book.live("contacts").values():
        for key in contact_match_keys(rec.data, region):
            seen.setdefault(key, rec.id)
    results: list[CardResult] = []
    errors: list[str] = []
    for card in cards:
        if not card.name:
            errors.append(f"{card.label}: no FN or N, so no name")
            continue
        data, not_kept = card_data(card, roles, channels)
        uid = str(data.get("uid") or "")
        target = by_uid.get(uid) or (uid if uid in contacts else None)
        if target:
            existing = book.get("contacts", target)  # a merged contact redirects to its survivor
            new = _updated(existing.data, data)
            op = "unchanged" if new == existing.data else "update"
            changed = sorted(k for k in set(new) | set(existing.data) if new.get(k) != existing.data.get(k))
            results.append(CardResult(card, op, existing.id, new, ", ".join(changed), not_kept))
            continue
        account = by_name.get(name_key(card.org)) if card.org else None
        account = account or fallback
        if account is None:
            why = f"no account matches ORG {card.org!r}" if card.org else "no ORG"
            errors.append(f"{card.label}: {why}; pass --account ACCOUNT or add the account first")
            continue
        keys = contact_match_keys(data, region)
        same = next((k for k in keys if k in seen), None)
        if same:
            results.append(CardResult(card, "skip", seen[same], {"account": account},
                                      f"already there as contact {seen[same]} (same {same.split(':', 1)[0]})", not_kept))
            continue
        rid = book.new_id("contacts")
        for key in keys:
            seen.setdefault(key, rid)
        data.update(account=account, owner=owner, created=at)
        results.append(CardResult(card, "add", rid, {k: v for k, v in data.items() if v is not None}, "", not_kept))
    _link_bosses(results, {**by_uid, **{r.data["uid"]: r.id for r in results if r.data.get("uid")}}, contacts)
    for result in results:
        if result.op not in ("add", "update"):
            continue
        result.data = schema.order(result.data)
        problems = [message for _, message in validate(schema, result.data, book.settings)]
        problems += list(phone_entry_problems(result.data))
        if problems:
            errors.append(f"{result.card.label}: {problems[0]}")
    if errors:
        more = f" (and {len(errors) - 1} more card(s) with problems)" if len(errors) > 1 else ""
        raise ValidationError(f"{errors[0]}{more}; nothing imported")
    return results


def _link_bosses(results: list[CardResult], ids_by_uid: Mapping[str, str], contacts: Mapping[str, Record]) -> None:
    """X-CRMCTL-REPORTS-TO names the boss's UID: link it when the boss is in the book or in the file."""
    for result in results:
        boss_uid = result.card.reports_to_uid
        if not boss_uid or result.op not in ("add", "update"):
            continue
        boss = ids_by_uid.get(boss_uid) or (boss_uid if boss_uid in contacts else None)
        if boss and boss != result.id:
            result.data["reports_to"] = boss
        else:
            result.not_kept.append(f"X-CRMCTL-REPORTS-TO {boss_uid} (no contact with that UID)")


def contact_match_keys(data: Mapping[str, Any], region: str) -> list[str]:
    """``email:…`` and ``phone:…`` keys of every email and phone of a contact (or a card's data)."""
    from crmctl.core.text import email_key, phone_key
    from crmctl.io.vcard import emails_of, phones_of

    keys = [f"email:{email_key(e)}" for e in emails_of(data)]
    for _, number in phones_of(data):
        digits = phone_key(number, region)
        if len(digits) >= 7:
            keys.append(f"phone:{digits}")
    return list(dict.fromkeys(keys))
