"""vCard import and export of contacts, through the ``vobject`` library.

Reading is tolerant where real clients are known to deviate, by normalising
the text before vobject sees it (:func:`normalise`):

* line endings ``\\r\\r\\n`` (iOS), ``\\r\\n`` and lone ``\\r`` all become one line break;
* vCard 2.1 quoted-printable values (Android, Outlook) are joined across their
  soft line breaks (a line ending in ``=``) and decoded with their ``CHARSET``;
* bare 2.1 types (``TEL;CELL``, ``TEL;WORK;VOICE``, ``EMAIL;INTERNET``) count as
  ``TYPE=`` ones, and an iOS group label (``item1.X-ABLabel:_$!<Mobile>!$_``) as
  the type of the grouped property;
* vCard 4.0 ``tel:`` URIs become numbers, ``;ext=102`` becomes `` ext 102``.

:func:`read_vcards` returns one :class:`Card` per card: every email and phone
is kept, in the card's order with the preferred one first, and every property
the mapping does not use is named in ``Card.dropped`` (the import reports it).

Field mapping (both ways): FN (else N: 王;小明 → 王小明, Smith;Anna → Anna
Smith) ↔ name, ORG ↔ the account's name, TITLE ↔ title, ROLE ↔ job_role (free
text), EMAIL ↔ email + emails, TEL;CELL ↔ mobile, other TEL ↔ phone, the rest ↔
phones, NOTE ↔ notes, CATEGORIES ↔ tags, X-WECHAT ↔ wechat, UID ↔ uid, and
crmctl's own X-CRMCTL-ROLE (buying-committee role), X-CRMCTL-NAME-EN,
X-CRMCTL-CHANNEL and X-CRMCTL-REPORTS-TO (the boss's UID), so a round trip
through another book keeps them. Written cards are vCard 3.0, lines folded at
75 octets (never inside a UTF-8 character).
vobject is imported inside the functions (start-up stays fast).
"""
from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from crmctl.core.book import Record
from crmctl.core.errors import ValidationError

# vCard type -> crmctl phone type (``phones[].type``); anything else is "other"
PHONE_TYPES = {"CELL": "cell", "MOBILE": "cell", "IPHONE": "cell", "WORK": "work", "HOME": "home", "FAX": "fax",
               "MAIN": "work", "PAGER": "pager"}
_LABELS = {"MOBILE": "CELL", "IPHONE": "CELL", "WORK": "WORK", "HOME": "HOME", "MAIN": "MAIN",
           "WORKFAX": "FAX", "HOMEFAX": "FAX", "OTHERFAX": "FAX", "PAGER": "PAGER"}
# properties that carry no contact data of their own (used to read the card, or pure housekeeping)
_META = {"version", "prodid", "rev", "fn", "n", "x-ablabel", "x-abuid", "kind", "source", "begin", "end"}
_MAPPED = {"org", "title", "role", "note", "uid", "x-wechat", "email", "tel", "categories",
           "x-crmctl-role", "x-crmctl-name-en", "x-crmctl-channel", "x-crmctl-reports-to"}
_QP_HEAD = re.compile(r";(?:ENCODING=)?QUOTED-PRINTABLE(?=[;:]|$)", re.IGNORECASE)
_CHARSET = re.compile(r";CHARSET=([^;:]+)", re.IGNORECASE)
FOLD_OCTETS = 75


@dataclass
class Card:
    """One card as read: plain values, every email and phone, and what was not kept."""

    number: int
    name: str = ""
    org: str = ""
    emails: list[str] = field(default_factory=list)                 # preferred first
    phones: list[tuple[str, str]] = field(default_factory=list)     # (crmctl type, number), preferred first
    values: dict[str, Any] = field(default_factory=dict)            # title, job_role, role, notes, uid, wechat, name_en, channel, tags
    reports_to_uid: str = ""
    dropped: list[str] = field(default_factory=list)                # property names (with their group) not kept

    @property
    def label(self) -> str:
        return f"card {self.number} ({self.name or 'no name'})"


def normalise(text: str) -> str:
    """vCard text as vobject reads it: one kind of line break, quoted-printable decoded (see the module doc)."""
    text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        head, sep, value = line.partition(":")
        if sep and _QP_HEAD.search(head):
            while value.endswith("=") and i < len(lines):  # a soft line break: the value goes on
                value = value[:-1] + lines[i]
                i += 1
            line = _decoded_line(head, value)
        out.append(line)
    return "\n".join(out)


