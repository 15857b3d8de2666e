"""Products: the catalog (SKU slugs), simple, configurable or bundles."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="products", title="product", id_kind="slug", name_field="name",
    columns=("id", "name", "name_zh", "type", "category", "unit", "active"),
    fields=(
        Field("name", required=True, option=True, help="English name"),
        Field("name_zh", option=True, help="Chinese name"),
        Field("description", "text", option=True, help="Description"),
        Field("description_zh", "text", help="Chinese description"),
        Field("type", "enum", enum=("simple", "configurable", "bundle"), option=True, help="simple, configurable or bundle"),
        Field("category", option=True, help="Product category (discount policy keys on it)"),
        Field("series", option=True, help="Product line"),
        Field("unit", option=True, help="Unit (台, set, pcs, ...)"),
        Field("prices", "map", item="price", help="List price per currency: {CNY: '100.00', USD: '15.00'}"),
        Field("cost", "map", item="price", help="Cost per currency"),
        Field("tax_category", option=True, help="Tax category from crm.yaml"),
        Field("active", "bool", help="false: no longer sold"),
        Field("option_groups", "records", help="Configurable options"),
        Field("rules", "records", help="Configuration rules"),
        Field("components", "records", help="Bundle components"),
        Field("related", "records", help="Cross-sell and upsell"),
        Field("min_qty", "int", help="Minimum order quantity"),
        Field("created", "datetime", readonly=True),
    ),
)
