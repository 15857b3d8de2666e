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
from dataclasses import replace
from decimal import Decimal
from typing import Any, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.clock import Clock
from crmctl.core.errors import CrmError, NotFound, PolicyError, ValidationError
from crmctl.core.limits import read
from crmctl.core.money import minor_unit, money_str, percent_points, to_decimal
from crmctl.core.numbers import book_format, parse_amount, parse_percent, stored_count
from crmctl.core.settings import Settings
from crmctl.core.states import ApprovalState, QuoteStatus, quote_is_editable, quote_status, quote_was_sent
from crmctl.cpq import catalog, policy, pricebooks
from crmctl.cpq.configure import as_list, describe, quantity_problems
from crmctl.cpq.pricing import TaxRules, ex_tax, price_str, quote_tax_rules, quote_totals, reductions, tax_rules

# the fields of the quote record rather than of one version; `revise` freezes every other field into `versions`
QUOTE_WIDE = ("versions", "approvals", "status_history", "number", "created", "order")
FROZEN_ALL = "all"   # a frozen version's ``frozen`` marker: it holds every field of its version


# the numbers a quote line stores, and how each is written: (key, kind); kinds as stored_numbers reads them
LINE_NUMBERS = (("qty", "count"), ("discount", "percent"), ("unit_price", "price"), ("list_unit", "price"),
                ("tier", "signed"), ("gross", "money"), ("net", "money"), ("cost", "money"), ("tax_rate", "percent"))


Where = tuple[Any, ...]   # keys down to a stored value: ("lines", 0, "qty")


def stored_numbers(data: Mapping[str, Any], digits: int) -> list[tuple[Where, str]]:
    """``(where, problem)`` for each number a quote's lines store that is not written as crmctl writes it
    (:func:`crmctl.core.numbers.stored_problem`; ``digits``: the book's ``price_digits`` for unit prices).

    A count (``qty``) is a whole number written without decimals: ``1.0`` is refused with "write 1" (an editor's
    or spreadsheet's round trip), as is ``9,600.00`` for a price ("write it like 1234.50"). Every reader of a
    quote file goes through this (:func:`readable`), and `check` reports the same.
    """
    from crmctl.core.numbers import stored_problem

    cur = str(data.get("currency") or "")
    cents = minor_unit(cur) if cur else 2
    found: list[tuple[Where, str]] = []
    for n, line in enumerate(data.get("lines") or [], 1):
        if not isinstance(line, Mapping):
            found.append((("lines", n - 1), f"line {n}: {line!r} is not a line (sku, qty, ...)"))
            continue
        for key, kind in LINE_NUMBERS:
            value = line.get(key)
            if value is None or (key == "discount" and value == ""):
                continue
            what = f"line {n} ({line.get('sku')}) {key}"
            problem = _number_problem(kind, value, what, cur, max(digits, cents))
            if problem:
                found.append((("lines", n - 1, key), problem))
        for rate, amount in (line.get("tax_parts") or {}).items() if isinstance(line.get("tax_parts"), Mapping) else ():
            what = f"line {n} ({line.get('sku')}) tax_parts"
            problem = stored_problem(rate, field=f"{what} rate", limit=Decimal(101)) or \
                stored_problem(amount, field=f"{what} {rate}", currency=cur, digits=max(digits, cents))
            if problem:
                found.append((("lines", n - 1, "tax_parts", rate), problem))
    return found


def _number_problem(kind: str, value: Any, what: str, cur: str, digits: int) -> str | None:
    """One stored line number of ``kind`` (see :data:`LINE_NUMBERS`) checked; ``digits``: a unit price's."""
    from crmctl.core.numbers import stored_count_problem, stored_problem

    if kind == "count":
        return stored_count_problem(value, field=what, minimum=1)
    if kind == "percent":
        return stored_problem(value, field=what, limit=Decimal(101)) or (
            f"{what}: {value!r} must be between 0% and 100%" if to_decimal(value) > 100 else None)
    if kind == "price":
        return stored_problem(value, field=what, currency=cur, digits=digits)
    return stored_problem(value, field=what, currency=cur, digits=minor_unit(cur) if cur else 2,
                          allow_negative=kind == "signed")


def readable(book: Book, rec: Record) -> Record:
    """``rec`` when every number its lines store is written as crmctl writes it; else ValidationError naming the
    file, its line and the field (the one line `check` prints), so no command adds up or crashes on a hand edit."""
    from crmctl.core.numbers import price_digits

    found = stored_numbers(rec.data, price_digits(book.settings))
    if found:
        where, problem = found[0]
        more = f" (and {len(found) - 1} more; `crmctl check` lists them)" if len(found) > 1 else ""
        raise ValidationError(f"{rec.path}:{line_in_file(book, rec, where)}: {problem}{more}; fix the file")
    return rec


