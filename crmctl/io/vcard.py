"""vCard 3.0 import and export of contacts, through the ``vobject`` library.

``read_vcards`` turns text into plain contact dicts (``org`` carries the
company name for matching to an account); ``write_vcards`` does the reverse.
Field mapping: FN → name, ORG → account's name, TITLE → title, EMAIL → email,
TEL;TYPE=CELL → mobile, other TEL → phone, ROLE → role, NOTE → notes,
CATEGORIES → tags, X-WECHAT → wechat, UID → the contact's id.
vobject is imported inside the functions (start-up stays fast).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from crmctl.core.book import Record
from crmctl.core.errors import ValidationError


def _types(prop: Any) -> set[str]:
    found: set[str] = set()
    for value in prop.params.get("TYPE", []):
        found.update(part.strip().upper() for part in str(value).split(","))
    return found


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value if v).strip()
    return str(value or "").strip()


def read_vcards(text: str) -> list[dict[str, Any]]:
    """Every card in ``text`` as ``{name, org, title, email, phone, mobile, ...}`` (empty values left out)."""
    import vobject

    cards: list[dict[str, Any]] = []
    try:
        components = list(vobject.readComponents(text, validate=False, ignoreUnreadable=False))
    except Exception as exc:  # noqa: BLE001 - vobject raises many kinds; all mean "not a vCard we can read"
        raise ValidationError(f"not a readable vCard file: {exc}") from None
    for number, card in enumerate(components, 1):
        if card.name != "VCARD":
            continue
        contents = card.contents
        out: dict[str, Any] = {"card": number}
        if "fn" in contents:
            out["name"] = _text(contents["fn"][0].value)
        elif "n" in contents:
            n = contents["n"][0].value
            out["name"] = " ".join(p for p in (n.given, n.family) if p).strip() if hasattr(n, "family") else _text(n)
        if "org" in contents:
            out["org"] = _text(contents["org"][0].value[:1] if isinstance(contents["org"][0].value, list) else contents["org"][0].value)
        for key, target in (("title", "title"), ("role", "role"), ("note", "notes"), ("uid", "uid"), ("x-wechat", "wechat")):
            if key in contents:
                out[target] = _text(contents[key][0].value)
        if "email" in contents:
            emails = contents["email"]
            preferred = next((e for e in emails if "PREF" in _types(e)), emails[0])
            out["email"] = _text(preferred.value).lower()
        for tel in contents.get("tel", []):
            key = "mobile" if "CELL" in _types(tel) else "phone"
            out.setdefault(key, _text(tel.value))
        if "categories" in contents:
            out["tags"] = [str(t).strip() for t in contents["categories"][0].value if str(t).strip()]
        cards.append({k: v for k, v in out.items() if v not in ("", None, [])})
    return cards


def write_vcards(contacts: Iterable[Record], accounts: Mapping[str, Record]) -> str:
    """Contacts as vCard 3.0 text, each with its account's name as ORG and its id as UID."""
    import vobject

    chunks: list[str] = []
    for contact in contacts:
        card = vobject.vCard()
        data = contact.data
        name = str(data.get("name") or contact.id)
        card.add("fn").value = name
        family, given = _split_name(name)
        card.add("n").value = vobject.vcard.Name(family=family, given=given)
        account = accounts.get(str(data.get("account") or ""))
        if account is not None:
            card.add("org").value = [account.name]
        for key, prop in (("title", "title"), ("role", "role"), ("notes", "note"), ("wechat", "x-wechat")):
            if data.get(key):
                card.add(prop).value = str(data[key])
        if data.get("email"):
            email = card.add("email")
            email.value = str(data["email"])
            email.type_param = "INTERNET"
        for key, kind in (("phone", "WORK"), ("mobile", "CELL")):
            if data.get(key):
                tel = card.add("tel")
                tel.value = str(data[key])
                tel.type_param = kind
        if data.get("tags"):
            card.add("categories").value = [str(t) for t in data["tags"]]
        card.add("uid").value = contact.id
        chunks.append(card.serialize())
    return "".join(chunks)


def _split_name(name: str) -> tuple[str, str]:
    """(family, given): Latin names end with the family name; Chinese names start with it."""
    if " " in name.strip():
        given, _, family = name.strip().rpartition(" ")
        return family, given
    if name and "\u4e00" <= name[0] <= "\u9fff" and len(name) > 1:
        return name[0], name[1:]
    return name, ""
