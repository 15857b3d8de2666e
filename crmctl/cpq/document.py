"""A quote as people see it: the priced view for ``quote show`` and the context of the PDF.

Reads only. Rendering goes through :mod:`crmctl.io.render` (sandboxed Jinja2,
restricted WeasyPrint fetcher), imported inside :func:`render` so no other
command pays for WeasyPrint.
"""
from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Mapping

from crmctl.core.book import Book, Record
from crmctl.core.errors import CrmError
from crmctl.core.states import QUOTE_DRAFT_DOCUMENT, QUOTE_EDITABLE, ApprovalState, ApprovalStatus, quote_status
from crmctl.cpq import policy, quotes
from crmctl.cpq.configure import as_list, describe

LABELS: dict[str, dict[str, str]] = {
    "en": {"quote": "Quotation", "number": "Quote no.", "version": "Version", "date": "Date", "valid_until": "Valid until",
           "seller": "Seller", "buyer": "Customer", "contact": "Attention", "item": "Item", "qty": "Qty", "unit_price": "Unit price",
           "discount": "Disc.", "amount": "Amount", "subtotal": "Subtotal", "group_subtotal": "Subtotal", "quote_discount": "Discount",
           "fees": "Fees", "net": "Net", "tax": "Tax", "tax_included": "incl. tax", "total": "Total", "terms": "Payment terms",
           "notes": "Notes", "signature_seller": "For the seller", "signature_buyer": "Accepted by the customer",
           "sign_date": "Name, signature and date", "page": "Page", "of": "of", "draft": "DRAFT — not an offer",
           "tax_id": "Tax ID", "bank": "Bank", "unit": "Unit", "status": "Status", "owner": "Sales contact"},
    "zh-CN": {"quote": "报价单", "number": "报价单号", "version": "版本", "date": "日期", "valid_until": "有效期至",
              "seller": "卖方", "buyer": "客户", "contact": "联系人", "item": "产品及配置", "qty": "数量", "unit_price": "单价",
              "discount": "折扣", "amount": "金额", "subtotal": "小计", "group_subtotal": "分组小计", "quote_discount": "整单折扣",
              "fees": "其他费用", "net": "不含税金额", "tax": "税额", "tax_included": "含税", "total": "合计", "terms": "付款条件",
              "notes": "备注", "signature_seller": "卖方（盖章）", "signature_buyer": "买方确认（盖章）",
              "sign_date": "签字及日期", "page": "第", "of": "页，共", "draft": "草稿 — 非正式报价",
              "tax_id": "税号", "bank": "开户行及账号", "unit": "单位", "status": "状态", "owner": "销售代表"},
}


def view(book: Book, rec: Record, version: int | None, today: _dt.date) -> dict[str, Any]:
    """The quote (or one of its versions) with computed status, approval state and numbered lines."""
    data = quotes.version(rec.data, version)
    products = book.records("products")
    catalog = {sku: rec.data for sku, rec in products.items()}
    lang = str(data.get("lang") or "en")
    lines_view = []
    for n, line in enumerate(data.get("lines") or [], 1):
        prod = products[str(line["sku"])].data if str(line.get("sku")) in products else {}
        selected = {g: as_list(v) for g, v in (line.get("options") or {}).items()}
        lines_view.append({**line, "n": n, "configuration": describe(prod, selected, lang, catalog) if prod else []})
    state = policy.approval_state(data)
    approval = data.get("approval") or {}
    summary = {ApprovalState.MISSING: "none", ApprovalState.STALE: f"STALE (by {approval.get('by')}; content changed since)",
               ApprovalState.VALID: f"{approval.get('by')} ({approval.get('role')}) at {approval.get('at')}"}[state]
    if approval.get("status") == ApprovalStatus.PENDING:
        summary = f"pending: needs a {approval.get('required_role')}"
    elif approval.get("status") == ApprovalStatus.REJECTED:
        summary = f"rejected by {approval.get('by')}: {approval.get('reason')}"
    totals = data.get("totals") or {}
    totals_view = [{"total": f"subtotal {g}" if g else "subtotal", "amount": v}
                   for g, v in (totals.get("groups") or {}).items() if len(totals.get("groups") or {}) > 1]
    totals_view += [{"total": k.replace("_", " "), "amount": totals.get(k)} for k in ("subtotal", "discount", "fees", "net", "tax", "total")
                    if totals.get(k) is not None]
    status = quote_status(data, today)
    problems = quotes.quote_problems(book, data) if status in QUOTE_EDITABLE else []
    return {"id": rec.id, **data, "status": str(status), "approval_state": str(state),
            "approval_summary": summary, "lines_view": lines_view, "totals_view": totals_view, "problems": problems}