def line_in_file(book: Book, rec: Record, where: Where) -> int:
    """The line of the value at ``where`` in the record's file (its top-level key's line when it cannot tell)."""
    from crmctl.core.book import value_line

    return value_line(book.root, rec.path, where, rec.lines)


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
    days = int(read(settings, "quotes.validity_days", 30))
    data = {
        "title": str(opp.get("name") or account.get("name")), "version": 1,
        "opportunity": opportunity.id if opportunity else None, "account": account.id,
        "contact": contact or (contacts[0] if contacts else None), "owner": owner or opp.get("owner") or account.get("owner"),
        "status": QuoteStatus.DRAFT.value, "currency": cur, "pricebook": chosen.id if chosen else None, "date": day.isoformat(),
        "valid_until": (day + _dt.timedelta(days=days)).isoformat(), "lang": lang,
        "payment_terms": str(settings.get("quotes.payment_terms_zh" if lang == "zh-CN" else "quotes.payment_terms", "")) or None,
        "lines": [], "created": clock.at,
    }
    wrong = contact_problem(book, data)
    if wrong:
        raise ValidationError(wrong)
    return reprice(book, data)


def _pricebook(book: Book, data: Mapping[str, Any]) -> Record | None:
    ref = data.get("pricebook")
    return book.records("pricebooks").get(str(ref)) if ref else None


def price_line_of(book: Book, data: Mapping[str, Any], line: Mapping[str, Any]) -> catalog.Priced:
    """Price one stored line with today's catalog and the quote's price book."""
    choices = {g: as_list(v) for g, v in (line.get("options") or {}).items()}
    discount = percent_points(line.get("discount") or 0)
    return catalog.price_sku(book, str(line.get("sku")), choices, _qty(line), str(data["currency"]),
                             _pricebook(book, data), discount)


def _qty(line: Mapping[str, Any]) -> int:
    """A stored line's quantity, read as a count (a hand-edited ``1.0`` is named, never a crash)."""
    return stored_count(line.get("qty"), field=f"line {line.get('sku')} qty", default=0)


def priced_line(priced: catalog.Priced, line: Mapping[str, Any], book: Book | None = None) -> dict[str, Any]:
    """The stored form of a line: what was asked, what it came to, its list value and cost from the catalog,
    and (given the book) the configuration text printed in each language — frozen with the line."""
    cur, p = priced.line.currency, priced.line
    out = {
        "sku": p.sku, "name": priced.product.get("name"), "name_zh": priced.product.get("name_zh"),
        # a single choice is written as one value, as a person would write it by hand
        "options": {g: (v[0] if _single(priced.product.data, g) else v) for g, v in priced.config.selected.items()} or None,
        "qty": p.qty, "discount": str(p.discount) if p.discount else None, "group": line.get("group"),
        "unit": priced.product.get("unit"), "unit_price": price_str(p.unit_price, cur),
        "list_unit": price_str(p.list_unit, cur),
        "tier": money_str(p.tier, cur) if p.tier else None, "gross": money_str(p.gross, cur),
        "net": money_str(p.net, cur), "tax_rate": str(p.tax_rate),
        "tax_parts": {str(r): str(a) for r, a in sorted(p.tax_parts.items())} or None,
        # a cost typed into the quote file is never read back: it is the catalog's, frozen here
        "cost": money_str(p.cost, cur) if p.cost is not None else None,
        "cost_unknown": list(p.unknown_cost) or None,
    }
    if book is not None:
        catalog_data = {sku: rec.data for sku, rec in book.records("products").items()}
        out["printed"] = {lang: describe(priced.product.data, priced.config.selected, lang, catalog_data)
                          for lang in ("en", "zh-CN")}
    return {k: v for k, v in out.items() if v is not None}


def _single(product: Mapping[str, Any], gid: str) -> bool:
    return any(str(g.get("id")) == gid and g.get("choice", "single") == "single" for g in product.get("option_groups") or [])


def wanted(data: Mapping[str, Any]) -> list[catalog.Want]:
    """The quote's lines as (sku, choices, qty), for pricing them in another price book."""
    return [(str(l.get("sku")), {g: as_list(v) for g, v in (l.get("options") or {}).items()}, _qty(l))
            for l in data.get("lines") or []]


