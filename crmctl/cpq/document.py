"""A quote as people see it: the priced view for ``quote show`` and the context of the PDF.

Reads only. Rendering goes through :mod:`crmctl.io.render` (sandboxed Jinja2,
restricted WeasyPrint fetcher), imported inside :func:`render` so no other
command pays for WeasyPrint.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.errors import CrmError, PolicyError
from crmctl.core.money import money_str, quantize, to_decimal
from crmctl.core.numbers import stored_count
from crmctl.core.settings_keys import SELLER_FIELDS  # the seller block: company.* in crm.yaml
from crmctl.core.states import (QUOTE_EDITABLE, ApprovalState, ApprovalStatus, QuoteStatus, quote_status,
                                quote_was_sent)
from crmctl.core.text import a_an
from crmctl.cpq import policy, quotes
from crmctl.cpq.configure import as_list, describe

LABELS: dict[str, dict[str, str]] = {
    "en": {"quote": "Quotation", "number": "Quote no.", "version": "Version", "date": "Date", "valid_until": "Valid until",
           "seller": "Seller", "buyer": "Customer", "contact": "Attention", "item": "Item", "qty": "Qty", "unit_price": "Unit price",
           "discount": "Disc.", "amount": "Amount", "subtotal": "Subtotal", "group_subtotal": "Subtotal", "other_items": "Other items", "quote_discount": "Discount",
           "fees": "Fees", "net": "Net", "tax": "Tax", "tax_of_which": "of which tax", "total": "Total", "terms": "Payment terms",
           "notes": "Notes", "signature_seller": "For the seller (signature and company stamp)",
           "signature_buyer": "Accepted by the customer (signature and company stamp)",
           "sign_date": "Name, signature and date", "page": "Page {page} of {pages}", "draft": "DRAFT — not an offer",
           "tax_id": "Tax ID", "vat_id": "VAT ID", "ein": "EIN", "bank": "Bank", "account_no": "Account no.", "unit": "Unit", "status": "Status",
           "owner": "Sales contact", "incoterms": "Incoterms® 2020", "tax_treatment": "Tax treatment", "tier": "Volume tier",
           "excl": "excl. tax", "incl": "incl. tax", "in_words": "", "phone": "Tel."},
    "zh-CN": {"quote": "报价单", "number": "报价单号", "version": "版本", "date": "日期", "valid_until": "有效期至",
              "seller": "卖方", "buyer": "买方", "contact": "联系人", "item": "产品及配置", "qty": "数量", "unit_price": "单价",
              "discount": "折扣", "amount": "金额", "subtotal": "小计", "group_subtotal": "分组小计", "other_items": "其他", "quote_discount": "整单折扣",
              "fees": "其他费用", "net": "不含税金额", "tax": "税额", "tax_of_which": "其中税额", "total": "合计", "terms": "付款条件",
              "notes": "备注", "signature_seller": "卖方（盖章）", "signature_buyer": "买方确认（盖章）",
              "sign_date": "授权代表签字及日期", "page": "第 {page} 页，共 {pages} 页", "draft": "草稿 — 非正式报价",
              "tax_id": "纳税人识别号", "vat_id": "增值税号", "ein": "雇主识别号（EIN）", "bank": "开户行", "account_no": "账号", "unit": "单位", "status": "状态",
              "owner": "销售代表", "incoterms": "贸易术语（Incoterms® 2020）", "tax_treatment": "税务处理", "tier": "批量优惠",
              "excl": "不含税", "incl": "含税", "in_words": "合计人民币（大写）", "phone": "电话"},
}

def printed_configuration(line: Mapping[str, Any], lang: str, products: Mapping[str, Any]) -> list[str]:
    """The configuration text of a line: as frozen on it when it was priced, else from today's catalog."""
    frozen = (line.get("printed") or {}).get(lang)
    if frozen is not None:
        return [str(x) for x in frozen]
    sku = str(line.get("sku"))
    if sku not in products:
        return []
    catalog = {k: r.data for k, r in products.items()}
    return describe(products[sku].data, {g: as_list(v) for g, v in (line.get("options") or {}).items()}, lang, catalog)


