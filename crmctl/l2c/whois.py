"""``whois``: who already owns a lead, contact or account that matches some text.

Before adding or claiming a lead a rep asks "is this one taken?". The text
may be a name, an email, a phone number, a tax id or a company; everything is
compared through :mod:`crmctl.core.text`, so ``ＡＣＭＥ``/``acme``, ``+86
138-0013-8000``/``13800138000``, ``Siemens AG``/``Siemens Aktiengesellschaft``
and ``上海汽车有限公司``/``上海汽车`` match (``likely: probable``). Names that are
only similar (a typo: ``Acme Industial``) are listed as ``likely: possible``
with their rapidfuzz score (``duplicates.possible_score`` in crm.yaml).
"""
from __future__ import annotations

from typing import Any

from crmctl.core.book import Book, Record
from crmctl.core.text import default_region, email_key, fold, name_key, phone_key, tax_key
from crmctl.io.vcard import emails_of, phones_of
from crmctl.mcr.dupes import POSSIBLE, PROBABLE, owner_of, similar

Row = dict[str, Any]


def _name_match(query: str, value: Any) -> bool:
    key = name_key(value)
    # a short query must match exactly; a longer one may be part of the name
    return bool(key) and (key == query or (len(query) >= 3 and query in key))


def _matches(rec: Record, q: dict[str, str], company: str | None, region: str) -> list[str]:
    found = []
    if q["name"] and any(_name_match(q["name"], rec.get(f)) for f in ("name", "name_en", "short_name")):
        found.append("name")
    if q["name"] and company and _name_match(q["name"], company):
        found.append("company")
    if q["email"] and any(email_key(e) == q["email"] for e in emails_of(rec.data)):
        found.append("email")
    if q["phone"] and any(phone_key(n, region) == q["phone"] for _, n in phones_of(rec.data)):
        found.append("phone")
    if q["tax"] and tax_key(rec.get("tax_id")) == q["tax"]:
        found.append("tax id")
    return found


def _query(text: str, region: str) -> dict[str, str]:
    """What the text may be: an email, a phone number, a tax id, else a name."""
    email = email_key(text) if "@" in fold(text) else ""
    phone = phone_key(text, region)
    digits = sum(ch.isdigit() for ch in fold(text))
    phone = phone if len(phone) >= 7 and digits * 2 >= len(text.replace(" ", "")) else ""
    tax = tax_key(text) if not email else ""
    tax = tax if tax.startswith(("uscc:", "vat:")) else ""
    return {"email": email, "phone": phone, "tax": tax, "name": "" if email or tax else name_key(text)}


def whois(book: Book, text: str) -> list[Row]:
    """Matching leads, contacts and accounts with their owners (a contact's owner is its account's)."""
    region = default_region(book.settings)
    q = _query(text, region)
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for rtype in ("leads", "contacts", "accounts"):
        for rec in book.live(rtype).values():
            company = _company(book, rtype, rec)
            hits = _matches(rec, q, company, region)
            if hits:
                seen.add((rtype, rec.id))
                rows.append(_row(book, rtype, rec, company, ", ".join(hits), PROBABLE, 100))
    if q["name"]:
        for rtype, rec, score in similar(book, text):
            if (rtype, rec.id) not in seen:
                rows.append(_row(book, rtype, rec, _company(book, rtype, rec), "similar name", POSSIBLE, score))
    return rows


def _company(book: Book, rtype: str, rec: Record) -> str | None:
    """The company a lead names, or the name of a contact's account (None for an account)."""
    if rtype == "leads":
        return rec.get("company")
    account = book.lookup("accounts", rec.get("account")) if rtype == "contacts" else None
    return account.get("name") if account else None


def _row(book: Book, rtype: str, rec: Record, company: str | None, on: str, likely: str, score: int) -> Row:
    return {"type": rtype[:-1], "id": rec.id, "name": rec.get("name"), "company": company or "",
            "owner": owner_of(book, rtype, rec), "status": rec.get("status") or "", "matched_on": on,
            "likely": likely, "score": score}