def best_tied_pricebook(book: Book, data: Mapping[str, Any]) -> str | None:
    """The quote's price book; when it is tied with others (same specificity and priority), the one of them that
    prices the quote's lines lowest for the customer."""
    ref = data.get("pricebook")
    account = book.records("accounts").get(str(data.get("account")))
    day = _dt.date.fromisoformat(str(data.get("date"))[:10]) if data.get("date") else None
    if not ref or day is None:
        return ref
    tied = pricebooks.candidates(book.all("pricebooks"), account, day, str(data.get("currency")))
    if len(tied) < 2 or str(ref) not in [r.id for r in tied] or not data.get("lines"):
        return ref
    best = catalog.choose_pricebook(book, account, day, str(data.get("currency")), None, wanted(data))
    return best.id if best is not None else ref


def reprice(book: Book, data: Mapping[str, Any]) -> dict[str, Any]:
    """Price every line with current rules and recompute totals (drafts only; sent quotes stay frozen)."""
    out = dict(data)
    out["pricebook"] = best_tied_pricebook(book, data)
    lines = []
    for n, line in enumerate(data.get("lines") or [], 1):
        priced = price_line_of(book, out, line)
        if priced.problems:
            raise ValidationError(f"line {n}: " + "; ".join(priced.problems))
        lines.append(priced_line(priced, line, book))
    out["lines"] = lines
    return with_totals(book, out)


def tax_exemption(book: Book, data: Mapping[str, Any]) -> str | None:
    """The reason the quote carries no tax: its own ``tax_exempt``, else its account's (None: taxed)."""
    return tax_exemption_forms(book, data).get("tax_exempt")


EXEMPT_FORMS = ("tax_exempt", "tax_exempt_en")   # the reason (Chinese, or the one language) and its English form


def tax_exemption_forms(book: Book, data: Mapping[str, Any]) -> dict[str, str]:
    """``{tax_exempt: reason, tax_exempt_en: English}`` of the exemption that applies — the quote's own, else its
    account's, both forms from the same record — as the totals store them; ``{}`` when taxed."""
    source: Mapping[str, Any] | None = data if data.get("tax_exempt") else None
    if source is None:
        account = book.records("accounts").get(str(data.get("account")))
        source = account.data if account is not None and account.get("tax_exempt") else None
    if source is None:
        return {}
    return {k: str(source[k]).strip() for k in EXEMPT_FORMS if str(source.get(k) or "").strip()}


def with_totals(book: Book, data: Mapping[str, Any]) -> dict[str, Any]:
    """The quote with its totals under today's crm.yaml tax settings. Its lines keep the rates they were priced
    at, so a change of the quote goes through :func:`reprice` (one tax setting for every figure)."""
    out = dict(data)
    cur = str(data["currency"])
    forms = tax_exemption_forms(book, data)
    t = quote_totals(list(data.get("lines") or []), to_decimal(data.get("discount") or 0), list(data.get("fees") or []),
                     cur, tax_rules(book.settings), forms.get("tax_exempt"))
    out["totals"] = _strings(t, cur)
    if forms.get("tax_exempt_en"):   # the document prints the reason in its language (document.localized)
        out["totals"]["tax_exempt_en"] = forms["tax_exempt_en"]
    out["total"] = out["totals"]["total"]
    return out


def judge(book: Book, data: Mapping[str, Any], frozen: bool = False) -> list[policy.Judged]:
    """Each line as the discount policy sees it: list value and cost from the catalog (``frozen``: as frozen on the
    line at submit, for quotes that went out), and what the customer pays after the quote's reductions."""
    basis = []
    for n, line in enumerate(data.get("lines") or [], 1):
        if frozen and line.get("list_unit") not in (None, ""):
            cost = to_decimal(line["cost"], f"line {n} cost") if line.get("cost") not in (None, "") else None
            unknown = tuple(as_list(line.get("cost_unknown"))) or (() if cost is not None else ("line",))
            basis.append((to_decimal(line["list_unit"], f"line {n} list_unit"), cost, unknown))
        else:
            p = price_line_of(book, data, line).line
            basis.append((p.list_unit, p.cost, tuple(p.unknown_cost)))
    judged = judge_lines(data, basis, categories(book, list(data.get("lines") or [])), quote_tax_rules(book.settings, data))
    return [replace(j, parts=part_categories(book, line)) for j, line in zip(judged, data.get("lines") or [])]


Basis = tuple[Decimal, "Decimal | None", tuple[str, ...]]   # (list unit price, extended cost or None, parts without cost)


