"""Discount policy and approvals: who may give what, and whether an approval still holds.

``discount_policy`` in crm.yaml gives each role the most it may discount per
product category (``authority``), a minimum margin over cost, and the roles in
rank order. What is judged is each line's total reduction from list — the
price book's price, discount and volume tier, the line discount, its share of
the quote discount and of every negative fee — and its margin on what the
seller keeps (ex tax). A quote needs the lowest role whose authority covers
every line's reduction and, when a line's margin is below the minimum or its
cost is unknown, the ``margin_approver``.

An approval stores a SHA-256 hash of everything the customer signs and the
policy judged (lines with cost and printed names, account, contact, currency,
price book, terms, validity, language, fees, totals) and one digest per field,
so a stale approval says which field changed. Numbers are hashed by value
(``12000``, ``"12000"`` and ``"12000.00"`` are one amount) and dates as dates,
so a reformat that changes nothing keeps the approval; any other change,
however small, stales it.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from crmctl.core.limits import read
from crmctl.core.percent import percent_points
from crmctl.core.states import ApprovalState, ApprovalStatus
from crmctl.core.text import a_an

HUNDRED = Decimal(100)
# An approval covers every field of the quote (and every key of every line) except these, which record what
# happened to it rather than what the customer signs; a field added later (an English form, Incoterms...) is covered
# without anyone having to remember to list it.
UNSIGNED_FIELDS = frozenset({"status", "approval", "approvals", "versions", "status_history", "sent_at", "as_sent",
                             "decline_reason", "order", "number", "created"})
# what approvals made before every field was covered hashed (``approval.covers`` absent); they are judged on these
SIGNED_FIELDS = ("title", "account", "contact", "owner", "opportunity", "currency", "pricebook", "date", "valid_until",
                 "lang", "payment_terms", "notes", "discount", "fees", "totals", "tax_exempt")
COVERS_ALL = "all"   # approval.covers of an approval over every field but UNSIGNED_FIELDS
# keys whose scalar values are numbers (a line's, a fee's, the totals'): hashed by value
NUMBER_KEYS = frozenset({"qty", "discount", "unit_price", "list_unit", "tier", "gross", "net", "tax_rate", "cost",
                         "amount", "subtotal", "fees", "tax", "total", "discount_percent"})
# maps whose keys and values are numbers (tax rate -> amount), and maps whose values are (group -> subtotal)
NUMBER_MAPS = frozenset({"tax_parts", "tax_by_rate"})
AMOUNT_MAPS = frozenset({"groups"})
DATE_KEYS = frozenset({"date", "valid_until"})


@dataclass(frozen=True)
class Requirement:
    """The approval a quote needs: the role, and why (one reason per line that needs more than a rep)."""

    role: str
    reasons: tuple[str, ...]
    beyond: tuple[str, ...] = ()     # lines beyond anyone's authority: no approval can save them


@dataclass(frozen=True)
class Judged:
    """One line as the policy sees it (amounts for the whole line, in the quote's currency).

    ``list_amount``: the configured list price x qty (no price book);
    ``paid``: what the customer pays for it after every reduction (same tax basis as list);
    ``kept``: ``paid`` less the tax it includes (= ``paid`` in exclusive mode);
    ``cost``: extended cost from the catalog, None when unknown (``unknown`` says which part).
    """

    n: int
    sku: str
    category: str | None
    list_amount: Decimal
    paid: Decimal
    kept: Decimal
    cost: Decimal | None
    unknown: tuple[str, ...] = ()
    parts: tuple[str | None, ...] = ()   # a bundle's added/chosen optional components' categories, judged as well

    @property
    def reduction(self) -> Decimal:
        """Percent taken off list, however it was expressed."""
        return (self.list_amount - self.paid) / self.list_amount * HUNDRED if self.list_amount > 0 else Decimal(0)

    @property
    def margin(self) -> Decimal | None:
        return margin(self.kept, self.cost)


def ranks(settings: Any) -> list[str]:
    """Roles from least to most authority (``discount_policy.authority`` order)."""
    return [str(r) for r in (settings.get("discount_policy.authority", {}) or {})]


def rank(settings: Any, role: str | None) -> int:
    order = ranks(settings)
    return order.index(role) if role in order else -1


def authority(settings: Any, role: str, category: str | None) -> Decimal:
    table = settings.get(f"discount_policy.authority.{role}", {}) or {}
    key = category if category in table else "default"
    return Decimal(read(settings, f"discount_policy.authority.{role}.{key}", 0))


def margin(kept: Decimal, cost: Decimal | None) -> Decimal | None:
    """Margin over cost as a percent of what the seller keeps (net ex tax), or None when cost is unknown."""
    if cost is None or kept <= 0:
        return None
    return (kept - cost) / kept * HUNDRED


def level(settings: Any, category: str | None, reduction: Decimal, margin_pct: Decimal | None,
          cost_known: bool = True) -> tuple[int, list[str], list[str]]:
    """The policy for one line: (rank index of the role needed, reasons, beyond-authority reasons).

    ``reduction`` is percent off list; ``margin_pct`` percent of net ex tax.
    Unknown cost needs what a margin below the floor needs.
    """
    order = ranks(settings)
    needed, reasons, beyond = 0, [], []
    min_margin = Decimal(read(settings, "discount_policy.min_margin_percent", 0))
    margin_role = str(settings.get("discount_policy.margin_approver", order[-1] if order else "director"))
    if reduction > 0:
        fits = [i for i, role in enumerate(order) if authority(settings, role, category) >= reduction]
        if not fits:
            beyond.append(f"{percent_points(reduction)}% off list is beyond every role's authority "
                          f"(at most {percent_points(authority(settings, order[-1], category))}% for {category or 'default'})")
        elif fits[0] > 0:
            needed = fits[0]
            reasons.append(f"{percent_points(reduction)}% off list needs {a_an(order[fits[0]])}")
    if not cost_known:
        needed = max(needed, rank(settings, margin_role))
        reasons.append(f"cost unknown, needs {a_an(margin_role)}")
    elif margin_pct is not None and margin_pct < min_margin:
        needed = max(needed, rank(settings, margin_role))
        reasons.append(f"margin {percent_points(margin_pct)}% ex tax is below the {percent_points(min_margin)}% minimum, "
                       f"needs {a_an(margin_role)}")
    return needed, reasons, beyond


def exemption_approver(settings: Any) -> str:
    """The role a quote's own tax exemption needs (``discount_policy.tax_exempt_approver``, default the margin
    approver): no tax is as much less for the customer to pay as a discount, and a compliance question besides."""
    order = ranks(settings)
    fallback = str(settings.get("discount_policy.margin_approver", order[-1] if order else "director"))
    return str(settings.get("discount_policy.tax_exempt_approver", fallback) or fallback)


def requirement(lines: list[Judged], settings: Any, exemption: str | None = None) -> Requirement:
    """The lowest role that may approve these judged lines (and ``exemption``: the quote's own tax exemption
    for an account that is not exempt, see :func:`exemption_approver`)."""
    order = ranks(settings)
    needed, reasons, beyond = 0, [], []
    if exemption:
        role = exemption_approver(settings)
        needed = max(needed, rank(settings, role))
        reasons.append(f"no tax ({exemption!r}) for an account that is not tax-exempt needs {a_an(role)}")
    for line in lines:
        what = f"line {line.n} ({line.sku})"
        unknown = ", ".join(line.unknown) or "product"
        got, why, over = level(settings, line.category, line.reduction, line.margin, line.cost is not None)
        for part in (p for p in line.parts if p != line.category):   # the same reduction, each part's own authority
            more, part_why, part_over = level(settings, part, line.reduction, None)
            if more > got:
                got, why = more, [*why, *(f"{r} ({part} in the bundle)" for r in part_why)]
            over += [f"{r} ({part} in the bundle)" for r in part_over if r not in over]
        needed = max(needed, got)
        reasons += [f"{what}: {r.replace('cost unknown', f'cost unknown ({unknown} has no cost)')}" for r in why]
        beyond += [f"{what}: {r}" for r in over]
    return Requirement(order[needed] if order else "rep", tuple(reasons), tuple(beyond))


def may_approve(settings: Any, role: str | None, needed: str) -> bool:
    return rank(settings, role) >= rank(settings, needed) >= 0


def signed_fields(quote: Mapping[str, Any], legacy: bool = False) -> dict[str, Any]:
    """Everything an approval covers, field by field (``line 2 cost``: one line's one field), in canonical form
    (:func:`canonical`: numbers by value, dates as dates): every field but :data:`UNSIGNED_FIELDS`
    (``legacy``: only :data:`SIGNED_FIELDS`, for approvals made before)."""
    keys = SIGNED_FIELDS if legacy else sorted(str(k) for k in quote if k not in UNSIGNED_FIELDS and k != "lines")
    return _fields(quote, keys, canonical)


def _fields(quote: Mapping[str, Any], keys: Any, form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {k: form(k, quote.get(k)) for k in keys}
    lines = [dict(line) for line in quote.get("lines") or [] if isinstance(line, Mapping)]
    out["lines"] = len(lines)
    for n, line in enumerate(lines, 1):
        for key, value in line.items():
            out[f"line {n} {key}"] = form(str(key), value)
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}


def canonical(key: str, value: Any) -> Any:
    """``value`` of field ``key`` as the approval hashes it: the same meaning always gives the same form.

    A number under a :data:`NUMBER_KEYS` key is its normalized Decimal text
    (``12000``, ``"12000.0"``, ``"1.2E+4"`` -> ``"12000"``); a date under
    :data:`DATE_KEYS` is ISO ``YYYY-MM-DD``; other scalars are their text
    (a YAML ``2026`` and ``"2026"`` print alike); mappings and lists recurse.
    A value that is not a number where one belongs is kept as written (and
    so any edit of it stales the approval).
    """
    if isinstance(value, Mapping):
        if key in NUMBER_MAPS:
            return {_number(k): canonical("amount", v) for k, v in value.items()}
        if key in AMOUNT_MAPS:
            return {str(k): canonical("amount", v) for k, v in value.items()}
        return {str(k): canonical(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(key, v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if key in NUMBER_KEYS:
        return _number(value)
    if key in DATE_KEYS:
        try:
            return _dt.date.fromisoformat(str(value).strip()[:10]).isoformat() if len(str(value).strip()) == 10 else str(value)
        except ValueError:
            return str(value)
    return str(value)


def _number(value: Any) -> str:
    """A number's value as text (``"12000.00"`` -> ``"12000"``, ``"-0"`` -> ``"0"``); not a number: its text."""
    text = str(value).strip()
    try:
        if "_" in text:   # Python reads 1_000; our files do not (crmctl.core.money.to_decimal)
            raise InvalidOperation
        number = Decimal(text)
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    return "0" if number == 0 else f"{number.normalize():f}"


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _as_written(quote: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy fields as written (no canonical form): how approvals made before hashing by value were hashed."""
    return _fields(quote, SIGNED_FIELDS, lambda _key, value: value)


def digest_of(value: Any) -> str:
    """SHA-256 of any value's canonical JSON (as an approval hashes a field): e.g. a sent quote's ``as_sent``."""
    return _digest(canonical("", value))


def content_hash(quote: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of everything an approval made today covers (:func:`signed_fields`)."""
    return _digest(signed_fields(quote))


def field_digests(quote: Mapping[str, Any]) -> dict[str, str]:
    """One short digest per covered field, stored with an approval so a stale one can say what changed."""
    return {k: _digest(v)[:16] for k, v in signed_fields(quote).items()}


def _now_forms(quote: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The quote's covered fields in every form its approval may have hashed: every field by value for an
    approval that ``covers: all``; else (made before) the legacy fields by value, or as written."""
    if (quote.get("approval") or {}).get("covers") == COVERS_ALL:
        return [signed_fields(quote)]
    return [signed_fields(quote, legacy=True), _as_written(quote)]


# fields every quote had when approvals covered only SIGNED_FIELDS (``total`` repeats ``totals.total``)
LEGACY_IMPLIED = frozenset({"version", "total", "lines"})


def uncovered(quote: Mapping[str, Any]) -> list[str]:
    """Fields a legacy approval (made before every field was covered) cannot vouch for: set on the quote today but
    outside :data:`SIGNED_FIELDS` — Incoterms, an English form of the terms or notes, ``groups_en``... Such an
    approval is stale while one is set, whenever it was added (empty for an approval that ``covers: all``)."""
    if (quote.get("approval") or {}).get("covers") == COVERS_ALL:
        return []
    known = UNSIGNED_FIELDS | LEGACY_IMPLIED | set(SIGNED_FIELDS)
    return sorted(str(k) for k, v in quote.items() if k not in known and v not in (None, "", [], {}))


def changed_fields(quote: Mapping[str, Any]) -> list[str]:
    """The covered fields that differ from what was approved (empty when unknown or unchanged), and the fields
    the approval could not cover (:func:`uncovered`)."""
    before = (quote.get("approval") or {}).get("fields") or {}
    if not before:
        return []
    forms = [{k: _digest(v)[:16] for k, v in form.items()} for form in _now_forms(quote)]
    keys = set(before).union(*forms)
    return sorted({k for k in keys if before.get(k) not in [form.get(k) for form in forms]} | set(uncovered(quote)))


def approval_state(quote: Mapping[str, Any]) -> ApprovalState:
    """``missing``, ``stale`` (content changed since) or ``valid``."""
    approval = quote.get("approval") or {}
    if approval.get("status") != ApprovalStatus.APPROVED:
        return ApprovalState.MISSING
    return ApprovalState.VALID if covers(quote, approval.get("hash")) else ApprovalState.STALE


def covers(quote: Mapping[str, Any], stored: Any) -> bool:
    """Whether a stored approval (or submission) hash is that of the quote's content today (and, for a legacy
    approval, no field it could not cover is set: :func:`uncovered`)."""
    return stored in [_digest(form) for form in _now_forms(quote)] and not uncovered(quote)


def approval_record(**fields: Any) -> dict[str, Any]:
    """An ``approval`` map as submit and approve write it: what it says, and that it covers every field."""
    return {**fields, "covers": COVERS_ALL}
