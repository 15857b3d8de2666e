"""The pricing engine: one line step by step, and a quote's totals. Pure Decimal.

Every step names the rule that produced it and its amount is already rounded
to the currency's minor unit, so the steps a person reads always add up to
the net exactly. Order of steps (README, "How a price is made"):

1. list price (product ``prices.CUR``), or the price book's fixed ``price``;
2. each chosen option: a fixed amount per currency, or a percent of the base;
   bundle components added or chosen (included ones show at 0);
3. the price book's ``discount`` (percent off list) on the configured unit price;
4. times the quantity, then the volume tier: ``range`` (whole quantity at the
   tier's price) or ``slab`` (each band at its own price);
5. the line discount; net; tax (inclusive or exclusive) and total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.money import quantize, to_decimal
from crmctl.cpq.configure import Configuration, group_by_id, option

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TaxRules:
    """``tax:`` from crm.yaml, plus the rounding mode."""

    mode: str = "exclusive"          # exclusive: tax on top; inclusive: prices include tax
    apply: str = "per_line"          # per_line | on_total
    rates: Mapping[str, Decimal] = field(default_factory=lambda: {"standard": Decimal(13)})
    default_category: str = "standard"
    rounding: str = "half-up"

    def rate(self, category: str | None) -> Decimal:
        cat = category or self.default_category
        if cat not in self.rates:
            raise PolicyError(f"tax category {cat!r} is not in crm.yaml tax.categories ({', '.join(self.rates)})")
        return self.rates[cat]


def tax_rules(settings: Any) -> TaxRules:
    cats = settings.get("tax.categories", {}) or {}
    return TaxRules(str(settings.get("tax.mode", "exclusive")), str(settings.get("tax.apply", "per_line")),
                    {str(k): to_decimal(v, f"tax.categories.{k}") for k, v in cats.items()},
                    str(settings.get("tax.default_category", "standard")), settings.rounding)


@dataclass
class Step:
    """One step of a price: what it is, the rule behind it, its amount and the running value."""

    label: str
    rule: str
    amount: Decimal
    running: Decimal
    per: str = "unit"                # unit | line

    def as_dict(self, currency: str) -> dict[str, str]:
        return {"step": self.label, "rule": self.rule, "amount": str(self.amount), "running": str(self.running),
                "per": self.per, "currency": currency}


@dataclass
class LinePrice:
    """A priced line: the steps and the figures a quote stores."""

    sku: str
    qty: int
    currency: str
    steps: list[Step]
    unit_price: Decimal              # configured unit price after the price book, before tier and discount
    gross: Decimal                   # quantity x unit after the volume tier
    discount: Decimal                # line discount in percent
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    cost: Decimal | None             # extended cost, when the catalog knows it
    problems: list[str] = field(default_factory=list)


def _amount(mapping: Any, currency: str, what: str) -> Decimal:
    if not isinstance(mapping, dict) or currency not in mapping:
        raise PolicyError(f"{what} has no price in {currency}; add {currency} to it or quote in another --currency")
    return to_decimal(mapping[currency], what)


def price_line(sku: str, product: Mapping[str, Any], config: Configuration, qty: int, currency: str, tax: TaxRules,
               book_id: str | None = None, entry: Mapping[str, Any] | None = None, discount: Decimal = ZERO,
               components: Mapping[str, Mapping[str, Any]] | None = None) -> LinePrice:
    """Price ``qty`` of a configured product; ``components`` are the catalog's bundle parts by SKU."""
    if qty <= 0:
        raise ValidationError(f"--qty {qty}: the quantity must be 1 or more")
    q = lambda amount: quantize(amount, currency, tax.rounding)  # noqa: E731 - one rounding rule, used everywhere
    steps: list[Step] = []
    problems = list(config.problems)
    entry = dict(entry or {})
    where = f"pricebook {book_id}" if book_id else ""

    def add(label: str, rule: str, amount: Decimal, per: str = "unit") -> Decimal:
        running = (steps[-1].running if steps else ZERO) + amount
        steps.append(Step(label, rule, amount, running, per))
        return running

    base = q(_amount(product.get("prices"), currency, f"product {sku}"))
    add("list price", f"products/{sku}: prices.{currency}", base)
    if entry.get("price") not in (None, ""):
        fixed = q(to_decimal(entry["price"], f"{where} {sku} price"))
        base = add("price book price", f"{where}: fixed price {fixed}", fixed - base)
    cost = _cost(product.get("cost"), currency)
    for gid, oids in config.selected.items():
        grp = group_by_id(product, gid) or {}
        for oid in oids:
            opt = option(grp, oid) or {}
            if opt.get("component"):
                part = (components or {}).get(oid) or {}
                each = q(_amount(part.get("prices"), currency, f"component {oid}") * int(opt.get("qty") or 1))
                add(f"component {oid}", f"{sku} optional component x{opt.get('qty') or 1}", each)
                cost = _plus(cost, _cost(part.get("cost"), currency), int(opt.get("qty") or 1))
                continue
            if opt.get("percent") not in (None, ""):
                pct = to_decimal(opt["percent"], f"{sku} option {gid}={oid} percent")
                add(f"option {gid}={oid}", f"{pct}% of base {base}", q(base * pct / HUNDRED))
            else:
                fixed_opt = q(_amount(opt.get("price") or {currency: 0}, currency, f"option {gid}={oid}"))
                add(f"option {gid}={oid}", f"{sku} option price {currency}" if fixed_opt else "standard (no charge)", fixed_opt)
            cost = _plus(cost, _cost(opt.get("cost"), currency), 1)
    for comp in product.get("components") or []:
        if not isinstance(comp, dict) or comp.get("mode") == "optional":
            continue
        csku, cqty = str(comp.get("sku")), int(comp.get("qty") or 1)
        part = (components or {}).get(csku) or {}
        if comp.get("mode") == "added":
            add(f"component {csku}", f"{sku} bundle: {csku} x{cqty} added (priced separately)",
                q(_amount(part.get("prices"), currency, f"component {csku}") * cqty))
        else:
            add(f"component {csku}", f"{sku} bundle: {csku} x{cqty} included (priced in)", q(ZERO))
        cost = _plus(cost, _cost(part.get("cost"), currency), cqty) if product.get("cost") is None else cost
    unit = steps[-1].running
    if entry.get("discount") not in (None, ""):
        pct = to_decimal(entry["discount"], f"{where} {sku} discount")
        unit = add("price book discount", f"{where}: {pct}% off list", -q(unit * pct / HUNDRED))
    minimum = max(int(product.get("min_qty") or 1), int(entry.get("min_qty") or 1))
    if qty < minimum:
        source = f"{where} min_qty" if int(entry.get("min_qty") or 1) >= int(product.get("min_qty") or 1) else f"products/{sku} min_qty"
        problems.append(f"{sku}: quantity {qty} is below the minimum of {minimum} ({source})")
    gross = add(f"quantity x {qty}", f"{unit} x {qty}", unit * qty - unit, "line")
    gross = _tier(entry, unit, qty, gross, q, add, where, sku)
    if discount:
        add("line discount", f"{discount}% line discount", -q(gross * discount / HUNDRED), "line")
    net = steps[-1].running
    rate = tax.rate(product.get("tax_category"))
    line_tax = q(net * rate / (HUNDRED + rate)) if tax.mode == "inclusive" else q(net * rate / HUNDRED)
    total = net if tax.mode == "inclusive" else net + line_tax
    return LinePrice(sku, qty, currency, steps, unit, gross, discount, net, rate, line_tax, total,
                     None if cost is None else q(cost * qty), problems)


