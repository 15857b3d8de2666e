"""The registry of record types: folder name -> schema module.

Each type's schema lives in its own module so each scenario owns its records'
shape; this table is the one place that lists them all (``check`` walks it).
"""
from __future__ import annotations

import importlib

from crmctl.core.errors import CrmError
from crmctl.core.schema import Schema

TYPES: tuple[str, ...] = (
    "users", "accounts", "contacts", "leads", "opportunities", "products", "pricebooks",
    "quotes", "orders", "payments", "visits", "imports",
)
# what people type on the command line -> folder
ALIASES = {
    "user": "users", "account": "accounts", "contact": "contacts", "lead": "leads",
    "opp": "opportunities", "opportunity": "opportunities", "opps": "opportunities",
    "product": "products", "pricebook": "pricebooks", "quote": "quotes", "order": "orders",
    "payment": "payments", "visit": "visits", "import": "imports",
}


def canonical(name: str) -> str:
    rtype = ALIASES.get(name, name)
    if rtype not in TYPES:
        raise CrmError(f"unknown record type {name!r}; use one of {', '.join(TYPES)}")
    return rtype


_LOADED: dict[str, Schema] = {}


def get_schema(rtype: str) -> Schema:
    """The schema of a type, its module imported on first use (a batch asks thousands of times)."""
    schema = _LOADED.get(rtype)
    if schema is None:
        module = importlib.import_module(f"crmctl.core.schemas.{canonical(rtype)}")
        schema = _LOADED[rtype] = module.SCHEMA
    return schema
