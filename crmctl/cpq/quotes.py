"""Quotes: lines, pricing, the status machine, approvals, versions, sending and accepting.

Each function takes a quote's data (and the book to look prices up) and
returns new data; the CLI writes it inside a transaction. A quote is one
record; earlier versions are frozen copies of the priced content in its
``versions`` list, so ``quote show Q --version 1`` reads them and every
version shares the quote's one document number.

Status: draft -> pending_approval -> approved -> sent -> accepted / declined;
``expired`` is computed on read once ``valid_until`` has passed.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Mapping

from crmctl.core.book import Book, Record, now_iso
from crmctl.core.errors import NotFound, PolicyError, ValidationError
from crmctl.core.money import money_str, parse_percent, to_decimal
from crmctl.cpq import catalog, policy
from crmctl.cpq.configure import as_list, quantity_problems
from crmctl.cpq.pricing import quote_totals, tax_rules

OPEN = ("draft", "pending_approval", "approved", "rejected", "sent")
EDITABLE = ("draft", "pending_approval", "approved", "rejected")
# what a version freezes (and `revise` copies into `versions`)
VERSIONED = ("version", "status", "date", "valid_until", "lines", "discount", "fees", "payment_terms", "notes",
             "totals", "total", "approval", "pricebook", "currency", "lang", "sent_at")


def status(data: Mapping[str, Any], today: _dt.date) -> str:
    """The stored status, or ``expired`` for an open quote past ``valid_until``."""
    stored = str(data.get("status", "draft"))
    until = data.get("valid_until")
    if stored in OPEN and until and today > _dt.date.fromisoformat(str(until)):
        return "expired"
    return stored


def ensure_editable(data: Mapping[str, Any], today: _dt.date) -> None:
    now = status(data, today)
    if now not in EDITABLE:
        raise PolicyError(f"quote is {now}: it can no longer be changed; `crmctl quote revise` makes a new version to edit")


def new_quote(book: Book, *, opportunity: Record | None, account: Record, owner: str | None, day: _dt.date,
              currency: str | None = None, pricebook: str | None = None, lang: str | None = None,
              contact: str | None = None) -> dict[str, Any]:
    """A new draft's data: account, contact, currency and price book from the opportunity and settings."""
    settings = book.settings
    opp = opportunity.data if opportunity else {}
    cur = currency or opp.get("currency")
    chosen = catalog.choose_pricebook(book, account, day, cur, pricebook)
    cur = cur or (str(chosen.get("currency")) if chosen else settings.currency)
    if chosen is not None and str(chosen.get("currency")) != cur:
        raise PolicyError(f"price book {chosen.id} is in {chosen.get('currency')}, the quote in {cur}; choose a {cur} --pricebook")
    contacts = as_list(opp.get("contacts"))
    lang = lang or ("zh-CN" if str(settings.get("locale", "zh_CN")).startswith("zh") and cur == "CNY" else "en")
    days = int(settings.get("quotes.validity_days", 30))
    data = {
        "title": str(opp.get("name") or account.get("name")), "version": 1,
        "opportunity": opportunity.id if opportunity else None, "account": account.id,
        "contact": contact or (contacts[0] if contacts else None), "owner": owner or opp.get("owner") or account.get("owner"),
        "status": "draft", "currency": cur, "pricebook": chosen.id if chosen else None, "date": day.isoformat(),
        "valid_until": (day + _dt.timedelta(days=days)).isoformat(), "lang": lang,
        "payment_terms": str(settings.get("quotes.payment_terms_zh" if lang == "zh-CN" else "quotes.payment_terms", "")) or None,
        "lines": [], "created": now_iso(settings),
    }
    return reprice(book, data)


def _pricebook(book: Book, data: Mapping[str, Any]) -> Record | None:
    ref = data.get("pricebook")
    return book.records("pricebooks").get(str(ref)) if ref else None


def price_line_of(book: Book, data: Mapping[str, Any], line: Mapping[str, Any]) -> catalog.Priced:
    """Price one stored line with today's catalog and the quote's price book."""
    choices = {g: as_list(v) for g, v in (line.get("options") or {}).items()}
    discount = parse_percent(line.get("discount") or 0)
    return catalog.price_sku(book, str(line.get("sku")), choices, int(line.get("qty") or 0), str(data["currency"]),
                             _pricebook(book, data), discount)


