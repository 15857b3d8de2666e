"""``whois``: who already owns a lead, contact or account that matches some text.

Before adding or claiming a lead a rep asks "is this one taken?". The text
may be a name, an email, a phone number or a company; everything is compared
through :mod:`crmctl.core.text`, so ``ＡＣＭＥ``/``acme``, ``+86 138-0013-8000``/
``13800138000`` and ``上海汽车有限公司``/``上海汽车`` match.
"""
from __future__ import annotations

from typing import Any

from crmctl.core.book import Book, Record
from crmctl.core.text import email_key, fold, name_key, phone_key

Row = dict[str, Any]


def _name_match(query: str, value: Any) -> bool:
    key = name_key(value)
    # a short query must match exactly; a longer one may be part of the name
    return bool(key) and (key == query or (len(query) >= 3 and query in key))


def _matches(rec: Record, qname: str, qemail: str, qphone: str, company: str | None) -> list[str]:
    found = []
    if qname and any(_name_match(qname, rec.get(f)) for f in ("name", "name_en")):
        found.append("name")
    if qname and company and _name_match(qname, company):
        found.append("company")
    if qemail and email_key(rec.get("email")) == qemail:
        found.append("email")
    if qphone and any(phone_key(rec.get(f)) == qphone for f in ("phone", "mobile")):
        found.append("phone")
    return found


def whois(book: Book, text: str) -> list[Row]:
    """Matching leads, contacts and accounts with their owners (a contact's owner is its account's)."""
    qemail = email_key(text) if "@" in fold(text) else ""
    qphone = phone_key(text)
    qphone = qphone if len(qphone) >= 7 and len(qphone) * 2 >= len(text.replace(" ", "")) else ""
    qname = "" if qemail else name_key(text)
    rows: list[Row] = []
    for rtype in ("leads", "contacts", "accounts"):
        for rec in book.live(rtype).values():
            account = book.lookup("accounts", rec.get("account")) if rtype == "contacts" else None
            company = rec.get("company") if rtype == "leads" else (account.get("name") if account else None)
            hits = _matches(rec, qname, qemail, qphone, company)
            if not hits:
                continue
            owner = rec.get("owner") or (account.get("owner") if account else None)
            rows.append({"type": rtype[:-1], "id": rec.id, "name": rec.get("name"), "company": company or "",
                         "owner": owner or ("(pool)" if rtype == "leads" else ""), "status": rec.get("status") or "",
                         "matched_on": ", ".join(hits)})
    return rows