def shown_unit_price(line: Mapping[str, Any], currency: str, book: Book) -> tuple[str, str]:
    """``(unit price, tier)`` to print so that unit x qty (+ tier) - discount = amount on the page.

    With a volume tier the effective unit price is printed when it multiplies back
    to the amount exactly; otherwise the unit price and the tier's amount.
    """
    from crmctl.cpq.pricing import effective_unit, price_str, tax_rules

    qty, gross = stored_count(line.get("qty"), field="qty", default=1, minimum=1), to_decimal(line.get("gross"), "gross")
    listed = to_decimal(line.get("unit_price"), "unit_price") * qty
    if quantize(listed, currency, book.settings.rounding) == gross:   # no tier (0.333 x 3 = 0.999 is 1.00, no tier)
        return str(line.get("unit_price")), ""
    unit = effective_unit(gross, qty, currency, tax_rules(book.settings))
    if unit is not None:
        return price_str(unit, currency), ""
    return str(line.get("unit_price")), money_str(gross - quantize(listed, currency, book.settings.rounding), currency)


def approval_summary(data: Mapping[str, Any], book: Book | None = None) -> str:
    """One line on the approval: who and when, or what is pending, or which fields changed since (given the
    book, also a tax status that changed since an unsent quote was priced: :func:`quotes.tax_status_change`)."""
    state = policy.approval_state(data)
    approval = data.get("approval") or {}
    moved = quotes.tax_status_change(book, data) if book is not None and not quote_was_sent(data) else None
    if moved and state == ApprovalState.VALID:
        return f"STALE (by {approval.get('by')}; {moved})"
    if approval.get("status") == ApprovalStatus.PENDING:
        if not policy.covers(data, approval.get("hash")):   # judged on other content: say so, not the old role
            changed = ", ".join(policy.changed_fields(data)) or "content"
            return f"pending, but STALE (changed since submitted: {changed}); `crmctl quote submit` it again"
        return f"pending: needs {a_an(approval.get('required_role'))}"
    if approval.get("status") == ApprovalStatus.REJECTED:
        return f"rejected by {approval.get('by')}: {approval.get('reason')}"
    if state == ApprovalState.STALE:
        changed = policy.changed_fields(data)
        return f"STALE (by {approval.get('by')}; changed since: {', '.join(changed) if changed else 'content'})"
    if state == ApprovalState.MISSING:
        return "none"
    return f"{approval.get('by')} ({approval.get('role')}) at {approval.get('at')}"


def offer_problems(book: Book, rec: Record, version: int | None, today: _dt.date) -> list[str]:
    """Why the quote's (or version's) document is not an offer the seller stands behind: it then prints with the
    DRAFT / 草稿 mark and ``render`` warns with these reasons. Empty: it prints clean.

    Clean are only a version that was sent (sent, accepted, declined, or expired after it was sent) and an approved
    quote within its validity — each while its approval passes what ``send`` (``accept`` for a sent one) demands
    (exists, covers today's content, from a role the policy asks for today, backed by the approvals history) and
    its lines' arithmetic holds. A draft, pending, rejected, expired-before-sending or stale quote is a draft.
    """
    from crmctl.cpq.checks import as_sent_problem, line_problems
    from crmctl.cpq.lifecycle import require_valid_approval

    data = quotes.version(rec.data, version)
    older = int(data.get("version") or 1) != int(rec.get("version") or 1)
    status, sent = quote_status(data, today), quote_was_sent(data)
    if not sent and status != QuoteStatus.APPROVED:
        return [f"the quote is {status}" + (", and was never sent" if status == QuoteStatus.EXPIRED else "")]
    problems = [message for message, _ in line_problems(data, book.settings.rounding)]
    edited = None if older else as_sent_problem(data)
    problems += [edited] if edited else []
    if problems:
        return problems
    doing = "print it as an offer"
    try:
        require_valid_approval(book, rec.id, data, doing, frozen=sent, older=older)
    except CrmError as exc:
        return [str(exc).removeprefix(f"cannot {doing}: ")]
    return []


def used_pricebook(book: Book, data: Mapping[str, Any]) -> str | None:
    """The price book the lines were priced with: none when it is gone or in another currency than the quote."""
    ref = data.get("pricebook")
    rec = book.records("pricebooks").get(str(ref)) if ref else None
    return rec.id if rec is not None and str(rec.get("currency")) == str(data.get("currency")) else None