def priced_line(priced: catalog.Priced, line: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a line: what was asked, and what it came to."""
    cur, p = priced.line.currency, priced.line
    out = {
        "sku": p.sku, "name": priced.product.get("name"), "name_zh": priced.product.get("name_zh"),
        # a single choice is written as one value, as a person would write it by hand
        "options": {g: (v[0] if _single(priced.product.data, g) else v) for g, v in priced.config.selected.items()} or None,
        "qty": p.qty, "discount": str(p.discount) if p.discount else None, "group": line.get("group"),
        "unit": priced.product.get("unit"), "unit_price": money_str(p.unit_price, cur), "gross": money_str(p.gross, cur),
        "net": money_str(p.net, cur), "tax_rate": str(p.tax_rate),
        "cost": money_str(p.cost, cur) if p.cost is not None else None,
    }
    return {k: v for k, v in out.items() if v is not None}


def _single(product: Mapping[str, Any], gid: str) -> bool:
    return any(str(g.get("id")) == gid and g.get("choice", "single") == "single" for g in product.get("option_groups") or [])


def reprice(book: Book, data: Mapping[str, Any]) -> dict[str, Any]:
    """Price every line with current rules and recompute totals (drafts only; sent quotes stay frozen)."""
    out = dict(data)
    lines = []
    for n, line in enumerate(data.get("lines") or [], 1):
        priced = price_line_of(book, data, line)
        if priced.problems:
            raise ValidationError(f"line {n}: " + "; ".join(priced.problems))
        lines.append(priced_line(priced, line))
    out["lines"] = lines
    return with_totals(book, out)


def with_totals(book: Book, data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    cur = str(data["currency"])
    t = quote_totals(list(data.get("lines") or []), to_decimal(data.get("discount") or 0), list(data.get("fees") or []),
                     cur, tax_rules(book.settings))
    out["totals"] = _strings(t, cur)
    out["total"] = out["totals"]["total"]
    return out


def _strings(totals: Mapping[str, Any], cur: str) -> dict[str, Any]:
    def s(v: Any) -> Any:
        return money_str(v, cur) if isinstance(v, Decimal) else {k: s(x) for k, x in v.items()} if isinstance(v, dict) else v
    out = {k: s(v) for k, v in totals.items() if k not in ("currency", "discount_percent")}
    out["discount_percent"] = str(totals["discount_percent"])
    return out


def add_line(book: Book, data: Mapping[str, Any], sku: str, choices: Mapping[str, list[str]], qty: int,
             discount: str | None, group: str | None, today: _dt.date) -> dict[str, Any]:
    """A copy of the quote with one more line; an invalid configuration is refused with every reason."""
    ensure_editable(data, today)
    line = {"sku": sku.strip().lower(), "options": {g: list(v) for g, v in choices.items()}, "qty": qty,
            "discount": str(parse_percent(discount)) if discount else None, "group": group}
    priced = price_line_of(book, data, line)
    if priced.problems:
        raise ValidationError(f"{sku}: invalid configuration: " + "; ".join(priced.problems))
    out = dict(data)
    out["lines"] = [*(data.get("lines") or []), priced_line(priced, line)]
    _within_any_authority(book, out["lines"], to_decimal(data.get("discount") or 0))
    return with_totals(book, out)


def remove_line(book: Book, data: Mapping[str, Any], number: int, today: _dt.date) -> dict[str, Any]:
    ensure_editable(data, today)
    lines = list(data.get("lines") or [])
    if not 1 <= number <= len(lines):
        raise ValidationError(f"line {number}: the quote has lines 1 to {len(lines)}" if lines else "the quote has no lines")
    out = dict(data)
    out["lines"] = lines[: number - 1] + lines[number:]
    return with_totals(book, out)


def edit(book: Book, data: Mapping[str, Any], changes: Mapping[str, Any], today: _dt.date) -> dict[str, Any]:
    """Quote-level fields: discount, fees, payment terms, notes, title, validity, contact, language."""
    ensure_editable(data, today)
    out = {**data, **changes}
    if "discount" in changes and changes["discount"] is not None:
        out["discount"] = str(parse_percent(changes["discount"], "--discount")) if changes["discount"] != "0" else None
        _within_any_authority(book, list(out.get("lines") or []), to_decimal(out.get("discount") or 0))
    return with_totals(book, out)


def parse_fee(text: str) -> dict[str, Any]:
    """``"Shipping=3500"`` or ``"运费=3500"`` -> a fee."""
    name, sep, amount = text.rpartition("=")
    if not sep or not name.strip():
        raise ValidationError(f"--fee {text!r}: write NAME=AMOUNT (e.g. Shipping=3500)")
    return {"name": name.strip(), "amount": str(to_decimal(amount, f"fee {name.strip()}"))}


def categories(book: Book, lines: list[Mapping[str, Any]]) -> dict[str, str | None]:
    products = book.records("products")
    return {str(l.get("sku")): (products[str(l["sku"])].get("category") if str(l.get("sku")) in products else None)
            for l in lines}


def requirement(book: Book, data: Mapping[str, Any]) -> policy.Requirement:
    lines = list(data.get("lines") or [])
    return policy.requirement(lines, to_decimal(data.get("discount") or 0), categories(book, lines), book.settings)


def _within_any_authority(book: Book, lines: list[Mapping[str, Any]], quote_discount: Decimal) -> None:
    need = policy.requirement(lines, quote_discount, categories(book, lines), book.settings)
    if need.beyond:
        raise PolicyError("; ".join(need.beyond) + "; lower the discount")


def quote_problems(book: Book, data: Mapping[str, Any]) -> list[str]:
    """What stops the quote going to a customer: no lines, quote-wide quantity rules."""
    lines = list(data.get("lines") or [])
    if not lines:
        return ["the quote has no lines; add some with `crmctl quote add-line`"]
    return quantity_problems(lines, {k: r.data for k, r in book.records("products").items()})


def _event(action: str, actor: Record, at: str, **more: Any) -> dict[str, Any]:
    return {"action": action, "by": actor.id, "role": actor.get("role"), "at": at, **{k: v for k, v in more.items() if v}}


def submit(book: Book, data: Mapping[str, Any], actor: Record, today: _dt.date) -> tuple[dict[str, Any], str]:
    """Work out the approval needed: approve at once within the submitter's authority, else ask."""
    ensure_editable(data, today)
    problems = quote_problems(book, data)
    if problems:
        raise PolicyError("cannot submit: " + "; ".join(problems))
    out = reprice(book, data)   # approve what today's rules say, not a stale snapshot
    need = requirement(book, out)
    if need.beyond:
        raise PolicyError("; ".join(need.beyond) + "; lower the discount")
    at = now_iso(book.settings)
    digest = policy.content_hash(out)
    history = list(out.get("approvals") or [])
    if policy.may_approve(book.settings, actor.get("role"), need.role):
        out["approval"] = {"status": "approved", "required_role": need.role, "by": actor.id, "role": actor.get("role"),
                           "at": at, "hash": digest, "auto": True}
        out["approvals"] = [*history, _event("approved", actor, at, hash=digest, note="within the submitter's authority")]
        out["status"] = "approved"
        return out, f"approved: within {actor.id}'s authority ({actor.get('role')})"
    out["approval"] = {"status": "pending", "required_role": need.role, "requested_by": actor.id, "requested_at": at,
                       "hash": digest, "reasons": list(need.reasons)}
    out["approvals"] = [*history, _event("submitted", actor, at, hash=digest, needs=need.role)]
    out["status"] = "pending_approval"
    return out, f"pending approval by a {need.role}: " + "; ".join(need.reasons)


def decide(book: Book, data: Mapping[str, Any], actor: Record, approve: bool, reason: str | None,
           today: _dt.date) -> dict[str, Any]:
    """Approve or reject a pending quote — only a user whose role may approve what it needs."""
    now = status(data, today)
    if now != "pending_approval":
        raise PolicyError(f"quote is {now}, not pending_approval; `crmctl quote submit` it first")
    approval = dict(data.get("approval") or {})
    need = requirement(book, data)   # from the content, never trusting what the file says
    if not policy.may_approve(book.settings, actor.get("role"), need.role):
        raise PolicyError(f"{actor.id} ({actor.get('role')}) may not {'approve' if approve else 'reject'} this quote: "
                          f"it needs a {need.role} ({'; '.join(need.reasons) or 'policy'})")
    digest = policy.content_hash(data)
    if approval.get("hash") != digest:
        raise PolicyError("the quote changed since it was submitted; `crmctl quote submit` it again")
    at = now_iso(book.settings)
    out = dict(data)
    if approve:
        out["approval"] = {"status": "approved", "required_role": need.role, "by": actor.id, "role": actor.get("role"),
                           "at": at, "hash": digest, "requested_by": approval.get("requested_by")}
        out["status"] = "approved"
    else:
        out["approval"] = {**approval, "status": "rejected", "by": actor.id, "at": at, "reason": reason}
        out["status"] = "rejected"
    out["approvals"] = [*(data.get("approvals") or []),
                        _event("approved" if approve else "rejected", actor, at, hash=digest, reason=reason)]
    return out


def require_valid_approval(book: Book, data: Mapping[str, Any], doing: str) -> None:
    state = policy.approval_state(data)
    if state == "missing":
        raise PolicyError(f"cannot {doing}: the quote has no approval; `crmctl quote submit` it first")
    if state == "stale":
        raise PolicyError(f"cannot {doing}: the approval is stale (lines, prices or discounts changed since "
                          f"{(data.get('approval') or {}).get('at')}); `crmctl quote submit` it again")
    need = requirement(book, data)
    approver = book.records("users").get(str((data.get("approval") or {}).get("by")))
    if need.beyond or approver is None or not policy.may_approve(book.settings, approver.get("role"), need.role):
        raise PolicyError(f"cannot {doing}: the approval does not cover the discount (needs a {need.role}); submit it again")


def send(book: Book, data: Mapping[str, Any], actor: Record, today: _dt.date) -> dict[str, Any]:
    """Give the document number and freeze the priced lines (status sent)."""
    now = status(data, today)
    if now != "approved":
        raise PolicyError(f"cannot send a {now} quote; it must be approved first (`crmctl quote submit`)")
    require_valid_approval(book, data, "send")
    out = dict(data)
    if not out.get("number"):
        fmt = str(book.settings.get("quotes.number_format", "QT-{year}-{seq:04d}"))
        out["number"] = book.next_number("quotes", fmt, today.year)
    at = now_iso(book.settings)
    out["status"], out["sent_at"] = "sent", at
    out["status_history"] = [*(data.get("status_history") or []), _event("sent", actor, at)]
    return out


def accept(book: Book, qid: str, data: Mapping[str, Any], actor: Record, today: _dt.date
           ) -> tuple[dict[str, Any], tuple[str, dict[str, Any]], dict[str, Any] | None]:
    """The accepted quote, the new order (id, data) and the won opportunity's data (or None)."""
    from crmctl.l2c.orders import build_order
    from crmctl.l2c.pipeline import win

    now = status(data, today)
    if now != "sent":
        raise PolicyError(f"cannot accept a {now} quote" + ("; it passed its valid_until date — revise it" if now == "expired"
                                                          else "; only a sent quote can be accepted"))
    require_valid_approval(book, data, "accept")
    at = now_iso(book.settings)
    order_lines = [{k: line.get(k) for k in ("sku", "name", "options", "qty", "unit_price", "discount", "net", "tax_rate", "group")
                    if line.get(k) is not None} for line in data.get("lines") or []]
    order = build_order(book, account=str(data["account"]), currency=str(data["currency"]),
                        total=to_decimal(data["total"]), lines=order_lines, day=today,
                        opportunity=data.get("opportunity"), quote=qid, owner=data.get("owner"))
    out = dict(data)
    out["status"], out["order"] = "accepted", order[0]
    out["status_history"] = [*(data.get("status_history") or []), _event("accepted", actor, at, order=order[0])]
    opp = None
    if data.get("opportunity") and book.settings.get("pipeline.win_on_quote_accept", True):
        rec = book.records("opportunities").get(str(data["opportunity"]))
        if rec is not None and rec.get("stage") != "won":
            opp = win(dict(rec.data), actor.id, at, book.settings)
            opp["amount"] = data["total"]
    return out, order, opp


def decline(data: Mapping[str, Any], actor: Record, reason: str, at: str, today: _dt.date) -> dict[str, Any]:
    now = status(data, today)
    if now not in ("sent", "approved", "expired"):
        raise PolicyError(f"cannot decline a {now} quote; only a sent quote is declined by the customer")
    out = dict(data)
    out["status"], out["decline_reason"] = "declined", reason
    out["status_history"] = [*(data.get("status_history") or []), _event("declined", actor, at, reason=reason)]
    return out


def revise(book: Book, data: Mapping[str, Any], actor: Record, today: _dt.date) -> dict[str, Any]:
    """Freeze the current version into ``versions`` and start the next one as a draft."""
    now = status(data, today)
    if now == "accepted":
        raise PolicyError("an accepted quote cannot be revised; make a new quote")
    frozen = {k: data.get(k) for k in VERSIONED if data.get(k) is not None}
    frozen["status"] = now
    out = dict(data)
    out["versions"] = [*(data.get("versions") or []), frozen]
    out["version"] = int(data.get("version") or 1) + 1
    days = int(book.settings.get("quotes.validity_days", 30))
    out.update(status="draft", date=today.isoformat(), valid_until=(today + _dt.timedelta(days=days)).isoformat(),
               approval=None, sent_at=None, decline_reason=None)
    out["status_history"] = [*(data.get("status_history") or []), _event("revised", actor, now_iso(book.settings),
                                                                         note=f"v{out['version']}")]
    return reprice(book, out)


def version(data: Mapping[str, Any], number: int | None) -> dict[str, Any]:
    """The quote as it was in version ``number`` (the current one when None)."""
    current = int(data.get("version") or 1)
    if number is None or number == current:
        return dict(data)
    for frozen in data.get("versions") or []:
        if int(frozen.get("version") or 0) == number:
            return {**data, **frozen, "versions": data.get("versions")}
    raise NotFound(f"quote has versions 1 to {current}; there is no version {number}")


def verify(book: Book, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Re-price the frozen lines with today's rules; one row per difference."""
    diffs = []
    cur = str(data["currency"])
    for n, line in enumerate(data.get("lines") or [], 1):
        try:
            priced = price_line_of(book, data, line)
        except (NotFound, PolicyError, ValidationError) as exc:
            diffs.append({"line": str(n), "sku": str(line.get("sku")), "field": "line", "quoted": "", "today": str(exc)})
            continue
        fresh = priced_line(priced, line)
        for key in ("unit_price", "gross", "net", "tax_rate"):
            if str(line.get(key)) != str(fresh.get(key)):
                diffs.append({"line": str(n), "sku": str(line.get("sku")), "field": key,
                              "quoted": str(line.get(key)), "today": str(fresh.get(key))})
        for problem in priced.problems:
            diffs.append({"line": str(n), "sku": str(line.get("sku")), "field": "configuration", "quoted": "valid", "today": problem})
    if not diffs:
        fresh_total = with_totals(book, data)["total"]
        if fresh_total != data.get("total"):
            diffs.append({"line": "", "sku": "", "field": "total", "quoted": str(data.get("total")), "today": fresh_total})
    elif all(d["field"] in ("unit_price", "gross", "net", "tax_rate") for d in diffs):
        try:
            repriced = reprice(book, data)
            diffs.append({"line": "", "sku": "", "field": "total", "quoted": str(data.get("total")),
                          "today": money_str(to_decimal(repriced["total"]), cur)})
        except (PolicyError, ValidationError):
            pass
    return diffs


def suggest(book: Book, data: Mapping[str, Any], limit: int = 10) -> list[dict[str, Any]]:
    """Cross-sell: the catalog's related products, then products often bought together in past orders."""
    products = book.records("products")
    have = {str(l.get("sku")) for l in data.get("lines") or []}
    rows: dict[str, dict[str, Any]] = {}
    for sku in sorted(have):
        for rel in (products[sku].get("related") or []) if sku in products else []:
            target = str(rel.get("sku"))
            if target not in have and target in products and target not in rows:
                reason = rel.get("reason_zh") if str(data.get("lang")) == "zh-CN" and rel.get("reason_zh") else rel.get("reason")
                rows[target] = {"sku": target, "name": products[target].get("name"), "kind": rel.get("kind", "cross_sell"),
                                "because": sku, "reason": reason or "", "orders": 0}
    together: dict[str, int] = {}
    for order in book.all("orders"):
        skus = {str(l.get("sku")) for l in order.get("lines") or [] if isinstance(l, dict)}
        if skus & have:
            for sku in skus - have:
                together[sku] = together.get(sku, 0) + 1
    for sku, count in sorted(together.items(), key=lambda kv: (-kv[1], kv[0])):
        if sku in rows:
            rows[sku]["orders"] = count
        elif sku in products and products[sku].get("active") is not False:
            rows[sku] = {"sku": sku, "name": products[sku].get("name"), "kind": "bought_together", "because": "past orders",
                         "reason": f"in {count} past order(s) with this quote's products", "orders": count}
    return list(rows.values())[:limit]


def renumber(book: Book, data: Mapping[str, Any], today: _dt.date) -> dict[str, Any]:
    """A fresh document number (for a duplicate a merge brought in)."""
    if not data.get("number"):
        raise PolicyError("the quote has no number yet; it gets one when sent")
    fmt = str(book.settings.get("quotes.number_format", "QT-{year}-{seq:04d}"))
    year = _dt.date.fromisoformat(str(data.get("sent_at") or data.get("date") or today)[:10]).year
    out = dict(data)
    out["number"] = book.next_number("quotes", fmt, year)
    return out