def judge_lines(data: Mapping[str, Any], basis: list[Basis], cats: Mapping[str, str | None], tax: TaxRules
                ) -> list[policy.Judged]:
    """The pure part of :func:`judge`: the quote's lines, discount and fees against each line's list and cost."""
    cur = str(data["currency"])
    lines = list(data.get("lines") or [])
    off = reductions(lines, to_decimal(data.get("discount") or 0), list(data.get("fees") or []), cur, tax.rounding)
    out = []
    for n, (line, share, (list_unit, cost, unknown)) in enumerate(zip(lines, off.shares, basis), 1):
        paid = to_decimal(line.get("net"), f"line {n} net") - share
        out.append(policy.Judged(n, str(line.get("sku")), cats.get(str(line.get("sku"))),
                                 list_unit * _qty(line), paid, ex_tax(line, paid, tax, cur), cost, unknown))
    return out


def _strings(totals: Mapping[str, Any], cur: str) -> dict[str, Any]:
    def s(v: Any) -> Any:
        if isinstance(v, list):
            return [s(x) for x in v]
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
    wrong = contact_problem(book, data)
    if wrong:
        raise ValidationError(wrong)
    pct = parse_percent(discount, fmt=book_format(book.settings), field="--discount") if discount else None
    line = {"sku": sku.strip().lower(), "options": {g: list(v) for g, v in choices.items()}, "qty": qty,
            "discount": str(pct) if pct else None, "group": group}
    priced = price_line_of(book, data, line)
    if priced.problems:
        raise ValidationError(f"{sku}: invalid configuration: " + "; ".join(priced.problems))
    out = dict(data)
    out["lines"] = [*(data.get("lines") or []), priced_line(priced, line, book)]
    out = reprice(book, out)   # another line can make a tied price book the better one for the customer
    _within_any_authority(book, out)
    return out


def remove_line(book: Book, data: Mapping[str, Any], number: int, today: _dt.date) -> dict[str, Any]:
    ensure_editable(data, today)
    lines = list(data.get("lines") or [])
    if not 1 <= number <= len(lines):
        raise ValidationError(f"line {number}: the quote has lines 1 to {len(lines)}" if lines else "the quote has no lines")
    out = dict(data)
    out["lines"] = lines[: number - 1] + lines[number:]
    return reprice(book, out)   # as add-line and submit: every line at today's rules, never old rates in a new mode


def edit(book: Book, data: Mapping[str, Any], changes: Mapping[str, Any], today: _dt.date) -> dict[str, Any]:
    """Quote-level fields: discount, fees, payment terms (and their English form), notes, title, validity, contact,
    language, Incoterms (refused unless an Incoterms 2020 rule and place)."""
    ensure_editable(data, today)
    out = {k: v for k, v in {**data, **changes}.items() if not (k in EXEMPT_FORMS and v is None)}
    if not out.get("tax_exempt") and out.get("tax_exempt_en"):
        raise ValidationError("--tax-exempt-en is the English form of the quote's own --tax-exempt REASON; give both "
                              "(--tax-exempt 出口零税率 --tax-exempt-en \"Zero-rated export\"), or set the account's "
                              "tax_exempt_en")
    if changes.get("incoterms"):
        problem = incoterms_problem(str(changes["incoterms"]))
        if problem:
            raise ValidationError("--" + problem)
    if changes.get("valid_until"):
        problem = validity_problem(_dt.date.fromisoformat(str(changes["valid_until"])[:10]),
                                   _dt.date.fromisoformat(str(data.get("date") or today)[:10]), today)
        if problem:
            raise ValidationError(problem)
    if "discount" in changes and changes["discount"] is not None:
        pct = parse_percent(changes["discount"], fmt=book_format(book.settings), field="--discount")
        out["discount"] = str(pct) if pct else None
    wrong = contact_problem(book, out)
    if wrong:
        raise ValidationError(("--contact: " if "contact" in changes else "") + wrong)
    out = reprice(book, out)   # as add-line and submit: one tax setting (today's) for mode, apply and every rate
    _within_any_authority(book, out)
    if changes.get("discount") is not None and out.get("discount"):
        cut = next((r for r in out["totals"].get("reductions") or [] if r.get("name") == f"{out['discount']}%"), None)
        if cut is None or to_decimal(cut.get("amount")) == 0:
            raise ValidationError(f"--discount {out['discount']}%: of {out['totals'].get('subtotal')} "
                                  f"{out.get('currency')} it rounds to 0; a discount that takes nothing off would be "
                                  "printed all the same — give more, or none")
    return out


MAX_VALIDITY_DAYS = 3650   # the most crm.yaml quotes.validity_days may be (core.limits)


