"""``crmctl product``: the catalog (CPQ). Options, rules and bundles are written in the YAML file."""
from __future__ import annotations

from typing import Any, Mapping

from crmctl.cli.base import App

from crmctl.cli.records import record_group
from crmctl.core.book import Book
from crmctl.core.errors import ValidationError


def product_rule(book: Book, sku: str, data: dict[str, Any]) -> None:
    """Refuse a product definition that `crmctl check` would report."""
    from crmctl.cpq.checks import product_problems

    catalog = {**book.records("products"), sku: data}
    for _, message in product_problems(sku, data, catalog):
        raise ValidationError(f"product {sku}: {message}")


def product_guard(app: App, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """Prices, costs, priced options and bundle contents are pricing policy (discount_policy.maintainers)."""
    from crmctl.cpq.authority import price_changes, require_maintainer

    changed = price_changes(before, after)
    if changed:
        require_maintainer(app.book.settings, app.actor, f"setting a product's {', '.join(changed)}")


cli = record_group("products", "The product catalog: simple, configurable and bundle products (CPQ).", rule=product_rule,
                   defaults=lambda app: {"type": "simple", "active": True}, authorize=product_guard)
cli.name = "product"
