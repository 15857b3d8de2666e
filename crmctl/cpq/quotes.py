"""Quotes: lines, pricing, totals, editing and versions.

Each function takes a quote's data (and the book to look prices up) and
returns new data; the CLI writes it inside a transaction. Approvals, sending
and accepting are in :mod:`crmctl.cpq.lifecycle`; verify and suggest in
:mod:`crmctl.cpq.review`. A quote is one
record; earlier versions are frozen copies of the priced content in its
``versions`` list, so ``quote show Q --version 1`` reads them and every
version shares the quote's one document number.

Statuses (draft -> pending_approval -> approved -> sent -> accepted / declined,
and the computed ``expired``) are defined in :mod:`crmctl.core.states`
(``QuoteStatus``, ``quote_status``). Nothing here reads the clock: the day or a
:class:`~crmctl.core.clock.Clock` is passed in.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.clock import Clock
from crmctl.core.errors import NotFound, PolicyError, ValidationError
from crmctl.core.money import money_str, percent_points, to_decimal
from crmctl.core.numbers import book_format, parse_amount, parse_percent
from crmctl.core.settings import Settings
from crmctl.core.states import QuoteStatus, quote_is_editable, quote_status
from crmctl.cpq import catalog, policy
from crmctl.cpq.configure import as_list, quantity_problems
from crmctl.cpq.pricing import quote_totals, tax_rules

# what a version freezes (and `revise` copies into `versions`)
VERSIONED = ("version", "status", "date", "valid_until", "lines", "discount", "fees", "payment_terms", "notes",
             "totals", "total", "approval", "pricebook", "currency", "lang", "sent_at")


def ensure_editable(data: Mapping[str, Any], today: _dt.date) -> None:
    if not quote_is_editable(data, today):
        now = quote_status(data, today)
        raise PolicyError(f"quote is {now}: it can no longer be changed; `crmctl quote revise` makes a new version to edit")


def new_quote(book: Book, *, opportunity: Record | None, account: Record, owner: str | None, clock: Clock,
              currency: str | None = None, pricebook: str | None = None, lang: str | None = None,
              contact: str | None = None) -> dict[str, Any]:
    """A new draft's data: account, contact, currency and price book from the opportunity and settings."""
    settings, day = book.settings, clock.today
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
        "status": QuoteStatus.DRAFT.value, "currency": cur, "pricebook": chosen.id if chosen else None, "date": day.isoformat(),
        "valid_until": (day + _dt.timedelta(days=days)).isoformat(), "lang": lang,
        "payment_terms": str(settings.get("quotes.payment_terms_zh" if lang == "zh-CN" else "quotes.payment_terms", "")) or None,
        "lines": [], "created": clock.at,
    }
    return reprice(book, data)


def _pricebook(book: Book, data: Mapping[str, Any]) -> Record | None:
    ref = data.get("pricebook")
    return book.records("pricebooks").get(str(ref)) if ref else None


def price_line_of(book: Book, data: Mapping[str, Any], line: Mapping[str, Any]) -> catalog.Priced:
    """Price one stored line with today's catalog and the quote's price book."""
    choices = {g: as_list(v) for g, v in (line.get("options") or {}).items()}
    discount = percent_points(line.get("discount") or 0)
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
    """A copy of the quote with one more line; an invalid configuration is refused with every reason.

    ``discount`` is the text typed after ``--discount`` (``"5%"``, ``"2,5"`` in a decimal-comma book).
    """
    ensure_editable(data, today)
    pct = parse_percent(discount, fmt=book_format(book.settings), field="--discount") if discount else None
    line = {"sku": sku.strip().lower(), "options": {g: list(v) for g, v in choices.items()}, "qty": qty,
            "discount": str(pct) if pct else None, "group": group}
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
    """Quote-level fields: discount, fees, payment terms (and their English form), notes, title, validity, contact,
    language, Incoterms (refused unless an Incoterms 2020 rule and place)."""
    ensure_editable(data, today)
    out = {**data, **changes}
    if changes.get("incoterms"):
        problem = incoterms_problem(str(changes["incoterms"]))
        if problem:
            raise ValidationError("--" + problem)
    if "discount" in changes and changes["discount"] is not None:
        pct = parse_percent(changes["discount"], fmt=book_format(book.settings), field="--discount")
        out["discount"] = str(pct) if pct else None
        _within_any_authority(book, list(out.get("lines") or []), to_decimal(out.get("discount") or 0))
    return with_totals(book, out)


