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

Unit prices (steps 1-3, tier prices) keep ``price_digits`` decimals (crm.yaml,
default 4, as ERPs do); amounts of a line are rounded to the currency's minor
unit. A line also records what the customer would have paid at list
(``list_unit``, the configured unit price before any price book) and its
cost, so the discount policy can judge every reduction from list, whatever it
is called. A quote's reductions (its percent ``discount`` and negative fees)
are computed on the total and allocated to the lines by largest remainder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.limits import read
from crmctl.core.money import ROUNDING, minor_unit, quantize, to_decimal
from crmctl.core.numbers import price_digits, stored_count
from crmctl.cpq.configure import Configuration, group_by_id, option

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def price_str(amount: Decimal, currency: str) -> str:
    """A unit price as text: the currency's decimals at least, more only when the price has them (0.333, 100000.00)."""
    digits = max(minor_unit(currency), -amount.normalize().as_tuple().exponent if amount else 0)
    return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"


@dataclass(frozen=True)
class TaxRules:
    """``tax:`` from crm.yaml, plus the rounding mode."""

    mode: str = "exclusive"          # exclusive: tax on top; inclusive: prices include tax
    apply: str = "per_line"          # per_line | on_total
    rates: Mapping[str, Decimal] = field(default_factory=lambda: {"standard": Decimal(13)})
    default_category: str = "standard"
    rounding: str = "half-up"
    price_digits: int = 4            # decimals of unit prices (amounts use the currency's minor unit)

    def rate(self, category: str | None) -> Decimal:
        cat = category or self.default_category
        if cat not in self.rates:
            raise PolicyError(f"tax category {cat!r} is not in crm.yaml tax.categories ({', '.join(self.rates)})")
        return self.rates[cat]


def tax_rules(settings: Any) -> TaxRules:
    cats = settings.get("tax.categories", {}) or {}
    return TaxRules(str(settings.get("tax.mode", "exclusive")), str(settings.get("tax.apply", "per_line")),
                    {str(k): read(settings, f"tax.categories.{k}") for k in cats},
                    str(settings.get("tax.default_category", "standard")), settings.rounding, price_digits(settings))


def quote_tax_rules(settings: Any, data: Mapping[str, Any]) -> TaxRules:
    """The tax rules a priced quote was priced under: the book's, with the mode its ``totals.tax_mode`` stored.

    A later change of crm.yaml's ``tax.mode`` must not re-judge a quote priced before it (an accepted
    exclusive quote re-read as inclusive looks 14% off list and would need another approver). A draft
    is priced again at submit, which stores the mode of that day.
    """
    from dataclasses import replace

    rules = tax_rules(settings)
    mode = (data.get("totals") or {}).get("tax_mode")
    return replace(rules, mode=str(mode)) if mode in ("inclusive", "exclusive") else rules



def unit_round(amount: Decimal, currency: str, tax: TaxRules) -> Decimal:
    """A unit price rounded to ``price_digits`` (never fewer decimals than the currency has)."""
    digits = max(tax.price_digits, minor_unit(currency))
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUNDING.get(tax.rounding, ROUND_HALF_UP))


@dataclass
class Step:
    """One step of a price: what it is, the rule behind it, its amount and the running value."""

    label: str
    rule: str
    amount: Decimal
    running: Decimal
    per: str = "unit"                # unit | line

    def as_dict(self, currency: str) -> dict[str, str]:
        return {"step": self.label, "rule": self.rule, "amount": price_str(self.amount, currency),
                "running": price_str(self.running, currency), "per": self.per, "currency": currency}