def context(book: Book, rec: Record, version: int | None, today: _dt.date, lang: str) -> dict[str, Any]:
    """Everything the quote template may use — plain data, already escaped by the sandbox when printed."""
    data = view(book, rec, version, today)
    account = book.lookup("accounts", data.get("account"))
    contact = book.lookup("contacts", data.get("contact"))
    owner = book.records("users").get(str(data.get("owner"))) if data.get("owner") else None
    products = book.records("products")
    catalog = {sku: rec.data for sku, rec in products.items()}
    zh = lang == "zh-CN"
    units = unit_labels(book, lang)
    lines = []
    for line in data["lines_view"]:
        prod = products[str(line["sku"])].data if str(line["sku"]) in products else {}
        selected = {g: as_list(v) for g, v in (line.get("options") or {}).items()}
        name = (line.get("name_zh") if zh else None) or line.get("name") or line["sku"]
        lines.append({**_fields(line, ("discount", "unit", "group")), "unit": units.get(str(line.get("unit") or ""), str(line.get("unit") or "")),
                      "title": name, "configuration": describe(prod, selected, lang, catalog) if prod else []})
    # each group once, in the order it first appears, so its subtotal sits under all of its lines
    groups: dict[str, dict[str, Any]] = {}
    for line in lines:
        name = str(line.get("group") or "")
        groups.setdefault(name, {"name": name, "lines": [], "subtotal": (data.get("totals") or {}).get("groups", {}).get(name)})
        groups[name]["lines"].append(line)
    company = _fields(book.settings.get("company", {}) or {}, ("name", "name_zh", "address", "phone", "email", "tax_id", "bank", "logo"))
    logo = str(company.get("logo") or "")
    return {
        "quote": _fields(data, ("number", "title", "date", "valid_until", "fees")), "lines": lines,
        "groups": list(groups.values()), "show_group_subtotals": len(groups) > 1,
        "totals": data.get("totals") or {}, "currency": data.get("currency"), "labels": LABELS[lang],
        "company": company, "seller_name": (company.get("name_zh") if zh else None) or company.get("name", ""),
        "account": _fields(account.data if account else {"name": data.get("account")}, ("name", "address", "city", "tax_id")),
        "buyer_name": ((account.get("name") if zh else account.get("name_en")) or account.get("name")) if account else data.get("account"),
        "contact": _fields(contact.data, ("name", "title", "email", "phone")) if contact else None,
        "owner": _fields(owner.data, ("name", "email", "phone")) if owner else None,
        "logo": logo if logo and _in_templates(book, logo) else "", "draft": data["status"] in QUOTE_DRAFT_DOCUMENT,
        "tax_inclusive": (data.get("totals") or {}).get("tax_mode") == "inclusive", "lang": lang,
        "payment_terms": data.get("payment_terms") or "", "notes": data.get("notes") or "",
    }


def unit_labels(book: Book, lang: str) -> dict[str, str]:
    """Unit as stored -> unit in the document's language, from ``quotes.units_en`` in crm.yaml.

    A Chinese document reads the table backwards (the first Chinese unit for
    an English one); a unit not in the table prints as written.
    """
    table = {str(k): str(v) for k, v in (book.settings.get("quotes.units_en") or {}).items()}
    if not lang.startswith("zh"):
        return table
    backwards: dict[str, str] = {}
    for zh, en in table.items():
        backwards.setdefault(en, zh)
    return backwards


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
    folder = os.path.join(book.root, str(book.settings.get("quotes.out_dir", "out")))
    if os.path.islink(folder):
        raise CrmError(f"{folder}: is a symbolic link; crmctl writes documents only into a plain folder")
    return os.path.join(folder, f"{number}-v{version}.{'html' if html else 'pdf'}")


def render(book: Book, rec: Record, today: _dt.date, *, out: str | None = None, lang: str | None = None,
           template: str | None = None, version: int | None = None, html: bool = False) -> str:
    """Write the quote as a PDF (or HTML) and return the path written."""
    from crmctl.io.render import html_to_pdf, render_html, write_atomic

    data = quotes.version(rec.data, version)
    lang = lang or str(data.get("lang") or ("zh-CN" if str(book.settings.get("locale", "")).startswith("zh") else "en"))
    if lang not in LABELS:
        raise CrmError(f"--lang {lang!r}: use zh-CN or en")
    name = template or str(book.settings.get("quotes.template", "quote.html"))
    text = render_html(book.root, name, context(book, rec, version, today, lang), lang)
    path = out or default_path(book, data, rec.id, html)
    if html:
        write_atomic(path, text.encode("utf-8"))
    else:
        html_to_pdf(text, book.root, path)
    return path