def _tier(entry: Mapping[str, Any], unit: Decimal, qty: int, gross: Decimal, q: Any, add: Any, where: str, sku: str) -> Decimal:
    """Apply the entry's volume tiers to the extended amount."""
    bands = sorted((b for b in entry.get("tiers") or [] if isinstance(b, dict)), key=lambda b: int(b.get("min", 1)))
    if not bands:
        return gross
    mode = str(entry.get("tier_mode", "range"))

    def band_unit(band: Mapping[str, Any]) -> Decimal:
        if band.get("price") not in (None, ""):
            return q(to_decimal(band["price"], f"{where} {sku} tier price"))
        return unit - q(unit * to_decimal(band.get("discount", 0), f"{where} {sku} tier discount") / HUNDRED)

    if mode == "slab":
        # each band of the quantity at its own unit price; below the first band, the unit price
        edges = [1, *(int(b.get("min", 1)) for b in bands)]
        units = [unit, *(band_unit(b) for b in bands)]
        total, parts = Decimal(0), []
        for i, start in enumerate(edges):
            end = min(qty, edges[i + 1] - 1) if i + 1 < len(edges) else qty
            if end >= start:
                total += q(units[i] * (end - start + 1))
                parts.append(f"{start}-{end}@{units[i]}")
        if total == gross:
            return gross
        return add("volume tier (slab)", f"{where}: slab {', '.join(parts)}", total - gross, "line")
    chosen = [b for b in bands if int(b.get("min", 1)) <= qty]
    if not chosen:
        return gross
    band = chosen[-1]
    what = f"price {band['price']}" if band.get("price") not in (None, "") else f"{band.get('discount')}% off"
    return add("volume tier (range)", f"{where}: range tier qty >= {band.get('min')}: {what} on all {qty}",
               q(band_unit(band) * qty) - gross, "line")


