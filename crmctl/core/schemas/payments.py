"""Payments (回款): money received against an order (generated ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="payments", title="payment", id_kind="generated", name_field="ref",
    columns=("id", "order", "account", "date", "amount", "currency", "ref"),
    fields=(
        Field("order", "ref", ref="orders", required=True, help="Order"),
        Field("account", "ref", ref="accounts", help="Account"),
        Field("date", "date", required=True, help="Date received"),
        Field("amount", "money", required=True, help="Amount received"),
        Field("currency", required=True, help="Currency"),
        Field("ref", help="Bank reference"),
        Field("prepayment", "bool", help="Accepted beyond the plan"),
        Field("applied", "records", readonly=True, amounts=("amount",), help="[{installment, amount}]"),
        Field("by", "ref", ref="users", readonly=True),
        Field("created", "datetime", readonly=True),
    ),
)
