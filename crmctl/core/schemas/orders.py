"""Orders: what a customer bought, with its payment plan (generated ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

STATUSES = ("open", "partially_paid", "paid", "overdue", "cancelled")

SCHEMA = Schema(
    type="orders", title="order", id_kind="generated", name_field="number",
    columns=("id", "number", "account", "date", "currency", "total", "status"),
    fields=(
        Field("number", required=True, readonly=True, number=True, help="Order number"),
        Field("account", "ref", ref="accounts", required=True, help="Account"),
        Field("opportunity", "ref", ref="opportunities", help="Opportunity"),
        Field("quote", "ref", ref="quotes", help="Quote it came from"),
        Field("owner", "ref", ref="users", help="Owner"),
        Field("date", "date", required=True, help="Order date"),
        Field("currency", "currency", required=True, help="Currency"),
        Field("lines", "records", amounts=("amount",), help="Order lines"),
        Field("total", "money", required=True, help="Order total"),
        Field("totals", "map", readonly=True, help="The accepted quote's totals (subtotal, reductions, fees, net, tax "
                                                   "by rate, total); the lines add up to them"),
        Field("status", "enum", enum=STATUSES, readonly=True),
        Field("installments", "records", amounts=("amount",), help="Payment plan: [{due, amount}]"),
        Field("notes", "text", help="Notes"),
        Field("history", "records", readonly=True),
        Field("created", "datetime", readonly=True),
    ),
)
