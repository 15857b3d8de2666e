"""The book's settings: ``crm.yaml`` laid over the defaults shipped with crmctl.

The default file (``crmctl/templates/crm.yaml``) is both what ``crmctl init``
writes, comments included, and the source of every default, so the two can
never disagree.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from crmctl.core import yamlio
from crmctl.core.errors import CrmError, LoadError

DEFAULTS_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates", "crm.yaml")


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    data, _ = yamlio.load_path(DEFAULTS_PATH)
    return data


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; lists and scalars in ``over`` replace those in ``base``."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


class Settings:
    """Typed access to settings by dotted path (``settings.get("lead.pool.recycle_after_days")``)."""

    def __init__(self, data: dict[str, Any], path: str = "crm.yaml", lines: dict[str, int] | None = None) -> None:
        self.data = merge(defaults(), data)
        self.own = data
        self.path = path
        self.lines = lines or {}

    @classmethod
    def load(cls, path: str, display: str = "crm.yaml") -> Settings:
        if not os.path.exists(path):
            return cls({}, display)
        try:
            data, lines = yamlio.load_path(path, display)
        except LoadError as exc:
            raise CrmError(f"{exc}; fix crm.yaml before anything else") from None
        return cls(data, display, lines)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def values(self, dotted: str) -> list[str]:
        """An enum's allowed values; a mapping's keys count as its values."""
        found = self.get(dotted, [])
        if isinstance(found, dict):
            return [str(k) for k in found]
        return [str(v["id"]) if isinstance(v, dict) and "id" in v else str(v) for v in found or []]

    @property
    def currency(self) -> str:
        return str(self.get("currency", "CNY"))

    @property
    def rounding(self) -> str:
        return str(self.get("rounding", "half-up"))

    def line_of(self, key: str) -> int:
        return self.lines.get(key.split(".")[0], 1)
