"""The book's settings: ``crm.yaml`` laid over the defaults shipped with crmctl.

The default file (``crmctl/templates/crm.yaml``) is both what ``crmctl init``
writes, comments included, and the source of every default, so the two can
never disagree. The merged result is cached as JSON beside the record index,
keyed by both files' stat, so a warm command never imports a YAML parser.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from crmctl.core import jsonio
from crmctl.core.cache import save_json
from crmctl.core.errors import CrmError, LoadError

DEFAULTS_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates", "crm.yaml")


def _stat_key(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]  # the ctime: see crmctl.core.cache.times


def _parse(path: str, display: str) -> tuple[dict[str, Any], dict[str, int]]:
    from crmctl.core import yamlio

    return yamlio.load_path(path, display, what=display)


_defaults: dict[str, Any] | None = None


def defaults() -> dict[str, Any]:
    global _defaults
    if _defaults is None:
        _defaults = _parse(DEFAULTS_PATH, "crmctl/templates/crm.yaml")[0]
    return _defaults


def _keep_defaults(cached: dict[str, Any] | None) -> None:
    """The defaults as the settings cache holds them (keyed by the defaults file's stat too), so that ``check``
    comparing crm.yaml with them does not parse the template."""
    global _defaults
    if _defaults is None and isinstance(cached, dict):
        _defaults = cached


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; lists and scalars in ``over`` replace those in ``base``. A null where ``base`` holds a
    mapping (crm.yaml's ``visits:`` with every line under it commented out) overrides nothing."""
    out = dict(base)
    for key, value in over.items():
        if value is None and isinstance(out.get(key), dict):
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def screen(data: dict[str, Any], display: str, lines: dict[str, int], text: Callable[[], str | None]) -> list[list[Any]]:
    """``[[line, message], ...]``: crm.yaml's keys that crmctl does not read (``crmctl.core.settings_keys``);
    :class:`CrmError` naming ``display:LINE`` for a section of the wrong shape (``visits: 5``). ``text()`` gives
    the file's text, read only when there is something to place."""
    from crmctl.core.settings_keys import findings

    found = list(findings(data))
    if not found:
        return []
    from crmctl.core.yamlio import line_of

    source = text()

    def line(keys: tuple[Any, ...]) -> int:
        return (line_of(source, keys, at_key=True) if source else None) or lines.get(str(keys[0])) or 1

    for finding in found:
        if finding.shape:
            raise CrmError(f"{display}:{line(finding.keys)}: {finding.message}; fix crm.yaml before anything else")
    return [[line(f.keys), f.message] for f in found]


def _text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


class Settings:
    """Typed access to settings by dotted path (``settings.get("lead.pool.recycle_after_days")``).

    ``unknown``: ``[[line, message], ...]``, the keys of crm.yaml crmctl does not read (see :func:`screen`)."""

    def __init__(self, data: dict[str, Any], path: str = "crm.yaml", lines: dict[str, int] | None = None,
                 merged: dict[str, Any] | None = None, unknown: list[list[Any]] | None = None) -> None:
        self.data = merged if merged is not None else merge(defaults(), data)
        self.own = data
        self.path = path
        self.lines = lines or {}
        self.unknown = unknown or []
        # [[line, message], ...]: numbers crm.yaml holds that break their rule (crmctl.core.limits), kept only
        # for `crmctl check` (every other command is refused the settings); their defaults stand in :attr:`data`
        self.number_problems: list[list[Any]] = []
        # the book read as of a past day (crmctl.core.snapshot) is "now" at that day's end: see clock.now
        self.pinned_now: Any = None

    @classmethod
    def load(cls, path: str, display: str = "crm.yaml", cache_path: str | None = None) -> Settings:
        key = [_stat_key(DEFAULTS_PATH), _stat_key(path)]
        if cache_path:
            try:
                with open(cache_path, "rb") as handle:
                    blob = jsonio.loads(handle.read())
                if blob["key"] == key and "unknown" in blob:  # (a cache without them is made again, once)
                    _keep_defaults(blob["defaults"])
                    return cls(blob["own"], display, blob["lines"], blob["merged"], blob["unknown"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        if key[1] is None:
            return cls({}, display)
        try:
            data, lines = _parse(path, display)
        except LoadError as exc:
            raise CrmError(f"{exc}; fix crm.yaml before anything else") from None
        settings = cls(data, display, lines, unknown=screen(data, display, lines, lambda: _text(path)))
        if cache_path:
            save_json(cache_path, {"key": key, "own": data, "lines": lines, "merged": settings.data, "defaults": defaults(),
                                   "unknown": settings.unknown})
        return settings

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

    def unknown_warning(self) -> str | None:
        """One line for stderr naming crm.yaml's first unknown key (and how many more), or None."""
        if not self.unknown:
            return None
        line, message = self.unknown[0]
        more = len(self.unknown) - 1
        tail = f" ({more} more unknown key{'s' if more > 1 else ''}: `crmctl check` lists them)" if more else ""
        return f"warning: {self.path}:{line}: {message} (ignored){tail}"

    @property
    def currency(self) -> str:
        return str(self.get("currency", "CNY"))

    @property
    def rounding(self) -> str:
        return str(self.get("rounding", "half-up"))