def view(book: Book, rec: Record, version: int | None, today: _dt.date) -> dict[str, Any]:
    """The quote (or one of its versions) with computed status, approval state and numbered lines."""
    data = quotes.version(rec.data, version)
    products = book.records("products")
    lang = str(data.get("lang") or "en")
    cur = str(data.get("currency"))
    lines_view = []
    prices = list(sources(book, data).get("prices") or [])
    for n, line in enumerate(data.get("lines") or [], 1):
        shown = prices[n - 1] if n <= len(prices) and isinstance(prices[n - 1], Mapping) else {}
        unit, tier = (str(shown.get("price") or ""), str(shown.get("tier") or "")) if shown else \
            shown_unit_price(line, cur, book)
        lines_view.append({**line, "n": n, "configuration": printed_configuration(line, lang, products),
                           "unit_price_shown": unit, "tier_shown": tier})
    totals = data.get("totals") or {}
    totals_view = [{"total": f"subtotal {g or '(other items)'}", "amount": v}
                   for g, v in (totals.get("groups") or {}).items() if len(totals.get("groups") or {}) > 1]
    totals_view.append({"total": "subtotal", "amount": totals.get("subtotal")})
    totals_view += [{"total": f"discount {r.get('name')}", "amount": f"-{r.get('amount')}"} for r in reductions_of(totals)]
    totals_view += [{"total": f"fee {f.get('name')}", "amount": money_str(to_decimal(f.get("amount")), cur)}
                    for f in data.get("fees") or [] if not str(f.get("amount", "")).startswith("-")]
    totals_view += [{"total": k.replace("_", " "), "amount": totals.get(k)} for k in ("net", "tax", "total")
                    if totals.get(k) is not None]
    if totals.get("tax_exempt"):
        totals_view.append({"total": "tax exempt", "amount": totals["tax_exempt"]})
    status = quote_status(data, today)
    problems = quotes.quote_problems(book, data) if status in QUOTE_EDITABLE else []
    if version in (None, int(rec.get("version") or 1)):   # what `check` says of the file (its text checks aside)
        from crmctl.cpq.checks import quote_problems

        problems += [message for _, message in quote_problems(book, rec)]
    return {"id": rec.id, **data, "pricebook": used_pricebook(book, data), "status": str(status),
            "approval_state": str(policy.approval_state(data)), "approval_summary": approval_summary(data, book),
            "lines_view": lines_view, "totals_view": totals_view, "problems": problems}


# what a document prints of records outside the quote, each field with its _en and _zh forms (see localized)
BUYER_FIELDS = ("name", "address", "city", "postcode", "country", "tax_id")
CONTACT_FIELDS = ("name", "title", "email", "phone")
OWNER_FIELDS = ("name", "email", "phone")


