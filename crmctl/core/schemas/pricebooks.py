"""Price books: prices by currency, validity, audience and volume tiers (slug ids)."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="pricebooks", title="price book", id_kind="slug", name_field="name",
    columns=("id", "name", "currency", "valid_from", "valid_to", "priority"),
    fields=(
        Field("name", required=True, option=True, help="Name"),
        Field("currency", "currency", required=True, option=True, help="Currency"),
        Field("valid_from", "date", option=True, help="First valid day"),
        Field("valid_to", "date", option=True, help="Last valid day"),
        Field("priority", "int", option=True, help="Higher wins among equally specific books"),
        Field("applies_to", "map", help="{all: true} | {tiers: [A]} | {accounts: [acme]}"),
        Field("entries", "records", help="Per-product prices and tiers"),
        Field("active", "bool", help="false: ignored"),
        Field("created", "datetime", readonly=True),
    ),
)