def _cost(mapping: Any, currency: str) -> Decimal | None:
    return to_decimal(mapping[currency]) if isinstance(mapping, dict) and currency in mapping else None


def _plus(total: Decimal | None, extra: Decimal | None, times: int) -> Decimal | None:
    if extra is None:
        return total
    return (total or ZERO) + extra * times


def quote_totals(lines: list[Mapping[str, Any]], discount: Decimal, fees: list[Mapping[str, Any]], currency: str,
                 tax: TaxRules) -> dict[str, Any]:
    """A quote's totals from its priced lines (``net``, ``tax_rate``, ``group``), quote discount and fees.

    The quote discount is split over the lines (each share rounded) so that per-line
    tax and the totals agree to the cent; fees are not discounted.
    """
    q = lambda amount: quantize(amount, currency, tax.rounding)  # noqa: E731
    groups: dict[str, Decimal] = {}
    bases: list[tuple[Decimal, Decimal]] = []   # (taxable amount, rate)
    subtotal = off = ZERO
    for line in lines:
        net = to_decimal(line.get("net"), "line net")
        group = str(line.get("group") or "")
        groups[group] = groups.get(group, ZERO) + net
        share = q(net * discount / HUNDRED)
        subtotal, off = subtotal + net, off + share
        bases.append((net - share, to_decimal(line.get("tax_rate", 0), "tax_rate")))
    fee_total = ZERO
    for fee in fees:
        amount = q(to_decimal(fee.get("amount"), f"fee {fee.get('name')}"))
        fee_total += amount
        bases.append((amount, tax.rate(fee.get("tax_category"))))
    by_rate: dict[Decimal, Decimal] = {}
    if tax.apply == "on_total":
        sums: dict[Decimal, Decimal] = {}
        for amount, rate in bases:
            sums[rate] = sums.get(rate, ZERO) + amount
        by_rate = {rate: _tax(amount, rate, tax, q) for rate, amount in sums.items()}
    else:
        for amount, rate in bases:
            by_rate[rate] = by_rate.get(rate, ZERO) + _tax(amount, rate, tax, q)
    tax_total = sum(by_rate.values(), ZERO)
    net = subtotal - off + fee_total
    return {"currency": currency, "groups": groups, "subtotal": subtotal, "discount_percent": discount,
            "discount": off, "fees": fee_total, "net": net, "tax": tax_total,
            "tax_by_rate": {str(r): a for r, a in sorted(by_rate.items())}, "tax_mode": tax.mode,
            "total": net if tax.mode == "inclusive" else net + tax_total}


def _tax(amount: Decimal, rate: Decimal, tax: TaxRules, q: Any) -> Decimal:
    result: Decimal = q(amount * rate / (HUNDRED + rate)) if tax.mode == "inclusive" else q(amount * rate / HUNDRED)
    return result