def validity_problem(until: _dt.date, quote_day: _dt.date, today: _dt.date) -> str | None:
    """Why ``--valid-until until`` cannot be a quote's validity, or None: not before the quote's date nor
    today (a typo in the year would expire the draft at once), at most :data:`MAX_VALIDITY_DAYS` after its date."""
    if until < quote_day:
        return f"--valid-until {until} is before the quote's date {quote_day}; give a later day"
    if until < today:
        return f"--valid-until {until} is in the past (today is {today}); give a later day"
    if until > quote_day + _dt.timedelta(days=MAX_VALIDITY_DAYS):
        return (f"--valid-until {until} is more than {MAX_VALIDITY_DAYS} days after the quote's date {quote_day} "
                "(the most quotes.validity_days allows); give an earlier day")
    return None


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
    """``"Shipping=3500"`` or ``"运费=3500"`` -> a fee in the quote's ``currency`` (``"3500.00"``); a negative one
    (``特别优惠=-200000``) is a discount.

    A negative fee is taken off the lines like the quote discount (see
    :func:`crmctl.cpq.pricing.reductions`), printed with the discounts, and
    judged by the discount policy; a fee of 0 means nothing and is refused.
    """
    name, sep, amount = text.partition("=")
    if not sep or not name.strip():
        raise ValidationError(f"--fee {text!r}: write NAME=AMOUNT (e.g. Shipping=3500)")
    if "=" in amount:  # freight=5=6: a fee named "freight=5", or freight at 5, or at 6? Say which.
        raise ValidationError(f"--fee {text!r}: one '=' between the fee's name and its amount (e.g. Shipping=3500); "
                              "a fee's name cannot hold '='")
    value = parse_amount(amount, currency=currency, fmt=book_format(settings), field=f"--fee {name.strip()}",
                         allow_negative=True)
    if value == 0:
        raise ValidationError(f"--fee {text!r}: a fee of 0 changes nothing; give an amount (negative for a discount)")
    return {"name": name.strip(), "amount": money_str(value, currency)}


def fee_key(name: Any) -> str:
    """What makes two fees the same fee: the name, ignoring case and surrounding space (``运费``, ``Shipping``)."""
    return str(name or "").strip().casefold()