@dataclass
class LinePrice:
    """A priced line: the steps and the figures a quote stores (unit prices at ``price_digits``)."""

    sku: str
    qty: int
    currency: str
    steps: list[Step]
    unit_price: Decimal              # configured unit price after the price book, before tier and discount
    gross: Decimal                   # quantity x unit after the volume tier
    discount: Decimal                # line discount in percent
    net: Decimal
    tax_rate: Decimal                # the product's own rate (a bundle's added parts may carry others: tax_by_rate)
    tax: Decimal                     # all the line's tax, every rate
    total: Decimal
    cost: Decimal | None             # extended cost; None when any priced part's cost is unknown
    problems: list[str] = field(default_factory=list)
    list_unit: Decimal = ZERO        # the configured unit price at list (no price book): what reductions are measured from
    tier: Decimal = ZERO             # the volume tier's change to the line amount (negative when it lowers it)
    tax_parts: dict[Decimal, Decimal] = field(default_factory=dict)  # unit amount by tax rate (bundles' own-rate parts)
    unknown_cost: list[str] = field(default_factory=list)            # which priced parts carry no cost
    tax_by_rate: dict[Decimal, Decimal] = field(default_factory=dict)  # the line's tax by rate (as a quote taxes it)

    @property
    def list_amount(self) -> Decimal:
        """What the line would cost the customer at list price, before any reduction."""
        return self.list_unit * self.qty


def _amount(mapping: Any, currency: str, what: str) -> Decimal:
    if not isinstance(mapping, dict) or currency not in mapping:
        raise PolicyError(f"{what} has no price in {currency}; add {currency} to it or quote in another --currency")
    return to_decimal(mapping[currency], what)


def list_price(sku: str, product: Mapping[str, Any], currency: str) -> Decimal:
    """The product's list price in ``currency``; zero or negative is refused (free items are a bundle rule)."""
    base = _amount(product.get("prices"), currency, f"product {sku}")
    if base <= 0:
        raise PolicyError(f"product {sku}: list price {base} {currency} must be more than 0; a free item is a bundle "
                          "component (mode: included), a reduction is a discount the policy approves")
    return base


