"""Configuring a product: which options are chosen, and which rules that breaks.

A product's YAML (see README, "Writing a product") declares ``option_groups``
(single or multiple choice, required, min/max, defaults), ``components`` of a
bundle and ``rules``. This module turns ``--option GROUP=VALUE`` choices into
a :class:`Configuration` — defaults filled in — and lists *every* broken rule,
so a person sees all of them at once. Pure functions over plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from crmctl.core.errors import ValidationError
from crmctl.core.numbers import stored_count

# the implicit option group through which a bundle's optional components are chosen
OPTIONAL_GROUP = "optional"
RULE_KINDS = ("requires", "excludes", "conditional", "quantity")


@dataclass
class Configuration:
    """The chosen options of one product (group -> option ids) and what is wrong with them."""

    sku: str
    selected: dict[str, list[str]]
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def chosen(self) -> set[str]:
        """Every choice as ``group=option``."""
        return {f"{g}={o}" for g, opts in self.selected.items() for o in opts}


def as_list(value: Any) -> list[str]:
    """A rule's ``if``/``then`` may be one string or a list of them."""
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def groups(product: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The product's option groups, plus the bundle's optional components as a group."""
    out = [dict(g) for g in product.get("option_groups") or [] if isinstance(g, dict)]
    optional = [c for c in product.get("components") or [] if isinstance(c, dict) and c.get("mode") == "optional"]
    if optional:
        out.append({"id": OPTIONAL_GROUP, "name": "Optional components", "name_zh": "可选组件", "choice": "multiple",
                    "options": [{"id": str(c.get("sku")), "component": True, "qty": c.get("qty", 1)} for c in optional],
                    "default": [str(c["sku"]) for c in optional if c.get("default")]})
    return out


def group_by_id(product: Mapping[str, Any], gid: str) -> dict[str, Any] | None:
    return next((g for g in groups(product) if str(g.get("id")) == gid), None)


def option(group: Mapping[str, Any], oid: str) -> dict[str, Any] | None:
    return next((dict(o) for o in group.get("options") or [] if isinstance(o, dict) and str(o.get("id")) == oid), None)


def parse_choices(texts: Iterable[str]) -> dict[str, list[str]]:
    """``["spindle=s15k", "extras=probe,conveyor", "extras=chiller"]`` -> group -> option ids."""
    out: dict[str, list[str]] = {}
    for text in texts:
        if "=" not in text:
            raise ValidationError(f"--option {text!r}: write GROUP=OPTION (e.g. spindle=s15k)")
        gid, _, value = text.partition("=")
        bucket = out.setdefault(gid.strip(), [])
        for part in value.split(","):
            if part.strip() and part.strip() not in bucket:
                bucket.append(part.strip())
    return out


def configure(sku: str, product: Mapping[str, Any], choices: Mapping[str, list[str]]) -> Configuration:
    """Fill in defaults for groups not chosen and check every group and rule."""
    problems: list[str] = []
    if product.get("active") is False:
        problems.append(f"product {sku} is no longer sold (active: false)")
    known = {str(g.get("id")): g for g in groups(product)}
    for gid in choices:
        if gid not in known:
            names = ", ".join(known) or "none (this product has no options)"
            problems.append(f"{sku} has no option group {gid!r}; groups are: {names}")
    selected: dict[str, list[str]] = {}
    for gid, grp in known.items():
        picked = list(choices[gid]) if gid in choices else as_list(grp.get("default"))
        valid_ids = [str(o.get("id")) for o in grp.get("options") or [] if isinstance(o, dict)]
        for oid in picked:
            if oid not in valid_ids:
                problems.append(f"{sku}: {gid} has no option {oid!r}; options are: {', '.join(valid_ids)}")
            elif (option(grp, oid) or {}).get("active") is False:
                problems.append(f"{sku}: option {gid}={oid} is no longer offered")
        picked = [o for o in picked if o in valid_ids]
        problems.extend(_group_problems(sku, gid, grp, picked))
        if picked:
            selected[gid] = picked
    config = Configuration(sku, selected, problems)
    problems.extend(rule_problems(sku, product, config.chosen()))
    return config


def _group_problems(sku: str, gid: str, grp: Mapping[str, Any], picked: list[str]) -> list[str]:
    out = []
    multiple = grp.get("choice", "single") == "multiple"
    if not multiple and len(picked) > 1:
        out.append(f"{sku}: {gid} is a single choice; pick one of {', '.join(picked)}")
    low = int(grp.get("min", 1 if grp.get("required") else 0))
    high = grp.get("max")
    if picked and multiple and len(picked) < low:
        out.append(f"{sku}: {gid} needs at least {low} options (got {len(picked)})")
    if high is not None and len(picked) > int(high):
        out.append(f"{sku}: {gid} allows at most {high} options (got {len(picked)})")
    if not picked and grp.get("required"):
        out.append(f"{sku}: {gid} is required; choose one with --option {gid}=OPTION")
    return out


def _holds(term: str, chosen: set[str]) -> bool:
    """``group=option`` is chosen, or ``group=*`` has any choice."""
    gid, _, oid = term.partition("=")
    if oid == "*":
        return any(c.startswith(gid + "=") for c in chosen)
    return term in chosen


def rule_problems(sku: str, product: Mapping[str, Any], chosen: set[str]) -> list[str]:
    """Each broken configuration rule, explained with its id and message."""
    out = []
    for rule in product.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        kind = str(rule.get("kind", ""))
        cond, then = as_list(rule.get("if")), as_list(rule.get("then"))
        label = f"rule {rule.get('id', kind)}"
        why = f" ({rule['message']})" if rule.get("message") else ""
        if kind == "requires" and cond and all(_holds(c, chosen) for c in cond) and not any(_holds(t, chosen) for t in then):
            out.append(f"{sku}: {label}: {' + '.join(cond)} requires {' or '.join(then)}{why}")
        elif kind == "excludes" and cond and any(_holds(c, chosen) for c in cond):
            clash = [t for t in then if _holds(t, chosen)]
            if clash:
                out.append(f"{sku}: {label}: {' / '.join(c for c in cond if _holds(c, chosen))} excludes {', '.join(clash)}{why}")
        elif kind == "conditional" and cond and all(_holds(c, chosen) for c in cond):
            missing = [t for t in then if not _holds(t, chosen)]
            if missing:
                out.append(f"{sku}: {label}: when {' + '.join(cond)} is chosen, {', '.join(missing)} is required{why}")
    return out


def quantity_problems(lines: Iterable[Mapping[str, Any]], products: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Quote-wide quantity rules: an accessory's quantity at least ``per_unit`` x the main unit's."""
    qty: dict[str, int] = {}
    for line in lines:
        qty[str(line.get("sku"))] = qty.get(str(line.get("sku")), 0) + stored_count(line.get("qty"), field=f"line {line.get('sku')} qty", default=0)
    out = []
    for sku, count in qty.items():
        for rule in (products.get(sku) or {}).get("rules") or []:
            if isinstance(rule, dict) and rule.get("kind") == "quantity":
                accessory = str(rule.get("accessory"))
                per_unit = int(rule.get("per_unit", 1))
                if qty.get(accessory, 0) < count * per_unit:
                    why = f" ({rule['message']})" if rule.get("message") else ""
                    out.append(f"{sku}: rule {rule.get('id', 'quantity')}: {count} x {sku} needs at least "
                               f"{count * per_unit} x {accessory} on the quote (has {qty.get(accessory, 0)}){why}")
    return out


def describe(product: Mapping[str, Any], selected: Mapping[str, list[str]], lang: str = "en",
             catalog: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Human lines for a configuration (``Spindle: 15,000 rpm``) and a bundle's contents."""
    catalog = catalog or {}
    zh = lang.startswith("zh")
    out = []
    for gid, oids in selected.items():
        grp = group_by_id(product, gid) or {}
        gname = _name(grp, lang) or gid
        names = [_name(catalog.get(o) or {}, lang) if (option(grp, o) or {}).get("component") else _name(option(grp, o) or {}, lang)
                 for o in oids]
        out.append(f"{gname}: {', '.join(n or o for n, o in zip(names, oids))}")
    for mode, label in (("included", "含" if zh else "Includes"), ("added", "另计" if zh else "Added")):
        parts = [f"{_name(catalog.get(str(c.get('sku'))) or {}, lang) or c.get('sku')} x{c.get('qty', 1)}"
                 for c in product.get("components") or [] if isinstance(c, dict) and c.get("mode", "included") == mode]
        if parts:
            out.append(f"{label}: {', '.join(parts)}")
    return out


def _name(item: Mapping[str, Any], lang: str) -> str:
    return str((item.get("name_zh") if lang.startswith("zh") else None) or item.get("name") or item.get("id") or "")
