"""Looking at quotes again: re-pricing them with today's rules, and cross-sell suggestions."""
from __future__ import annotations

from typing import Any, Mapping

from crmctl.core.book import Book
from crmctl.core.errors import NotFound, PolicyError, ValidationError
from crmctl.core.money import money_str, to_decimal
from crmctl.cpq.quotes import price_line_of, priced_line, reprice, with_totals

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
            if target not in have and target in products and target not in rows and products[target].get("active") is not False:
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