def price_line(sku: str, product: Mapping[str, Any], config: Configuration, qty: int, currency: str, tax: TaxRules,
               book_id: str | None = None, entry: Mapping[str, Any] | None = None, discount: Decimal = ZERO,
               components: Mapping[str, Mapping[str, Any]] | None = None) -> LinePrice:
    """Price ``qty`` of a configured product; ``components`` are the catalog's bundle parts by SKU.

    Raises PolicyError for a list price <= 0 or a line whose net comes to 0 or less.
    """
    if qty <= 0:
        raise ValidationError(f"--qty {qty}: the quantity must be 1 or more")
    q = lambda amount: quantize(amount, currency, tax.rounding)  # noqa: E731 - one rounding rule, used everywhere
    uq = lambda amount: unit_round(amount, currency, tax)  # noqa: E731 - unit prices keep price_digits
    ps = lambda amount: price_str(amount, currency)  # noqa: E731 - as a person writes a price
    steps: list[Step] = []
    problems = list(config.problems)
    entry = dict(entry or {})
    where = f"pricebook {book_id}" if book_id else ""
    own_rate = tax.rate(product.get("tax_category"))
    parts: dict[Decimal, Decimal] = {}     # unit amounts of components taxed at their own rate
    unknown: list[str] = []

    def add(label: str, rule: str, amount: Decimal, per: str = "unit") -> Decimal:
        before = steps[-1].running if steps else ZERO
        running = before + amount
        if per == "line":   # a line's running amount is whole minor units; the step is the exact change to it
            running = q(running)
            amount = running - before
            if amount == 0:   # a step that changes nothing is not shown (no "0.00" tier, no "-0.00" rounding)
                steps[-1] = Step(steps[-1].label, steps[-1].rule, steps[-1].amount, running, steps[-1].per)
                return running
        steps.append(Step(label, rule, amount + ZERO if amount == 0 else amount, running, per))
        return running

    def costed(cost: Decimal | None, extra: Any, times: int, what: str, priced: bool) -> Decimal | None:
        value = _cost(extra, currency)
        if value is None and priced:
            unknown.append(what)
        return _plus(cost, value, times)

    def part_of(csku: str, amount: Decimal, part: Mapping[str, Any]) -> None:
        rate = tax.rate(part.get("tax_category"))
        if rate != own_rate and amount:
            parts[rate] = parts.get(rate, ZERO) + amount

    base = uq(list_price(sku, product, currency))
    list_base = listed = base
    add("list price", f"products/{sku}: prices.{currency}", base)
    if entry.get("price") not in (None, ""):
        fixed = uq(to_decimal(entry["price"], f"{where} {sku} price"))
        base = add("price book price", f"{where}: fixed price {ps(fixed)}", fixed - base)
    cost = _cost(product.get("cost"), currency)
    if cost is None and not product.get("components"):
        unknown.append(f"product {sku}")
    for gid, oids in config.selected.items():
        grp = group_by_id(product, gid) or {}
        for oid in oids:
            opt = option(grp, oid) or {}
            if opt.get("component"):
                part = (components or {}).get(oid) or {}
                times = stored_count(opt.get("qty"), field=f"{sku} option {gid}={oid} qty", default=1, minimum=1)
                each = uq(_amount(part.get("prices"), currency, f"component {oid}") * times)
                add(f"component {oid}", f"{sku} optional component x{times}", each)
                listed += each
                part_of(oid, each, part)
                cost = costed(cost, part.get("cost"), times, f"component {oid}", bool(each))
                continue
            if opt.get("percent") not in (None, ""):
                pct = to_decimal(opt["percent"], f"{sku} option {gid}={oid} percent")
                amount = uq(base * pct / HUNDRED)
                add(f"option {gid}={oid}", f"{pct}% of base {ps(base)}", amount)
                listed += uq(list_base * pct / HUNDRED)
            else:
                amount = uq(_amount(opt.get("price") or {currency: 0}, currency, f"option {gid}={oid}"))
                add(f"option {gid}={oid}", f"{sku} option price {currency}" if amount else "standard (no charge)", amount)
                listed += amount
            cost = costed(cost, opt.get("cost"), 1, f"option {gid}={oid}", bool(amount))
    for comp in product.get("components") or []:
        if not isinstance(comp, dict) or comp.get("mode") == "optional":
            continue
        csku = str(comp.get("sku"))
        cqty = stored_count(comp.get("qty"), field=f"products/{sku} component {csku} qty", default=1, minimum=1)
        part = (components or {}).get(csku) or {}
        if comp.get("mode") == "added":
            each = uq(_amount(part.get("prices"), currency, f"component {csku}") * cqty)
            add(f"component {csku}", f"{sku} bundle: {csku} x{cqty} added (priced separately)", each)
            listed += each
            part_of(csku, each, part)
            cost = costed(cost, part.get("cost"), cqty, f"component {csku}", True)
        else:
            add(f"component {csku}", f"{sku} bundle: {csku} x{cqty} included (priced in)", ZERO)
            if product.get("cost") is None:
                cost = costed(cost, part.get("cost"), cqty, f"component {csku}", True)
    unit = steps[-1].running
    if entry.get("discount") not in (None, ""):
        pct = to_decimal(entry["discount"], f"{where} {sku} discount")
        unit = add("price book discount", f"{where}: {pct}% off list", -uq(unit * pct / HUNDRED))
    own_min = stored_count(product.get("min_qty"), field=f"products/{sku} min_qty", default=1, minimum=1)
    book_min = stored_count(entry.get("min_qty"), field=f"{where} {sku} min_qty", default=1, minimum=1)
    minimum = max(own_min, book_min)
    if qty < minimum:
        source = f"{where} min_qty" if book_min >= own_min else f"products/{sku} min_qty"
        problems.append(f"{sku}: quantity {qty} is below the minimum of {minimum} ({source})")
    extended = add(f"quantity x {qty}", f"{ps(unit)} x {qty}", q(unit * qty) - unit, "line")
    gross = _tier(entry, unit, qty, extended, q, uq, add, where, sku, ps)
    if discount:
        off = q(gross * discount / HUNDRED)
        if not off:
            raise ValidationError(f"--discount {discount}%: {discount}% of {ps(gross)} {currency} rounds to 0; a "
                                  "discount that takes nothing off would be printed all the same — give more, or none")
        add("line discount", f"{discount}% line discount", -off, "line")
    net = steps[-1].running
    if net <= 0:
        raise PolicyError(f"{sku}: the line comes to {net} {currency}; a line must cost the customer more than 0 "
                          "(a free item is a bundle component, mode: included)")
    if parts:
        parts[own_rate] = unit - sum(parts.values(), ZERO)
    # tax as a quote of this one line taxes it (one path: settle), a bundle's own-rate parts at their rates
    _, (alone,), _, by_rate = settle([{"net": net, "tax_rate": own_rate, "tax_parts": parts}], ZERO, [], currency, tax)
    return LinePrice(sku, qty, currency, steps, unit, gross, discount, net, own_rate, alone.tax, alone.amount,
                     None if cost is None or unknown else q(cost * qty), problems, listed, gross - extended, parts, unknown,
                     by_rate)


