"""Payment plans and receipts (回款): splitting a total, applying money oldest first.

A plan is the order's ``installments: [{due, amount}]`` and always sums
exactly to the order total: regular installments are rounded down to the
currency's minor unit and the last one absorbs the remainder, so it is never
negative. Receipts are applied to installments oldest first; what an
installment has received is always recomputed from the payments (by date),
so the files hold facts, not running balances.
"""
from __future__ import annotations

import datetime as _dt
from decimal import ROUND_DOWN, Decimal
from typing import Any, Iterable, Sequence

from crmctl.core.book import Record
from crmctl.core.errors import PolicyError, ValidationError
from crmctl.core.money import minor_unit, money_str, quantize, to_decimal
from crmctl.core.numbers import NumberFormat, parse_amount, parse_percent
from crmctl.core.states import order_is_cancelled
from crmctl.l2c import dates
from crmctl.l2c.orders import schedule


def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def equal_split(total: Decimal, n: int, currency: str) -> list[Decimal]:
    """``n`` amounts summing exactly to ``total``; the last absorbs the remainder."""
    if n < 1:
        raise ValidationError(f"--installments {n}: give at least 1")
    if total <= 0:
        raise ValidationError(f"the order total is {total}; there is nothing to plan")
    unit = _unit(currency)
    regular = (total / n).quantize(unit, rounding=ROUND_DOWN)
    if regular <= 0:
        raise ValidationError(f"{n} installments of {total} {currency} would be zero each; plan fewer")
    return [regular] * (n - 1) + [total - regular * (n - 1)]


def equal_plan(total: Decimal, currency: str, n: int, first: _dt.date, every: str) -> list[dict[str, str]]:
    amounts = equal_split(total, n, currency)
    return [{"due": dates.step(first, every, i).isoformat(), "amount": money_str(a, currency)} for i, a in enumerate(amounts)]


def parse_at(spec: str) -> tuple[_dt.date, str]:
    """``2026-12-01=30%`` or ``2026-12-01=15000`` → (date, amount text)."""
    if "=" not in spec:
        raise ValidationError(f"--at {spec!r}: write DATE=AMOUNT or DATE=PERCENT% (e.g. 2026-12-01=30%)")
    day, value = spec.split("=", 1)
    return dates.parse_day(day, f"--at {spec!r}"), value.strip()


def explicit_plan(total: Decimal, currency: str, specs: Sequence[str], rounding: str = "half-up",
                  fmt: NumberFormat = NumberFormat(".")) -> list[dict[str, str]]:
    """Installments from ``DATE=AMOUNT|PCT%`` parts (read under ``fmt``); they must add up to the total.

    Percentages round to the minor unit, and the last installment absorbs the
    rounding difference — but only a rounding difference: a plan that is off
    by more is refused.
    """
    parsed = sorted((parse_at(s) for s in specs), key=lambda p: p[0])
    amounts: list[Decimal] = []
    percents = 0
    for day, value in parsed:
        if value.endswith("%"):
            amount = quantize(total * parse_percent(value, fmt=fmt, field=f"--at {day}") / 100, currency, rounding)
            percents += 1
        else:
            amount = parse_amount(value, currency=currency, fmt=fmt, field=f"--at {day}")
        if amount <= 0:
            raise ValidationError(f"--at {day}={value}: an installment must be more than zero")
        amounts.append(amount)
    diff = total - sum(amounts, Decimal(0))
    if diff != 0:
        if abs(diff) > _unit(currency) * percents:
            raise ValidationError(f"the plan adds up to {money_str(sum(amounts, Decimal(0)), currency)} {currency} "
                                  f"but the order total is {money_str(total, currency)}; fix the --at amounts")
        amounts[-1] += diff
    return [{"due": day.isoformat(), "amount": money_str(a, currency)} for (day, _), a in zip(parsed, amounts)]


def allocate(installments: Sequence[dict[str, Any]], payments: Iterable[Record],
             as_of: _dt.date | None = None) -> list[Decimal]:
    """What each installment has received, applying payments (by date) oldest installment first.

    Money beyond the plan (a prepayment) is not shown against any installment.
    """
    dues = [to_decimal(i["amount"]) for i in installments]
    received = [Decimal(0)] * len(dues)
    for pay in sorted(payments, key=lambda p: (str(p.get("date")), p.id)):
        if as_of is not None and str(pay.get("date")) > as_of.isoformat():
            continue
        left = to_decimal(pay.get("amount"))
        for i, due in enumerate(dues):
            if left <= 0:
                break
            take = min(due - received[i], left)
            if take > 0:
                received[i] += take
                left -= take
    return received