def _decoded_line(head: str, value: str) -> str:
    found = _CHARSET.search(head)
    charset = found.group(1).strip('"') if found else "utf-8"
    raw = quopri.decodestring(value.encode("latin-1", "replace"))
    try:
        decoded = raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise ValidationError(f"a quoted-printable {head.split(';')[0]} value is not valid {charset}") from None
    head = _CHARSET.sub("", _QP_HEAD.sub("", head))
    return f"{head}:{decoded.replace(chr(13) + chr(10), chr(92) + 'n').replace(chr(10), chr(92) + 'n')}"


def _types(prop: Any, labels: Mapping[str | None, str]) -> set[str]:
    """TYPE= values, bare 2.1 types and an iOS group label, upper case."""
    found: set[str] = set()
    for value in prop.params.get("TYPE", []):
        found.update(part.strip().strip('"').upper() for part in str(value).split(","))
    found.update(str(v).upper() for v in prop.singletonparams)
    if prop.group and prop.group in labels:
        found.add(labels[prop.group])
    return found


def _group_labels(card: Any) -> dict[str | None, str]:
    """``item1`` -> the type its ``X-ABLabel`` names (``_$!<Mobile>!$_`` -> CELL)."""
    labels: dict[str | None, str] = {}
    for prop in card.contents.get("x-ablabel", []):
        text = re.sub(r"[^A-Za-z]", "", str(prop.value)).upper()
        labels[prop.group] = _LABELS.get(text, text)
    return labels


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value if v).strip()
    return str(value or "").strip()


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3040" <= ch <= "\u30ff" or "\uac00" <= ch <= "\ud7af" or "\u3400" <= ch <= "\u4dbf"
               for ch in text)


def name_from_n(n: Any) -> str:
    """A display name from N: CJK family+given with no space (王小明), else "given family"."""
    if not hasattr(n, "family"):
        return _text(n)
    family, given = _text(n.family), _text(n.given)
    if _is_cjk(family + given):
        return f"{family}{given}"
    return " ".join(p for p in (given, _text(n.additional), family) if p)


def phone_number(value: str) -> str:
    """A TEL value as a phone number: ``tel:+1-418-656-9254;ext=102`` -> ``+1-418-656-9254 ext 102``."""
    text = value.strip()
    if text.lower().startswith("tel:"):
        number, _, params = text[4:].partition(";")
        ext = next((p.split("=", 1)[1] for p in params.split(";") if p.lower().startswith("ext=")), "")
        return f"{number} ext {ext}" if ext else number
    return text


def _preferred_first(props: list[Any], labels: Mapping[str | None, str]) -> list[Any]:
    def rank(prop: Any) -> int:
        pref = prop.params.get("PREF", [])
        return 0 if ("PREF" in _types(prop, labels) or pref) else 1
    return sorted(props, key=rank)  # stable: the card's order otherwise


def read_vcards(text: str, roles: Iterable[str] = ()) -> list[Card]:
    """Every card in ``text``. ``roles`` are the book's buying-committee roles (an old export's ROLE).

    Raises :class:`ValidationError` when the text is not vCard at all.
    """
    import vobject

    try:
        components = list(vobject.readComponents(normalise(text), validate=False, ignoreUnreadable=False))
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - vobject raises many kinds; all mean "not a vCard we can read"
        raise ValidationError(f"not a readable vCard file: {exc}") from None
    known_roles = set(roles)
    cards: list[Card] = []
    for number, component in enumerate((c for c in components if c.name == "VCARD"), 1):
        cards.append(_card(number, component, known_roles))
    return cards


def _card(number: int, component: Any, roles: set[str]) -> Card:
    contents = component.contents
    labels = _group_labels(component)
    card = Card(number)
    if "fn" in contents and _text(contents["fn"][0].value):
        card.name = _text(contents["fn"][0].value)
    elif "n" in contents:
        card.name = name_from_n(contents["n"][0].value)
    if "org" in contents:
        org = contents["org"][0].value
        parts = [str(p).strip() for p in (org if isinstance(org, list) else [org])]
        card.org = parts[0] if parts else ""
        if any(parts[1:]):
            card.dropped.append("ORG unit " + " / ".join(p for p in parts[1:] if p))
    values = card.values
    for key, target in (("title", "title"), ("note", "notes"), ("uid", "uid"), ("x-wechat", "wechat"),
                        ("x-crmctl-name-en", "name_en"), ("x-crmctl-channel", "channel"), ("x-crmctl-role", "role")):
        if key in contents:
            values[target] = _text(contents[key][0].value)
    if "role" in contents:
        role = _text(contents["role"][0].value)
        # an older crmctl export wrote the buying-committee role as ROLE; anything else is a job role
        values["role" if role in roles and "role" not in values else "job_role"] = role
    if "x-crmctl-reports-to" in contents:
        card.reports_to_uid = _text(contents["x-crmctl-reports-to"][0].value)
    for prop in _preferred_first(contents.get("email", []), labels):
        email = _text(prop.value).lower()
        if email and email not in card.emails:
            card.emails.append(email)
    for prop in _preferred_first(contents.get("tel", []), labels):
        number_text = phone_number(_text(prop.value))
        kinds = _types(prop, labels)
        kind = next((PHONE_TYPES[k] for k in ("FAX", "PAGER", "CELL", "MOBILE", "IPHONE", "HOME", "WORK", "MAIN") if k in kinds), "other")
        if number_text and all(number_text != n for _, n in card.phones):
            card.phones.append((kind, number_text))
    if "categories" in contents:
        values["tags"] = [str(t).strip() for p in contents["categories"] for t in p.value if str(t).strip()]
    for prop in component.lines():
        key = prop.name.lower()
        if key not in _META and key not in _MAPPED:
            card.dropped.append(f"{prop.group}.{prop.name}" if prop.group else prop.name)
    card.values = {k: v for k, v in values.items() if v not in ("", None, [])}
    return card