def _tier(entry: Mapping[str, Any], unit: Decimal, qty: int, gross: Decimal, q: Any, uq: Any, add: Any, where: str,
          sku: str, ps: Any) -> Decimal:
    """Apply the entry's volume tiers to the extended amount."""
    def least(band: Mapping[str, Any]) -> int:
        return stored_count(band.get("min"), field=f"{where} {sku} tier min", default=1, minimum=1)

    bands = sorted((b for b in entry.get("tiers") or [] if isinstance(b, dict)), key=least)
    if not bands:
        return gross
    mode = str(entry.get("tier_mode", "range"))

    def band_unit(band: Mapping[str, Any]) -> Decimal:
        if band.get("price") not in (None, ""):
            return uq(to_decimal(band["price"], f"{where} {sku} tier price"))
        return unit - uq(unit * to_decimal(band.get("discount", 0), f"{where} {sku} tier discount") / HUNDRED)

    if mode == "slab":
        # each band of the quantity at its own unit price; below the first band, the unit price
        edges = [1, *(least(b) for b in bands)]
        units = [unit, *(band_unit(b) for b in bands)]
        total, parts = Decimal(0), []
        for i, start in enumerate(edges):
            end = min(qty, edges[i + 1] - 1) if i + 1 < len(edges) else qty
            if end >= start:
                total += q(units[i] * (end - start + 1))
                parts.append(f"{start}-{end}@{ps(units[i])}")
        if total == gross:
            return gross
        return add("volume tier (slab)", f"{where}: slab {', '.join(parts)}", total - gross, "line")
    chosen = [b for b in bands if least(b) <= qty]
    if not chosen:
        return gross
    band = chosen[-1]
    what = f"price {band['price']}" if band.get("price") not in (None, "") else f"{band.get('discount')}% off"
    return add("volume tier (range)", f"{where}: range tier qty >= {band.get('min')}: {what} on all {qty}",
               q(band_unit(band) * qty) - gross, "line")


def effective_unit(gross: Decimal, qty: int, currency: str, tax: TaxRules) -> Decimal | None:
    """The unit price after a volume tier, when it multiplies back to ``gross`` exactly (no rounding); else None."""
    unit = unit_round(gross / qty, currency, tax)
    return unit if unit * qty == gross else None


def _cost(mapping: Any, currency: str) -> Decimal | None:
    return to_decimal(mapping[currency]) if isinstance(mapping, dict) and currency in mapping else None


def _plus(total: Decimal | None, extra: Decimal | None, times: int) -> Decimal | None:
    if extra is None:
        return total
    return (total or ZERO) + extra * times


@dataclass(frozen=True)
class Reductions:
    """What a quote takes off its lines: the total, its named parts, and each line's share (same order as lines)."""

    total: Decimal
    parts: list[tuple[str, Decimal]]
    shares: list[Decimal]