def sources(book: Book, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the quote's document prints from outside the quote: frozen in ``as_sent`` once it was sent, else live.

    Shape: ``{seller: {name, name_zh, address...}, buyer: {...}, contact: {...} | None, owner: {...} | None,
    units_en: {台: [unit, units]}, groups_en: {group: English name}, prices: [{price, tier}] (one per line)}``.
    """
    frozen = data.get("as_sent")
    return dict(frozen) if isinstance(frozen, Mapping) else live_sources(book, data)


def live_sources(book: Book, data: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`sources` as the book says today — what :func:`crmctl.cpq.lifecycle.send` freezes into ``as_sent``:
    the seller (crm.yaml ``company``), the buyer, contact and owner (their records), the English units and group
    names the lines use (crm.yaml ``quotes.units_en`` / ``quotes.groups_en``, the quote's ``groups_en``), and each
    line's printed unit price and tier (which depend on ``price_digits``)."""
    account = book.lookup("accounts", data.get("account"))
    contact = book.lookup("contacts", data.get("contact"))
    owner = book.records("users").get(str(data.get("owner"))) if data.get("owner") else None
    lines = [line for line in data.get("lines") or [] if isinstance(line, Mapping)]
    used_units = {str(line.get("unit") or "") for line in lines} - {""}
    units = {str(zh): en for zh, en in (book.settings.get("quotes.units_en") or {}).items()
             if str(zh) in used_units or used_units & {str(x) for x in _forms_of(en)}}
    used_groups = {str(line.get("group") or "") for line in lines} - {""}
    groups = {**(book.settings.get("quotes.groups_en") or {}), **(data.get("groups_en") or {})}
    currency = str(data.get("currency") or book.settings.currency)
    prices = [dict(zip(("price", "tier"), shown_unit_price(line, currency, book))) for line in lines]
    return {"seller": _printed(book.settings.get("company", {}) or {}, SELLER_FIELDS),
            "buyer": _printed(account.data, BUYER_FIELDS) if account else {"name": str(data.get("account") or "")},
            "contact": _printed(contact.data, CONTACT_FIELDS) if contact else None,
            "owner": _printed(owner.data, OWNER_FIELDS) if owner else None,
            "units_en": units, "groups_en": {str(g): str(groups[g]) for g in used_groups if groups.get(g)},
            "prices": prices}


def _forms_of(en: Any) -> list[Any]:
    """The English forms of one ``quotes.units_en`` value (a word, a list, or a {one, other} map)."""
    if isinstance(en, Mapping):
        return list(en.values())
    return list(en) if isinstance(en, (list, tuple)) else [en]


def _printed(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    """The printed ``fields`` of a record (each with its ``_en``/``_zh`` form), as text; empty ones left out."""
    keys = [k for f in fields for k in (f, f + "_en", f + "_zh")]
    return {k: str(data[k]) for k in keys if data.get(k) not in (None, "")}


def localized(data: Mapping[str, Any] | None, field: str, lang: str) -> str:
    """A printed field in the document's language: ``field_en`` (or ``field_zh``) when set, else ``field``.

    The rule for every text a quote prints (names, addresses, bank, terms,
    notes, fee names); ``check`` reports an English quote whose printed text
    is still Chinese (:func:`untranslated`).
    """
    if not data:
        return ""
    suffix = "_zh" if lang.startswith("zh") else "_en"
    return str(data.get(field + suffix) or data.get(field) or "")


CITY_BEFORE_POSTCODE = frozenset({"us", "usa", "united states", "united states of america", "美国", "ca", "canada", "加拿大",
                                  "gb", "uk", "united kingdom", "英国", "au", "australia", "澳大利亚"})
US = frozenset({"us", "usa", "united states", "united states of america", "美国"})


def country_name(country: str, lang: str) -> str:
    """A country as ``lang`` names it (babel's CLDR territory names): ``US``, ``United States`` or ``美国`` -> 美国 in
    zh-CN, United States in en. A name babel does not know is printed as written."""
    from babel import Locale, UnknownLocaleError

    text = country.strip()
    if not text:
        return ""
    try:
        english, wanted = Locale.parse("en").territories, Locale.parse(lang.replace("-", "_")).territories
    except (UnknownLocaleError, ValueError):
        return text
    code = text.upper() if text.upper() in english and len(text) == 2 else next(
        (k for k, v in english.items() if v.casefold() == text.casefold()), None) or next(
        (k for k, v in Locale.parse("zh").territories.items() if v == text), None)
    return str(wanted.get(code, text)) if code else text


def full_address(data: Mapping[str, Any], lang: str) -> str:
    """An account's address on one line: Chinese order (country, city, street, （postcode）) or Western (street,
    postcode city, country). Latin-script parts in the Chinese order keep their separators ("美国 Houston, 4100
    Westpark Dr（77027）"); Chinese parts run together as Chinese addresses do."""
    street, city = localized(data, "address", lang), localized(data, "city", lang)
    postcode, country = str(data.get("postcode") or ""), localized(data, "country", lang)
    if lang.startswith("zh"):
        home = country.strip().lower() in ("", "cn", "china", "中国", "prc")
        place = [p for p in (city if city not in street else "", street) if p]
        latin = any(ch.isascii() and ch.isalpha() for ch in "".join(place))
        line = (", " if latin else "").join(place)
        nation = "" if home else country_name(country, lang)
        return (f"{nation} " if nation and latin else nation) + line + (f"（{postcode}）" if postcode else "")
    # the postcode follows the city in the US, Canada, the UK and Australia ("Houston 77027"), precedes it elsewhere
    place = (city, postcode) if country.strip().lower() in CITY_BEFORE_POSTCODE else (postcode, city)
    return ", ".join(p for p in (street, " ".join(x for x in place if x), country_name(country, lang)) if p)


def context(book: Book, rec: Record, version: int | None, today: _dt.date, lang: str) -> dict[str, Any]:
    """Everything the quote template may use — plain data, already escaped by the sandbox when printed.

    Texts are in ``lang`` (:func:`localized`); money stays Decimal-as-text for
    the ``money`` filter. ``amount_width`` is the widest amount in characters,
    so the template sizes its amount columns to fit (up to 999,999,999,999.99).
    """
    from crmctl.core.money import rmb_in_words
    from crmctl.io.render import format_money

    data = view(book, rec, version, today)
    printed = sources(book, quotes.version(rec.data, version))
    account, contact, owner = printed.get("buyer") or {}, printed.get("contact"), printed.get("owner")
    products = book.records("products")
    zh = lang == "zh-CN"
    currency = str(data.get("currency") or book.settings.currency)
    totals = data.get("totals") or {}
    group_names = dict(printed.get("groups_en") or {}) if not zh else {}
    units = unit_forms(printed.get("units_en") or {})
    lines = []
    for line in data["lines_view"]:
        group = str(line.get("group") or "")
        lines.append({**_fields(line, ("discount", "unit", "group")), "group": str(group_names.get(group) or group),
                      "unit": unit_for(units, lang, str(line.get("unit") or ""), line.get("qty", 1)),
                      "price": line["unit_price_shown"], "tier": line["tier_shown"],
                      "title": localized(line, "name", lang) or line["sku"],
                      "configuration": printed_configuration(line, lang, products)})
    # each group once, in the order it first appears, so its subtotal sits under all of its lines
    groups: dict[str, dict[str, Any]] = {}
    for line, raw in zip(lines, data["lines_view"]):
        key = str(raw.get("group") or "")
        # lines without a group, among grouped ones, are a group of their own with a name ("Subtotal Other items")
        groups.setdefault(key, {"name": line["group"] or LABELS[lang]["other_items"], "lines": [],
                                "subtotal": (totals.get("groups") or {}).get(key)})
        groups[key]["lines"].append(line)
    fees = [{**fee, "name": localized(fee, "name", lang)} for fee in data.get("fees") or []]
    named = {str(fee.get("name")): localized(fee, "name", lang) for fee in data.get("fees") or []}
    cuts = [{**cut, "name": named.get(str(cut.get("name")), cut.get("name"))} for cut in reductions_of(totals)]
    fees = [fee for fee in fees if not str(fee.get("amount", "")).startswith("-")]   # negative ones are in ``cuts``
    seller = printed.get("seller") or {}
    company = {k: localized(seller, k, lang) for k in ("name", "address", "bank")}
    company.update({k: str(seller.get(k) or "") for k in ("phone", "email", "tax_id", "bank_account", "logo")})
    logo = company["logo"]
    buyer = account or {"name": data.get("account")}
    amounts = [line.get("price") for line in lines] + [line.get("net") for line in lines] + [
        totals.get(k) for k in ("subtotal", "net", "total", "tax", "discount")] + list((totals.get("groups") or {}).values())
    width = max((len(format_money(a, currency, lang)) for a in amounts if a not in (None, "")), default=8)
    in_words = rmb_in_words(totals["total"]) if zh and currency == "CNY" and totals.get("total") not in (None, "") else ""
    treatment = localized(totals, "tax_exempt", lang) if tax_note_of(totals) else ""   # (tax_exempt_en: English)
    return {
        "quote": {**_fields(data, ("number", "title", "date", "valid_until", "incoterms")), "fees": fees},
        "subject": localized(data, "title", lang), "lines": lines,
        "groups": list(groups.values()), "show_group_subtotals": len(groups) > 1,
        "totals": totals, "currency": currency, "labels": LABELS[lang],
        "company": company, "seller_name": company["name"],
        "account": {"name": localized(buyer, "name", lang), "address": full_address(buyer, lang),
                    "tax_id": str(buyer.get("tax_id") or ""),
                    "tax_label": _tax_id_label(buyer.get("tax_id"), lang, str(buyer.get("country") or ""))},
        "buyer_name": localized(buyer, "name", lang),
        "buyer_names": sorted({str(buyer.get(k)) for k in ("name", "name_en", "name_zh") if buyer.get(k)}),
        "contact": {"name": localized(contact, "name", lang), "title": localized(contact, "title", lang),
                    "email": contact.get("email") or "", "phone": contact.get("phone") or ""} if contact else None,
        "owner": {"name": localized(owner, "name", lang), "email": owner.get("email") or "",
                  "phone": owner.get("phone") or ""} if owner else None,
        "logo": logo if logo and _in_templates(book, logo) else "", "draft": bool(offer_problems(book, rec, version, today)),
        "reductions": cuts, "show_tier": any(line["tier"] for line in lines),
        "tax_inclusive": totals.get("tax_mode") == "inclusive" and not totals.get("tax_exempt"), "lang": lang,
        "tax_exempt": bool(totals.get("tax_exempt")),
        "tax_note": treatment, "amount_width": width, "total_in_words": in_words,
        "page_content": _css_page_counter(LABELS[lang]["page"]),
        "payment_terms": localized(data, "payment_terms", lang), "notes": localized(data, "notes", lang),
    }


def _tax_id_label(tax_id: Any, lang: str, country: str = "") -> str:
    """"VAT ID" for an EU VAT number, "EIN" for a US employer identification number (python-stdnum, as ``check``
    validates them), else "Tax ID" / 纳税人识别号."""
    from stdnum.us import ein

    from crmctl.core.text import tax_key

    if tax_key(str(tax_id or "")).startswith("vat:"):
        return LABELS[lang]["vat_id"]
    if country.strip().lower() in US and ein.is_valid(str(tax_id or "")):
        return LABELS[lang]["ein"]
    return LABELS[lang]["tax_id"]


def _css_page_counter(label: str) -> Any:
    """``"Page {page} of {pages}"`` as a CSS ``content`` value with the page counters (marked safe: our own labels)."""
    from markupsafe import Markup

    quoted = '"' + label.replace('"', "'") + '"'
    return Markup(quoted.replace("{page}", '" counter(page) "').replace("{pages}", '" counter(pages) "'))


def tax_note_of(totals: Mapping[str, Any]) -> str:
    """The tax treatment the document prints: the reason of the exemption its totals were computed with (the
    quote's ``tax_exempt``, else its account's), "" when taxed. Taken from the totals, so a document never states a
    treatment its figures do not apply; totals that say exempt yet charge tax are refused (PolicyError)."""
    reason = str(totals.get("tax_exempt") or "")
    if reason and totals.get("tax") not in (None, "") and to_decimal(totals["tax"], "totals.tax") != 0:
        raise PolicyError(f"the quote's totals say it carries no tax ({reason}) yet charge tax {totals['tax']}: a hand "
                          "edit? `crmctl check` names it; price it again (`crmctl quote edit Q --tax-exempt REASON` or "
                          "--taxed)")
    return reason


def reductions_of(totals: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The named reductions of a quote's totals (a quote priced before they were named: its percent discount)."""
    if totals.get("reductions"):
        return list(totals["reductions"])
    if totals.get("discount") not in (None, "", "0", "0.00"):
        return [{"name": f"{totals.get('discount_percent')}%", "amount": totals["discount"]}]
    return []


def unit_forms(table: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Chinese unit -> (English singular, English plural), from a ``quotes.units_en`` table (crm.yaml's, or the
    part of it a sent quote froze in ``as_sent``).

    A value is one word used for every count (``kg``), a list ``[unit, units]``
    or a mapping ``{one: unit, other: units}`` (babel's plural categories).
    """
    forms: dict[str, tuple[str, str]] = {}
    for zh, en in table.items():
        if isinstance(en, Mapping):
            forms[str(zh)] = (str(en.get("one") or en.get("other")), str(en.get("other") or en.get("one")))
        elif isinstance(en, (list, tuple)) and en:
            forms[str(zh)] = (str(en[0]), str(en[-1]))
        else:
            forms[str(zh)] = (str(en), str(en))
    return forms


def unit_for(forms: Mapping[str, tuple[str, str]], lang: str, unit: str, qty: Any) -> str:
    """The unit as a document in ``lang`` prints it next to ``qty``: "1 unit", "2 units", "3 sessions", "4 台".

    English takes the plural form babel's plural rule gives for ``qty``; a
    Chinese document reads the table backwards (either English form -> the
    first Chinese unit); a unit not in the table prints as written.
    """
    if lang.startswith("zh"):
        backwards: dict[str, str] = {}
        for zh, (one, other) in forms.items():
            backwards.setdefault(one, zh)
            backwards.setdefault(other, zh)
        return backwards.get(unit, unit)
    if unit not in forms:
        return unit
    from babel import Locale

    from crmctl.io.render import babel_locale

    one, other = forms[unit]
    return one if Locale.parse(babel_locale(lang)).plural_form(Decimal(str(qty))) == "one" else other


def untranslated(book: Book, rec: Record, today: _dt.date) -> list[str]:
    """For a quote whose document language is English: each printed text that is still Chinese, as ``where: text``.

    Walks the English document's context (what the template prints) and names
    the field to fill (``payment_terms_en``, a fee's ``name_en``, ``quotes.units_en``...).
    """
    return untranslated_in(context(book, rec, None, today, "en"))


def untranslated_in(ctx: Mapping[str, Any]) -> list[str]:
    """:func:`untranslated` of an English document's context (``context(..., "en")``), as ``where: text`` each."""
    found: list[str] = []
    hints = {"payment_terms": "payment_terms_en: quote edit Q --payment-terms-en", "notes": "notes_en: quote edit Q --notes-en", "account": "the account's name_en/address_en/city_en",
             "company": "crm.yaml company (name, address, bank in English; name_zh/address_zh/bank_zh for Chinese)",
             "contact": "the contact's name_en/title_en", "owner": "the user's name_en",
             "lines": "the line's name, the product's option names, quotes.units_en or groups_en",
             "groups": "groups_en on the quote (or quotes.groups_en in crm.yaml)", "quote": "the fee's name_en: quote edit Q --fee-en NAME=ENGLISH",
             "tax_note": "the English reason: the account's tax_exempt_en, or `crmctl quote edit Q --tax-exempt "
                         "REASON --tax-exempt-en ENGLISH`; then `quote submit` it again",
             "subject": "title_en: quote edit Q --title-en"}
    for key in ("subject", "payment_terms", "notes", "account", "company", "contact", "owner", "groups", "quote",
                "tax_note"):
        for path, text in _strings(ctx.get(key), key):
            if key == "quote" and not path.startswith("quote.fees"):
                continue
            if key == "groups" and ".lines" in path and not path.endswith((".title", ".unit")) and ".configuration" not in path:
                continue
            if CJK.search(text):
                found.append(f"{path}: {text[:40]!r} has no English form (set {hints[key]})")
    return found


def english_only_in(ctx: Mapping[str, Any]) -> list[str]:
    """The reverse of :func:`untranslated_in`, for a Chinese document's context (``context(..., "zh-CN")``): each of
    the quote's own texts (title, terms, notes, group and fee names, the tax-exemption reason) that it prints in
    English because it has no Chinese form, as ``where: text``.

    English is a text with no Chinese character and a lower-case word (``[a-z]{4,}``): "Freight to Houston" is,
    a model or code ("VMC-850", "BT40", "CNC") is not. Names of the buyer, contact and seller are left alone — a
    foreign company's name is printed as it is in any language — and so is a title that is the buyer's name (a
    quote's default title). The Chinese form is the field itself, with the
    English one in its ``_en`` (as for a Chinese quote): ``--title 中文 --title-en ENGLISH``.
    """
    hints = {"subject": "quote edit Q --title 中文 --title-en ENGLISH",
             "payment_terms": "quote edit Q --payment-terms 中文 --payment-terms-en ENGLISH",
             "notes": "quote edit Q --notes 中文 --notes-en ENGLISH",
             "groups": "a Chinese group name on the lines with groups_en for English",
             "quote": "quote edit Q --fee 中文=AMOUNT --fee-en 中文=ENGLISH",
             "tax_note": "the account's tax_exempt in Chinese with tax_exempt_en, or quote edit Q --tax-exempt 中文 "
                         "--tax-exempt-en ENGLISH; then `quote submit` it again"}
    found: list[str] = []
    names = set(ctx.get("buyer_names") or ())
    for key in hints:
        for path, text in _strings(ctx.get(key), key):
            if key == "quote" and not (path.startswith("quote.fees") and path.endswith(".name")):
                continue
            if key == "groups" and not GROUP_NAME.fullmatch(path):   # the lines' names come from the catalog
                continue
            if text in names:   # a quote's default title is its buyer's name: a name, printed as it is
                continue
            if not CJK.search(text) and ENGLISH_WORD.search(text):
                found.append(f"{path}: {text[:40]!r} has no Chinese form (set it: {hints[key]})")
    return found


ENGLISH_WORD = re.compile(r"[a-z]{4,}")
GROUP_NAME = re.compile(r"groups\[\d+\]\.name")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every text inside ``value`` with its path (``groups[0].lines[1].unit``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _fields(data: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys a template uses, present (empty when unknown), so a strict template never trips on a missing one."""
    return {**{k: "" for k in keys}, **{k: v for k, v in data.items() if v is not None}}


def _in_templates(book: Book, name: str) -> bool:
    from crmctl.io.render import template_dirs

    return any(os.path.isfile(os.path.join(d, name)) for d in template_dirs(book.root))


def default_path(book: Book, data: Mapping[str, Any], qid: str, html: bool) -> str:
    """``out/<number or id>-v<N>.pdf``, built from validated parts only (a number like ``../../x`` is refused)."""
    from crmctl.core.ids import DOC_NUMBER, check_id

    number = str(data.get("number") or check_id(qid))
    if not DOC_NUMBER.fullmatch(number):
        raise CrmError(f"quote {qid}: number {number!r} is not a document number (letters, digits and '-'); "
                       "`crmctl check` names it — fix it before rendering")
    version = data.get("version") or 1
    if isinstance(version, bool) or not isinstance(version, int):
        raise CrmError(f"quote {qid}: version {version!r} is not a whole number")
    problem = out_dir_problem(book)
    if problem:
        raise CrmError(f"crm.yaml quotes.out_dir: {problem}")
    folder = os.path.join(book.root, str(book.settings.get("quotes.out_dir", "out")))
    return os.path.join(folder, f"{number}-v{version}.{'html' if html else 'pdf'}")


def out_dir_problem(book: Book) -> str | None:
    """Why crm.yaml ``quotes.out_dir`` is no folder inside the book (None: it is). It comes with a pull, so it
    must be relative, without ``..``, and with no symbolic link on the way (the folders that exist are looked at);
    an explicit ``--out`` is the user's own choice and is not judged here."""
    import pathlib

    value = book.settings.get("quotes.out_dir", "out")
    if not isinstance(value, str) or not value.strip():
        return f"{value!r} must be a folder inside the book, e.g. out"
    parts = pathlib.PurePosixPath(value.replace("\\", "/")).parts
    if os.path.isabs(value) or value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":") or ".." in parts:
        return f"{value!r} is outside the book; give a folder inside it (relative, without '..'), e.g. out"
    here = book.root
    for part in parts:
        here = os.path.join(here, part)
        if os.path.islink(here):
            return f"{value!r}: {here} is a symbolic link; crmctl writes documents only into a plain folder inside the book"
    return None


def render(book: Book, rec: Record, today: _dt.date, *, out: str | None = None, lang: str | None = None,
           template: str | None = None, version: int | None = None, html: bool = False,
           warn: Callable[[str, list[str]], None] = lambda lang, found: None) -> tuple[str, list[str]]:
    """Write the quote as a PDF (or HTML); returns the path written and why it carries the DRAFT mark
    (:func:`offer_problems`; empty when it prints clean). ``warn`` is given the language and each printed text not in the document's
    language: for an English document what has no English form (:func:`untranslated_in`), for a Chinese one the
    quote's texts that have only an English form (:func:`english_only_in`); empty when none."""
    from crmctl.io.render import html_to_pdf, render_html, write_atomic

    data = quotes.version(rec.data, version)
    altered = [why for n, why in quotes.altered_versions(rec.data) if n == data.get("version")]
    if altered:
        raise CrmError(f"quote {rec.id}: {altered[0]}; it is not printed as what was sent — restore it from git "
                       "(`git log -p` on its file); `crmctl check` names it")
    lang = lang or str(data.get("lang") or ("zh-CN" if str(book.settings.get("locale", "")).startswith("zh") else "en"))
    if lang not in LABELS:
        raise CrmError(f"--lang {lang!r}: use zh-CN or en")
    name = template or str(book.settings.get("quotes.template", "quote.html"))
    ctx = context(book, rec, version, today, lang)
    if lang == "en":   # what `check` says of an English quote, said of any English rendering (send refuses it)
        warn(lang, untranslated_in(ctx))
    else:              # and the reverse: a Chinese document of a quote whose own texts are only in English
        warn(lang, english_only_in(ctx))
    text = render_html(book.root, name, ctx, lang)
    path = out or default_path(book, data, rec.id, html)
    if html:
        write_atomic(path, text.encode("utf-8"))
    else:
        html_to_pdf(text, book.root, path)
    return path, offer_problems(book, rec, version, today) if ctx["draft"] else []