def applied(installments: Sequence[dict[str, Any]], before: Sequence[Record], amount: Decimal,
            currency: str) -> list[dict[str, Any]]:
    """How a new receipt of ``amount`` lands on the installments, for the payment's ``applied`` list."""
    received = allocate(installments, before)
    out: list[dict[str, Any]] = []
    left = amount
    for i, inst in enumerate(installments):
        take = min(to_decimal(inst["amount"]) - received[i], left)
        if take > 0:
            out.append({"installment": i + 1, "due": inst["due"], "amount": money_str(take, currency)})
            left -= take
    return out


def check_receipt(order: Record, order_payments: Sequence[Record], amount: Decimal, prepayment: bool,
                  day: _dt.date | None = None, today: _dt.date | None = None) -> None:
    """Refuse a zero or negative receipt, a future one, one on a paid order, and overpayment without ``--prepayment``."""
    currency = str(order.get("currency"))
    if day is not None and today is not None and day > today:
        raise ValidationError(f"--date {day}: that is after today ({today}); record money when it has arrived")
    if day is not None and order.get("date") and day.isoformat() < str(order.get("date")):
        raise ValidationError(f"--date {day}: that is before order {order.get('number')}'s date ({order.get('date')}); "
                              "a payment pays an order that exists — date it on or after the order")
    if amount <= 0:
        raise ValidationError(f"--amount {amount}: a payment must be more than zero")
    if quantize(amount, currency) != amount:
        raise ValidationError(f"--amount {amount}: {currency} has {minor_unit(currency)} decimal places")
    if order_is_cancelled(order):
        raise PolicyError(f"order {order.get('number')} is cancelled; it takes no payments")
    total = to_decimal(order.get("total"))
    received = sum((to_decimal(p.get("amount")) for p in order_payments), Decimal(0))
    if received >= total:
        raise PolicyError(f"order {order.get('number')} is already paid ({money_str(received, currency)} of "
                          f"{money_str(total, currency)} {currency}); nothing is due")
    if received + amount > total and not prepayment:
        raise PolicyError(f"--amount {money_str(amount, currency)} is more than the {money_str(total - received, currency)} "
                          f"{currency} still due on {order.get('number')}; pass --prepayment to accept it anyway")


def ref_key(ref: Any) -> str:
    """A bank reference as compared (``"BOC  1120"`` and ``"boc 1120"`` are one): NFKC, casefold, single spaces;
    ``""`` for none."""
    from crmctl.core.text import fold

    return fold(str(ref)) if ref not in (None, "") else ""


def same_ref(order_payments: Iterable[Record], ref: Any) -> list[Record]:
    """The order's payments recorded with this bank reference (none when ``ref`` is empty), oldest first."""
    key = ref_key(ref)
    return sorted((p for p in order_payments if key and ref_key(p.get("ref")) == key),
                  key=lambda p: (str(p.get("date")), p.id)) if key else []


def check_ref(order: Record, order_payments: Iterable[Record], ref: Any) -> None:
    """Refuse a receipt whose bank reference is already on the order: one transfer is recorded once (a retry after
    a crash is finished by the next crmctl run, so the same ``--ref`` again is the same receipt). Raises PolicyError."""
    first = same_ref(order_payments, ref)
    if first:
        p = first[0]
        raise PolicyError(f"--ref {ref!r} is already recorded on {order.get('number')}: payment {p.id} "
                          f"({p.get('amount')} {p.get('currency')} on {p.get('date')}); one bank transfer is one "
                          "receipt — a different receipt needs its own --ref (`crmctl payment list --order "
                          f"{order.get('number')}`)")


def installment_rows(order: Record, order_payments: Sequence[Record], today: _dt.date) -> list[dict[str, Any]]:
    """The plan with what each installment received and its state today."""
    currency = str(order.get("currency"))
    plan = schedule(order)
    received = allocate(plan, order_payments)
    rows = []
    for i, (inst, got) in enumerate(zip(plan, received)):
        amount = to_decimal(inst["amount"])
        due = dates.parse_day(str(inst["due"]), "due")
        state = "paid" if got >= amount else ("overdue" if due < today else ("part paid" if got > 0 else "due"))
        rows.append({"n": i + 1, "due": inst["due"], "amount": money_str(amount, currency),
                     "received": money_str(got, currency), "balance": money_str(amount - got, currency), "state": state})
    return rows
