"""``crmctl product``: the catalog (CPQ). Options, rules and bundles are written in the YAML file."""
from __future__ import annotations

from typing import Any

from crmctl.cli.records import policy_guard, record_group
from crmctl.core.book import Book
from crmctl.core.errors import ValidationError


def product_rule(book: Book, sku: str, data: dict[str, Any]) -> None:
    """Refuse a product definition that `crmctl check` would report."""
    from crmctl.cpq.checks import product_problems

    catalog = {**book.records("products"), sku: data}
    for _, message in product_problems(sku, data, catalog):
        raise ValidationError(f"product {sku}: {message}")


cli = record_group("products", "The product catalog: simple, configurable and bundle products (CPQ).", rule=product_rule,
                   defaults=lambda app: {"type": "simple", "active": True}, authorize=policy_guard("products"))   # prices, costs, options, components: pricing policy
cli.name = "product"