def allocate(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split ``amount`` over ``weights`` in the currency's minor units, by largest remainder.

    The shares always sum to ``amount`` exactly; ties go to the earlier weight.
    ``[Decimal("30.30")]`` over nets 303.00 and 303.00 -> 15.15 and 15.15.
    """
    whole = sum(weights, ZERO)
    if not weights or whole <= 0:
        if amount:
            raise PolicyError(f"a reduction of {amount} {currency} needs lines to take it from")
        return [ZERO for _ in weights]
    step = Decimal(1).scaleb(-minor_unit(currency))
    exact = [amount * w / whole for w in weights]
    floors = [(e / step).to_integral_value(rounding="ROUND_FLOOR") * step for e in exact]
    left = int(((amount - sum(floors, ZERO)) / step).to_integral_value())
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += step
    return floors


def reductions(lines: list[Mapping[str, Any]], discount: Decimal, fees: list[Mapping[str, Any]], currency: str,
               rounding: str = "half-up") -> Reductions:
    """The quote discount (``discount`` percent of the lines' total) and every negative fee, allocated to the lines.

    A negative fee is a discount by another name: it is taken off the lines like
    the percent discount, so tax, margin and the discount policy see it.
    5% of 303.00 + 303.00 = 30.30 (not 15.15 + 15.15 rounded per line, nor 60 x 0.51).
    """
    nets = [to_decimal(line.get("net"), "line net") for line in lines]
    parts: list[tuple[str, Decimal]] = []
    if discount:
        parts.append((f"{discount}%", quantize(sum(nets, ZERO) * discount / HUNDRED, currency, rounding)))
    for fee in fees:
        amount = quantize(to_decimal(fee.get("amount"), f"fee {fee.get('name')}"), currency, rounding)
        if amount < 0:
            parts.append((str(fee.get("name")), -amount))
    total = sum((a for _, a in parts), ZERO)
    if total > sum(nets, ZERO):
        raise PolicyError(f"the quote's reductions ({total} {currency}) are more than its lines ({sum(nets, ZERO)} {currency})")
    return Reductions(total, parts, allocate(total, nets, currency))


def rate_amounts(line: Mapping[str, Any], paid: Decimal, currency: str) -> list[tuple[Decimal, Decimal]]:
    """``(amount, rate)`` pairs of what a line's customer pays: one rate, or a bundle's ``tax_parts`` split by weight."""
    own = to_decimal(line.get("tax_rate", 0), "tax_rate")
    parts = {to_decimal(r, "tax_parts rate"): to_decimal(a, "tax_parts amount") for r, a in (line.get("tax_parts") or {}).items()}
    if not parts:
        return [(paid, own)]
    rates = sorted(parts)
    return list(zip(allocate(paid, [parts[r] for r in rates], currency), rates))


def ex_tax(line: Mapping[str, Any], paid: Decimal, tax: TaxRules, currency: str) -> Decimal:
    """What the seller keeps of ``paid`` for a line: itself (exclusive), or less the tax it includes (inclusive)."""
    if tax.mode != "inclusive":
        return paid
    q = lambda amount: quantize(amount, currency, tax.rounding)  # noqa: E731
    return paid - sum((_tax(amount, rate, tax, q) for amount, rate in rate_amounts(line, paid, currency)), ZERO)


@dataclass(frozen=True)
class Settled:
    """What the customer pays for one line (or one positive fee) of a quote, after every quote reduction.

    ``share``: its part of the quote discount and negative fees; ``ex_tax``: what
    the seller keeps; ``tax``: the tax on it (included or added, as the mode
    says); ``amount`` = ``ex_tax`` + ``tax``: what the customer pays for it.
    The amounts of a quote's lines and fees add up to its total exactly.
    """

    share: Decimal
    ex_tax: Decimal
    tax: Decimal

    @property
    def amount(self) -> Decimal:
        return self.ex_tax + self.tax


def settle(lines: list[Mapping[str, Any]], discount: Decimal, fees: list[Mapping[str, Any]], currency: str,
           tax: TaxRules, exempt: str | None = None
           ) -> tuple[Reductions, list[Settled], list[Settled], dict[Decimal, Decimal]]:
    """A quote line by line: ``(reductions, one Settled per line, one per positive fee, tax by rate)``.

    The quote discount is computed on the lines' total and allocated to the
    lines (largest remainder) with the negative fees; each line is taxed at its
    rate (a bundle's ``tax_parts`` at theirs), positive fees at their category's.
    ``tax.apply: on_total`` taxes the sum per rate once and allocates that tax
    back to the lines by amount. ``exempt`` makes every rate 0 (in inclusive
    mode the tax a price includes is taken off first).
    """
    q = lambda amount: quantize(amount, currency, tax.rounding)  # noqa: E731
    off = reductions(lines, discount, fees, currency, tax.rounding)
    bases: list[tuple[int, Decimal, Decimal]] = []   # (owner: line index, then positive fees; taxable amount, rate)
    for n, (line, share) in enumerate(zip(lines, off.shares)):
        bases += [(n, amount, rate) for amount, rate in rate_amounts(line, to_decimal(line.get("net"), "line net") - share,
                                                                      currency)]
    positive = [q(to_decimal(fee.get("amount"), f"fee {fee.get('name')}")) for fee in fees]
    positive_fees = [(fee, amount) for fee, amount in zip(fees, positive) if amount > 0]
    bases += [(len(lines) + j, amount, tax.rate(fee.get("tax_category"))) for j, (fee, amount) in enumerate(positive_fees)]
    if exempt:
        bases = [(o, amount - (_tax(amount, rate, tax, q) if tax.mode == "inclusive" else ZERO), ZERO)
                 for o, amount, rate in bases]
    taxes = [_tax(amount, rate, tax, q) for _, amount, rate in bases]
    by_rate: dict[Decimal, Decimal] = {}
    if tax.apply == "on_total":
        for rate in {r for _, _, r in bases}:
            mine = [i for i, (_, _, r) in enumerate(bases) if r == rate]
            whole = _tax(sum((bases[i][1] for i in mine), ZERO), rate, tax, q)
            for i, part in zip(mine, allocate(whole, [bases[i][1] for i in mine], currency) if whole else [ZERO] * len(mine)):
                taxes[i] = part
    for (_, _, rate), amount in zip(bases, taxes):
        by_rate[rate] = by_rate.get(rate, ZERO) + amount
    included = tax.mode == "inclusive" and not exempt
    owners = len(lines) + len(positive_fees)
    taxable, taxed = [ZERO] * owners, [ZERO] * owners
    for (o, amount, _), t in zip(bases, taxes):
        taxable[o] += amount
        taxed[o] += t
    shares = list(off.shares) + [ZERO] * len(positive_fees)
    settled = [Settled(shares[o], taxable[o] - taxed[o] if included else taxable[o], taxed[o]) for o in range(owners)]
    return off, settled[: len(lines)], settled[len(lines):], dict(sorted(by_rate.items()))


def quote_totals(lines: list[Mapping[str, Any]], discount: Decimal, fees: list[Mapping[str, Any]], currency: str,
                 tax: TaxRules, exempt: str | None = None) -> dict[str, Any]:
    """A quote's totals from its priced lines (``net``, ``tax_rate``, ``tax_parts``, ``group``), discount and fees
    (see :func:`settle`): positive fees are not discounted; ``net`` is on the price's tax basis (including tax in
    inclusive mode, less the included tax when ``exempt``)."""
    off, settled, fee_lines, by_rate = settle(lines, discount, fees, currency, tax, exempt)
    groups: dict[str, Decimal] = {}
    for line in lines:
        group = str(line.get("group") or "")
        groups[group] = groups.get(group, ZERO) + to_decimal(line.get("net"), "line net")
    included = tax.mode == "inclusive" and not exempt
    everything = settled + fee_lines   # lines and positive fees
    tax_total = sum(by_rate.values(), ZERO)
    net = sum((s.amount if included else s.ex_tax for s in everything), ZERO)
    out = {"currency": currency, "groups": groups, "subtotal": sum(groups.values(), ZERO), "discount_percent": discount,
           "discount": off.total, "reductions": [{"name": n, "amount": a} for n, a in off.parts],
           "fees": sum((a for a in (quantize(to_decimal(f.get("amount"), "fee"), currency, tax.rounding) for f in fees)
                        if a > 0), ZERO),
           "net": net, "tax": tax_total, "tax_by_rate": {str(r): a for r, a in by_rate.items()}, "tax_mode": tax.mode,
           "total": net if included else net + tax_total}
    if exempt:
        out["tax_exempt"] = exempt
    return out


def _tax(amount: Decimal, rate: Decimal, tax: TaxRules, q: Any) -> Decimal:
    result: Decimal = q(amount * rate / (HUNDRED + rate)) if tax.mode == "inclusive" else q(amount * rate / HUNDRED)
    return result