def write_vcards(contacts: Iterable[Record], accounts: Mapping[str, Record], uid_of: Callable[[str], str] | None = None) -> str:
    """Contacts as vCard 3.0 text, lines folded at 75 octets.

    ``uid_of(contact_id)`` gives a contact's UID (its kept ``uid``, else its id);
    it also names the boss in X-CRMCTL-REPORTS-TO.
    """
    import vobject

    uid = uid_of or (lambda rid: rid)
    chunks: list[str] = []
    for contact in contacts:
        card = vobject.vCard()
        data = contact.data
        name = str(data.get("name") or contact.id)
        card.add("fn").value = name
        family, given = split_name(name)
        card.add("n").value = vobject.vcard.Name(family=family, given=given)
        account = accounts.get(str(data.get("account") or ""))
        if account is not None:
            card.add("org").value = [account.name]
        for key, prop in (("title", "title"), ("job_role", "role"), ("notes", "note"), ("wechat", "x-wechat"),
                          ("role", "x-crmctl-role"), ("name_en", "x-crmctl-name-en"), ("channel", "x-crmctl-channel")):
            if data.get(key):
                card.add(prop).value = str(data[key])
        for n, email_text in enumerate(emails_of(data)):
            email = card.add("email")
            email.value = email_text
            email.params["TYPE"] = ["INTERNET", "PREF"] if n == 0 else ["INTERNET"]
        for kind, number in phones_of(data):
            tel = card.add("tel")
            tel.value = number
            tel.type_param = {"cell": "CELL", "work": "WORK", "home": "HOME", "fax": "FAX", "pager": "PAGER"}.get(kind, "VOICE")
        if data.get("tags"):
            card.add("categories").value = [str(t) for t in data["tags"]]
        if data.get("reports_to"):
            card.add("x-crmctl-reports-to").value = uid(str(data["reports_to"]))
        card.add("uid").value = uid(contact.id)
        chunks.append(fold(card.serialize()))
    return "".join(chunks)


def emails_of(data: Mapping[str, Any]) -> list[str]:
    """A contact's emails, the primary (``email``) first."""
    found = [str(data["email"])] if data.get("email") else []
    return found + [str(e) for e in data.get("emails") or [] if str(e) not in found]


def phones_of(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A contact's phones as ``(type, number)``: ``phone`` (work), ``mobile`` (cell), then ``phones``."""
    found = [(kind, str(data[key])) for key, kind in (("phone", "work"), ("mobile", "cell")) if data.get(key)]
    for entry in data.get("phones") or []:
        if isinstance(entry, Mapping) and entry.get("number"):
            found.append((str(entry.get("type") or "other"), str(entry["number"])))
    return found


def fold(text: str) -> str:
    """vCard text with every line at most 75 octets (RFC 6350 3.2), never splitting a UTF-8 character."""
    out: list[str] = []
    for line in text.replace("\r\n ", "").split("\r\n"):  # vobject's own folding counts characters; redo it
        encoded, limit = line.encode("utf-8"), FOLD_OCTETS
        while len(encoded) > limit:
            cut = limit
            while cut > 0 and (encoded[cut] & 0xC0) == 0x80:  # back off to the start of a character
                cut -= 1
            out.append(encoded[:cut].decode("utf-8"))
            encoded, limit = b" " + encoded[cut:], FOLD_OCTETS
        out.append(encoded.decode("utf-8"))
    return "\r\n".join(out)


def split_name(name: str) -> tuple[str, str]:
    """(family, given): Latin names end with the family name; Chinese names start with it."""
    if " " in name.strip():
        given, _, family = name.strip().rpartition(" ")
        return family, given
    if name and _is_cjk(name[0]) and len(name) > 1:
        return name[0], name[1:]
    return name, ""