def set_fees(existing: list[Mapping[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The quote's fees after ``--fee`` options: a name already on the quote gets the new amount (in its place, its
    other keys kept), a new name is added. Names compare without case and surrounding spaces; the same name twice
    in ``given`` means two amounts for one fee and is refused (typing ``--fee 运费=800`` again to correct the
    freight must not charge it twice)."""
    def key(fee: Mapping[str, Any]) -> str:
        return fee_key(fee.get("name"))

    seen: set[str] = set()
    for fee in given:
        if key(fee) in seen:
            raise ValidationError(f"--fee {fee['name']}: given twice; give each fee once")
        seen.add(key(fee))
    new = {key(fee): fee for fee in given}
    out = [{**fee, **new.pop(key(fee))} if key(fee) in new else dict(fee) for fee in existing]
    return out + [fee for fee in given if key(fee) in new]


def fees_after(current: list[Mapping[str, Any]], added: list[dict[str, Any]], removed: tuple[str, ...] = (),
               clear: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """The quote's fees after ``--clear-fees``, ``--remove-fee NAME`` and ``--fee NAME=AMOUNT`` (:func:`set_fees`),
    and a note for each fee replaced, so a correction is said, never silent.

    Refused (ValidationError): a ``--remove-fee`` of a fee the quote does not have (and what :func:`set_fees` refuses).
    ``[运费 1000.00] + --fee 运费=2000`` -> ``[运费 2000.00]``, note "fee 运费 was 1000.00, now 2000.00 ...".
    """
    fees = [] if clear else [dict(f) for f in current]
    for name in removed:
        kept = [f for f in fees if fee_key(f.get("name")) != fee_key(name)]
        if len(kept) == len(fees):
            have = ", ".join(str(f.get("name")) for f in fees) or "none"
            raise ValidationError(f"--remove-fee {name}: the quote has no fee of that name (its fees: {have})")
        fees = kept
    was = {fee_key(f.get("name")): f for f in fees}
    notes = [f"fee {was[fee_key(f['name'])].get('name')} was {was[fee_key(f['name'])].get('amount')}, now {f['amount']} "
             "(replaced; a fee of another name adds one)" for f in added if fee_key(f["name"]) in was]
    return set_fees(fees, added), notes


def duplicate_fees(fees: list[Mapping[str, Any]], qid: str = "Q") -> list[str]:
    """Fee names that appear more than once (a hand edit): each would be charged."""
    counts: dict[str, list[str]] = {}
    for fee in fees:
        counts.setdefault(fee_key(fee.get("name")), []).append(str(fee.get("amount")))
    return [f"fee {name} appears {len(amounts)} times ({', '.join(amounts)}); keep one "
            f"(`crmctl quote edit {qid} --remove-fee {name} --fee {name}=AMOUNT`)"
            for name, amounts in counts.items() if len(amounts) > 1]


def part_categories(book: Book, line: Mapping[str, Any]) -> tuple[str | None, ...]:
    """The categories of a bundle line's priced parts beside its own: its ``added`` components and the
    ``optional`` ones chosen (each priced at its own list price, so each is judged by its own category's authority).
    Empty for any other line."""
    from crmctl.cpq.configure import OPTIONAL_GROUP

    products = book.records("products")
    product = products.get(str(line.get("sku")))
    if product is None:
        return ()
    chosen = set(as_list((line.get("options") or {}).get(OPTIONAL_GROUP)))
    parts = [str(c.get("sku")) for c in product.get("components") or [] if isinstance(c, Mapping)
             and (c.get("mode") == "added" or (c.get("mode") == "optional" and str(c.get("sku")) in chosen))]
    return tuple(dict.fromkeys(products[sku].get("category") for sku in parts if sku in products))


def name_fees_en(fees: list[dict[str, Any]], texts: tuple[str, ...]) -> list[dict[str, Any]]:
    """The quote's ``fees`` with English names from ``--fee-en NAME=ENGLISH`` (``运费=Freight``): every fee called
    NAME gets ``name_en`` ENGLISH, which an English document prints instead of NAME.

    Raises ValidationError for a text without one '=', an empty side, or a NAME no fee has (naming the fees there are).
    """
    out = [dict(fee) for fee in fees]
    for text in texts:
        name, sep, english = (part.strip() for part in text.partition("="))
        if not sep or not name or not english or "=" in english:
            raise ValidationError(f"--fee-en {text!r}: write NAME=ENGLISH, the fee's name as the quote has it and its "
                                  "English name (e.g. --fee-en 运费=Freight)")
        hits = [fee for fee in out if str(fee.get("name", "")).strip() == name]
        if not hits:
            have = ", ".join(str(f.get("name")) for f in out) or "none"
            raise ValidationError(f"--fee-en {text!r}: the quote has no fee named {name!r} (its fees: {have}); "
                                  f"add it with --fee {name}=AMOUNT in the same command")
        for fee in hits:
            fee["name_en"] = english
    return out


def categories(book: Book, lines: list[Mapping[str, Any]]) -> dict[str, str | None]:
    products = book.records("products")
    return {str(l.get("sku")): (products[str(l["sku"])].get("category") if str(l.get("sku")) in products else None)
            for l in lines}


def requirement(book: Book, data: Mapping[str, Any], frozen: bool = False) -> policy.Requirement:
    """The approval the quote needs, from the catalog and the policy (never from what the file claims): its lines,
    and its own tax exemption when its account is not exempt."""
    return policy.requirement(judge(book, data, frozen), book.settings, own_exemption(book, data))


def own_exemption(book: Book, data: Mapping[str, Any]) -> str | None:
    """The quote's own ``tax_exempt`` reason when its account is not exempt (None otherwise): what the policy judges."""
    account = book.records("accounts").get(str(data.get("account")))
    exempt_account = account is not None and bool(account.get("tax_exempt"))
    return str(data["tax_exempt"]) if data.get("tax_exempt") and not exempt_account else None


def tax_status_change(book: Book, data: Mapping[str, Any]) -> str | None:
    """How the tax the quote was priced and approved with differs from what the book says today, as one clause;
    None when it is the same. Its exemption (its own, else its account's; ``totals.tax_exempt``) first, then
    crm.yaml's tax settings (:func:`tax_settings_change`): either makes an unsent quote's approval stale, so
    ``show``, ``send``, ``approve``, ``render`` and ``check`` all say so (one rule)."""
    totals = data.get("totals") if isinstance(data.get("totals"), Mapping) else {}
    priced = {k: str(totals[k]) for k in EXEMPT_FORMS if totals.get(k)}
    now = tax_exemption_forms(book, data)
    if priced == now:
        return tax_settings_change(book, data)

    def said(forms: Mapping[str, str]) -> str:
        if not forms.get("tax_exempt"):
            return "taxed"
        return f"exempt: {forms['tax_exempt']!r}" + (f" / {forms['tax_exempt_en']!r}" if forms.get("tax_exempt_en") else "")
    return f"the tax status changed since it was priced ({said(priced)} -> {said(now)}, account {data.get('account')})"


def tax_settings_change(book: Book, data: Mapping[str, Any]) -> str | None:
    """How crm.yaml's ``tax:`` today (mode, apply, category rates — or a product's ``tax_category``) would tax the
    quote otherwise than it was priced, as one clause; None when the same.

    A quote's lines keep the rate they were priced at (``tax_rate``, a bundle's ``tax_parts`` keyed by rate) and
    its totals the mode (``totals.tax_mode``); the rest (``apply``, the fees' rates, rounding) shows in the tax
    the stored lines come to today (:func:`with_totals`) when their net is what the totals say. A line that can no longer be priced is left to the
    checks that name it."""
    rules = tax_rules(book.settings)
    totals = data.get("totals") if isinstance(data.get("totals"), Mapping) else {}
    moved = []
    if totals.get("tax_mode") in ("inclusive", "exclusive") and totals["tax_mode"] != rules.mode:
        moved.append(f"mode {totals['tax_mode']} -> {rules.mode}")
    for n, line in enumerate(data.get("lines") or [], 1):
        try:
            fresh = priced_line(price_line_of(book, data, line), line)
        except CrmError:
            continue
        was, now = _line_rates(line), _line_rates(fresh)
        if was != now:
            moved.append(f"line {n} ({line.get('sku')}) {was} -> {now}")
    if not moved:
        try:
            again = with_totals(book, data)["totals"]
        except CrmError as exc:
            moved.append(str(exc))
        else:
            # (another net is an edit of the lines, which the approval's hash and `check` name, not crm.yaml)
            same_base = all(again.get(k) == totals.get(k) for k in ("subtotal", "discount", "fees", "net"))
            if same_base and str(again.get("tax")) != str(totals.get("tax")):
                moved.append(f"tax {totals.get('tax')} -> {again.get('tax')} {data.get('currency')}")
    if not moved:
        return None
    return f"crm.yaml's tax settings changed since it was priced ({'; '.join(moved)})"


def _line_rates(line: Mapping[str, Any]) -> str:
    """A priced line's tax rate(s) as text: ``13%``, or a bundle's ``13%+6%``."""
    parts = line.get("tax_parts") if isinstance(line.get("tax_parts"), Mapping) else None
    rates = sorted({str(r) for r in parts}, key=Decimal) if parts else [str(line.get("tax_rate"))]
    return "+".join(f"{r}%" for r in rates)


def _within_any_authority(book: Book, data: Mapping[str, Any]) -> None:
    need = requirement(book, data)
    if need.beyond:
        raise PolicyError("; ".join(need.beyond) + "; lower the discount")


def quote_problems(book: Book, data: Mapping[str, Any]) -> list[str]:
    """What stops the quote going to a customer: no lines, quote-wide quantity rules, a contact of another account."""
    lines = list(data.get("lines") or [])
    wrong = contact_problem(book, data)
    if not lines:
        return ["the quote has no lines; add some with `crmctl quote add-line`"] + ([wrong] if wrong else [])
    return quantity_problems(lines, {k: r.data for k, r in book.records("products").items()}) + ([wrong] if wrong else [])


def _group(book: Book, account: str) -> set[str]:
    """The account and its parents up the ``parent`` chain (a group buys through its subsidiaries and back)."""
    accounts, seen, current = book.records("accounts"), set(), account
    while current and current not in seen:
        seen.add(current)
        current = str(accounts[current].get("parent") or "") if current in accounts else ""
    return seen


def contact_problem(book: Book, data: Mapping[str, Any]) -> str | None:
    """Why the quote's contact may not receive it: unknown, or working for an account outside the quote account's
    group (the account, its parents, or an account whose parents include it). None when fine or no contact."""
    ref = data.get("contact")
    if not ref:
        return None
    contact = book.records("contacts").get(str(ref))
    if contact is None:
        return f"contact {ref} is not a contact of this book; `crmctl quote edit Q --contact ID` with one of {data.get('account')}'s"
    theirs, ours = str(contact.get("account") or ""), str(data.get("account") or "")
    if ours in _group(book, theirs) or theirs in _group(book, ours):
        return None
    return (f"contact {contact.id} ({contact.get('name')}) works for {theirs}, not the quote's account {ours}; "
            f"choose one of {ours}'s contacts (`crmctl contact list --where account={ours}`)")


def event(action: str, actor: Record, at: str, **more: Any) -> dict[str, Any]:
    """One entry of an append-only history: what, who (and their role), when."""
    return {"action": action, "by": actor.id, "role": actor.get("role"), "at": at, **{k: v for k, v in more.items() if v}}


def revise(book: Book, data: Mapping[str, Any], actor: Record, clock: Clock) -> dict[str, Any]:
    """Freeze the current version into ``versions`` and start the next one as a draft."""
    today = clock.today
    now = quote_status(data, today)
    if now == QuoteStatus.ACCEPTED:
        raise PolicyError("an accepted quote cannot be revised; make a new quote")
    frozen = {k: v for k, v in data.items() if k not in QUOTE_WIDE and v is not None}
    frozen["status"], frozen["frozen"] = str(now), FROZEN_ALL
    out = dict(data)
    out["versions"] = [*(data.get("versions") or []), frozen]
    out["version"] = int(data.get("version") or 1) + 1
    days = int(read(book.settings, "quotes.validity_days", 30))
    out.update(status=QuoteStatus.DRAFT.value, date=today.isoformat(), valid_until=(today + _dt.timedelta(days=days)).isoformat(),
               approval=None, sent_at=None, as_sent=None, decline_reason=None)
    out["status_history"] = [*(data.get("status_history") or []), event("revised", actor, clock.at,
                                                                         note=f"v{out['version']}")]
    return reprice(book, out)


def version(data: Mapping[str, Any], number: int | None) -> dict[str, Any]:
    """The quote as it was in version ``number`` (the current one when None): a version frozen whole
    (``frozen: all``) with only the record's :data:`QUOTE_WIDE` fields; an older one over today's fields."""
    current = int(data.get("version") or 1)
    if number is None or number == current:
        return dict(data)
    for frozen in data.get("versions") or []:
        if int(frozen.get("version") or 0) == number:
            whole = frozen.get("frozen") == FROZEN_ALL
            base = {k: data[k] for k in QUOTE_WIDE if k in data} if whole else data
            view = {**base, **frozen, "versions": data.get("versions")}
            view.pop("frozen", None)
            return view
    raise NotFound(f"quote has versions 1 to {current}; there is no version {number}")


def altered_versions(data: Mapping[str, Any]) -> list[tuple[int, str]]:
    """``(version, why)`` for each earlier version that was sent and has changed since: its approval no longer
    covers it (naming the fields) or the approvals history does not record it. A sent version never changes.

    Judged are versions frozen whole (``frozen: all``, by ``revise`` since then); one frozen before took its other
    fields from the quote and was hashed by rules since widened, so its hash proves nothing either way."""
    from crmctl.cpq.proof import approval_history_problem

    out = []
    for frozen in data.get("versions") or []:
        if not isinstance(frozen, Mapping) or not quote_was_sent(frozen) or frozen.get("frozen") != FROZEN_ALL:
            continue
        number = int(frozen.get("version") or 0)
        view = version(data, number)
        if policy.approval_state(view) != ApprovalState.VALID:
            changed = policy.changed_fields(view)
            out.append((number, f"version {number} was sent but has changed since "
                                f"({'changed: ' + ', '.join(changed) if changed else 'its approval no longer covers it'})"))
            continue
        forged = approval_history_problem(view, older=True)
        if forged:
            out.append((number, f"version {number} was sent but {forged}"))
    return out


def accepted_rivals(book: Book, qid: str, data: Mapping[str, Any]) -> list[Record]:
    """The other quotes of the same opportunity that the customer accepted and whose order stands (not cancelled):
    one deal has one accepted quote, or two orders would be made for it."""
    from crmctl.core.states import order_is_cancelled

    opp = data.get("opportunity")
    if not opp:
        return []
    orders = book.records("orders")
    return [rec for rec in book.all("quotes") if rec.id != qid and rec.get("opportunity") == opp
            and str(rec.get("status")) == QuoteStatus.ACCEPTED.value
            and not (str(rec.get("order")) in orders and order_is_cancelled(orders[str(rec.get("order"))]))]


def renumber(book: Book, data: Mapping[str, Any], today: _dt.date) -> dict[str, Any]:
    """A fresh document number (for a duplicate a merge brought in)."""
    if not data.get("number"):
        raise PolicyError("the quote has no number yet; it gets one when sent")
    fmt = str(book.settings.get("quotes.number_format", "QT-{year}-{seq:04d}"))
    year = _dt.date.fromisoformat(str(data.get("sent_at") or data.get("date") or today)[:10]).year
    out = dict(data)
    out["number"] = book.next_number("quotes", fmt, year)
    return out