# Incoterms 2020: rules for any mode of transport, then sea and inland waterway (ICC)
INCOTERMS_2020 = ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF")


def incoterms_problem(text: str) -> str | None:
    """Why ``text`` is not an Incoterms 2020 rule and named place (``FOB Shanghai``, ``CIF Hamburg``), or None.

    Every rule names its place, except EXW, whose place is the seller's premises.
    """
    code, _, place = text.strip().partition(" ")
    if code.upper() not in INCOTERMS_2020:
        return f"incoterms {text!r}: start with an Incoterms 2020 rule ({', '.join(INCOTERMS_2020)}), e.g. 'FOB Shanghai'"
    if code != code.upper():
        return f"incoterms {text!r}: write the rule in capitals ({code.upper()})"
    if not place.strip() and code != "EXW":
        return f"incoterms {text!r}: name the place after {code}, e.g. '{code} Shanghai'"
    return None


def parse_fee(text: str, currency: str, settings: Settings) -> dict[str, Any]:
    """``"Shipping=3500"`` or ``"运费=3500"`` -> a fee in the quote's ``currency`` (``"3500.00"``).

    Negative fees are still read here; whether they may lower the price is the discount policy's call.
    """
    name, sep, amount = text.rpartition("=")
    if not sep or not name.strip():
        raise ValidationError(f"--fee {text!r}: write NAME=AMOUNT (e.g. Shipping=3500)")
    value = parse_amount(amount, currency=currency, fmt=book_format(settings), field=f"--fee {name.strip()}",
                         allow_negative=True)
    return {"name": name.strip(), "amount": money_str(value, currency)}


def categories(book: Book, lines: list[Mapping[str, Any]]) -> dict[str, str | None]:
    products = book.records("products")
    return {str(l.get("sku")): (products[str(l["sku"])].get("category") if str(l.get("sku")) in products else None)
            for l in lines}


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


def event(action: str, actor: Record, at: str, **more: Any) -> dict[str, Any]:
    """One entry of an append-only history: what, who (and their role), when."""
    return {"action": action, "by": actor.id, "role": actor.get("role"), "at": at, **{k: v for k, v in more.items() if v}}


def revise(book: Book, data: Mapping[str, Any], actor: Record, clock: Clock) -> dict[str, Any]:
    """Freeze the current version into ``versions`` and start the next one as a draft."""
    today = clock.today
    now = quote_status(data, today)
    if now == QuoteStatus.ACCEPTED:
        raise PolicyError("an accepted quote cannot be revised; make a new quote")
    frozen = {k: data.get(k) for k in VERSIONED if data.get(k) is not None}
    frozen["status"] = str(now)
    out = dict(data)
    out["versions"] = [*(data.get("versions") or []), frozen]
    out["version"] = int(data.get("version") or 1) + 1
    days = int(book.settings.get("quotes.validity_days", 30))
    out.update(status=QuoteStatus.DRAFT.value, date=today.isoformat(), valid_until=(today + _dt.timedelta(days=days)).isoformat(),
               approval=None, sent_at=None, decline_reason=None)
    out["status_history"] = [*(data.get("status_history") or []), event("revised", actor, clock.at,
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


def renumber(book: Book, data: Mapping[str, Any], today: _dt.date) -> dict[str, Any]:
    """A fresh document number (for a duplicate a merge brought in)."""
    if not data.get("number"):
        raise PolicyError("the quote has no number yet; it gets one when sent")
    fmt = str(book.settings.get("quotes.number_format", "QT-{year}-{seq:04d}"))
    year = _dt.date.fromisoformat(str(data.get("sent_at") or data.get("date") or today)[:10]).year
    out = dict(data)
    out["number"] = book.next_number("quotes", fmt, year)
    return out
