"""Every key crm.yaml may hold, declared once: the table :data:`KEYS`.

crmctl reads crm.yaml by dotted path (``settings.get("visits.cadence.by_tier")``); a key it does not read
would be ignored without a word (``days_off`` written under ``visits:`` left 2026-12-24 a working day). So
each key crm.yaml holds is compared with this table when the file is parsed (:func:`findings`):

* a key the table does not declare is *unknown*: ``crmctl check`` reports it as an error, every other
  command warns on stderr (one line, with where the key belongs or a near spelling) and goes on;
* a scalar or a list where the table has a section (``visits: 5``) is a *shape* error: every command
  refuses the book's settings with one line.

The table is the documentation of crm.yaml's layout; the values' defaults and meanings are the comments
of ``crmctl/templates/crm.yaml``, and a test holds the two together (every key of the template is declared,
every key the code reads by a literal path is declared). Nodes:

* :class:`Value` — a scalar or a list crmctl reads as it is (its own checks judge it);
* :class:`Section` — a mapping of the listed keys only;
* :class:`MapOf` — a mapping whose keys the book names (tax categories, visit types, roles), each value of
  one shape; ``keys``, when given, are the only keys allowed;
* :class:`ListOf` — a list whose items have one shape (pipeline stages, SOP steps).

Cheap on purpose: plain classes (a frozen dataclass costs ~1 ms to define), imported only when crm.yaml is parsed (a warm command reads the
findings from the settings cache), rapidfuzz only to word an unknown key's hint.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, NamedTuple, Union

Key = Union[str, int]          # a mapping key, or a list index
Path = tuple[Key, ...]


class Value:
    """A scalar or list setting (its value is judged where it is read, and by ``core.limits``)."""

    __slots__ = ("doc",)

    def __init__(self, doc: str = "") -> None:
        self.doc = doc


class Section:
    """A mapping of exactly these keys. ``scalar_ok``: another value may stand in its place, judged where it is
    read (a custom field's type: ``core.schema.check_custom_fields``)."""

    __slots__ = ("keys", "doc", "scalar_ok")

    def __init__(self, keys: Mapping[str, Node], doc: str = "", scalar_ok: bool = False) -> None:
        self.keys, self.doc, self.scalar_ok = keys, doc, scalar_ok


class MapOf:
    """A mapping of keys the book names, each value shaped ``value``; ``keys``: the only names allowed."""

    __slots__ = ("value", "doc", "keys")

    def __init__(self, value: Node, doc: str = "", keys: tuple[str, ...] = ()) -> None:
        self.value, self.doc, self.keys = value, doc, keys


class ListOf:
    """A list of items shaped ``item``."""

    __slots__ = ("item", "doc")

    def __init__(self, item: Node, doc: str = "") -> None:
        self.item, self.doc = item, doc


Node = Union[Value, Section, MapOf, ListOf]
V = Value()


def _section(*names: str, doc: str = "", **nested: Node) -> Section:
    """A section of plain values ``names`` and the ``nested`` nodes."""
    return Section({**{n: V for n in names}, **nested}, doc)


# the seller block quotes print: each field with its English (_en) and Chinese (_zh) form (cpq.document)
SELLER_FIELDS = ("name", "address", "bank", "phone", "email", "tax_id", "bank_account", "logo")
RECORD_TYPES = ("users", "accounts", "contacts", "leads", "opportunities", "products", "pricebooks",
                "quotes", "orders", "payments", "visits", "imports")   # core.schemas.TYPES (a test keeps them equal)
REPORT_LANGS = ("en", "zh-CN")                                        # io.reportdoc.language
REPORTS = ("pipeline", "funnel", "forecast", "velocity", "receivables", "customers", "sfe", "changes")

STAGE = _section("id", "name", "name_zh", "probability", "forecast", "closed", "won", "moves_to", "requires",
                 "requires_approved_quote", doc="one pipeline stage")
SOP_STEP = _section("id", "name", "name_zh", "required", "auto", "value", doc="one step of a visit type's SOP")
VISIT_TYPE = _section("name", "name_zh", "duration_min", sop=ListOf(SOP_STEP, "the type's SOP steps, in order"),
                      doc="one visit type")
CUSTOM_FIELD = Section({"type": V, "values": V}, "a field type, or {type: enum, values: [...]}", scalar_ok=True)

KEYS = _section(
    "currency", "locale", "timezone", "rounding", "decimal_mark", "price_digits", "week_start", "working_days",
    "calendar", "days_off", "roles", "team_maintainers",
    company=_section(*(f + s for f in SELLER_FIELDS for s in ("", "_en", "_zh")), "country"),
    git=_section("autocommit"),
    limits=_section("lock_timeout_seconds", "git_wait_seconds", "render_seconds"),
    custom_fields=MapOf(MapOf(CUSTOM_FIELD, "field name -> type"), "record type -> {field name: type}"),
    account=_section("tiers", "lifecycle_stages", "industries",
                     lifecycle_rules=_section("key_account_revenue_12m", "dormant_after_days", "churned_after_days")),
    contact=_section("roles", "channels"),
    duplicates=_section("on_create", "default_region", "possible_score"),
    lead=_section("statuses", "open_statuses", "sources", "disqualify_reasons", "dedupe_on",
                  pool=_section("recycle_after_days", "max_open_per_rep")),
    pipeline=Section({
        "stages": ListOf(STAGE, "the stages in order"), "lost_reasons": V, "win_on_quote_accept": V, "reopen_to": V,
        "account_required_from": Value("the first open stage in which a deal must name its account "
                                       "(default: the open stage before won)"),
    }),
    orders=_section("number_format", "manual_roles"),
    payments=_section("overdue_grace_days"),
    imports=_section("max_columns", "max_cell_bytes", "encodings",
                     dedupe_on=MapOf(V, "record type -> the fields that make an imported row the same record",
                                     RECORD_TYPES)),
    tax=_section("mode", "apply", "default_category", categories=MapOf(V, "tax category -> rate in percent")),
    quotes=_section("number_format", "validity_days", "payment_terms", "payment_terms_zh", "template", "out_dir",
                    units_en=MapOf(V, "Chinese unit -> English word or [singular, plural]"),
                    groups_en=MapOf(V, "line group -> its English name")),
    discount_policy=_section(
        "min_margin_percent", "margin_approver", "tax_exempt_approver", "maintainers",
        authority=MapOf(MapOf(V, "product category (or default) -> percent"),
                        "role -> {category: percent}, least authority first")),
    policy=_section("signed_approvals"),
    visits=Section({
        **{n: V for n in ("checkin_radius_m", "entry_tolerance_min", "default_time", "follow_up_days",
                          "calendar_domain", "calendar_tzid")},
        "plan_max_days": Value("a `visit plan` window longer than this many days needs --yes (default 92)"),
        "types": MapOf(VISIT_TYPE, "visit type id -> {name, name_zh, duration_min, sop}"),
        "cadence": _section("default_days", "default_type", by_tier=MapOf(V, "account tier -> days"),
                            by_lifecycle=MapOf(V, "lifecycle stage -> days")),
    }),
    reports=_section(
        titles=MapOf(Section({r: V for r in REPORTS}, "report -> its title"), "language -> titles", REPORT_LANGS),
        labels=MapOf(MapOf(V, "word -> its label"), "language -> labels", REPORT_LANGS)),
)


# ---------------------------------------------------------------- comparing crm.yaml with the table

class Finding(NamedTuple):
    """One key of crm.yaml that the table does not allow: ``keys`` its path, ``shape`` True for a wrong shape
    (refused) and False for an unknown key (reported, then ignored)."""

    keys: Path
    message: str
    shape: bool = False


def dotted(keys: Path) -> str:
    """``("pipeline", "stages", 2, "won")`` -> ``pipeline.stages[2].won``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else "empty" if value in ("", None) else f"{value!r}"


def findings(data: Mapping[str, Any], node: Node = KEYS, keys: Path = ()) -> Iterator[Finding]:
    """Each key of ``data`` (crm.yaml as parsed) that ``node`` does not declare, and each section, map or list
    given a value of another shape. A null where a section is expected is allowed (crm.yaml's ``visits:`` with
    every line under it commented out: the defaults stand, see :func:`crmctl.core.settings.merge`)."""
    if data is None or isinstance(node, Value):
        return
    where = dotted(keys) or "crm.yaml"
    if isinstance(node, ListOf):
        if not isinstance(data, list):
            yield Finding(keys, f"{where} must be a list ({node.doc}), not {_kind(data)}", True)
            return
        for i, item in enumerate(data):
            if isinstance(node.item, Section) and not isinstance(item, Mapping):
                yield Finding((*keys, i), f"{dotted((*keys, i))} must be a mapping ({node.item.doc}: "
                                          f"{', '.join(node.item.keys)}), not {_kind(item)}", True)
            else:
                yield from findings(item, node.item, (*keys, i))
        return
    if not isinstance(data, Mapping):
        if not (isinstance(node, Section) and node.scalar_ok):
            wanted = ", ".join(node.keys) if isinstance(node, Section) else node.doc
            yield Finding(keys, f"{where} must be a mapping ({wanted}), not {_kind(data)}", True)
        return
    for key, value in data.items():
        name = str(key)
        if isinstance(node, Section):
            child = node.keys.get(name)
        else:
            child = node.value if not node.keys or name in node.keys else None
        if child is None:
            yield Finding((*keys, name), f"unknown key {dotted((*keys, name))}: {hint(keys, name, node)}")
        else:
            yield from findings(value, child, (*keys, name))


# ---------------------------------------------------------------- did you mean

def declared_paths(node: Node = KEYS, keys: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path the table declares, ``<...>`` standing for a key the book names and ``[]`` for a list item."""
    if isinstance(node, Section):
        for name, child in node.keys.items():
            yield (*keys, name)
            yield from declared_paths(child, (*keys, name))
    elif isinstance(node, MapOf):
        for name in node.keys or ("<" + node.doc.split(" -> ")[0] + ">",):
            yield (*keys, name)
            yield from declared_paths(node.value, (*keys, name))
    elif isinstance(node, ListOf):
        yield from declared_paths(node.item, (*keys, "[]"))


def _place(parent: tuple[str, ...]) -> str:
    return "at the top level of crm.yaml" if not parent else "under " + ".".join(parent).replace(".[]", "[]")


def _near(name: str, choices: list[str]) -> int | None:
    """The index of the choice ``name`` is a slip of (Damerau-Levenshtein: a letter missed, added, changed or two
    swapped; at most one per four letters, at least one), or None."""
    if not choices:
        return None
    from rapidfuzz import process  # only when crm.yaml has an unknown key
    from rapidfuzz.distance import DamerauLevenshtein

    found = process.extractOne(name, choices, scorer=DamerauLevenshtein.distance, score_cutoff=max(1, len(name) // 4))
    return None if found is None else int(found[2])


def hint(keys: Path, name: str, node: Section | MapOf) -> str:
    """Where an unknown key ``name`` found under ``keys`` belongs: a known key beside it that it is a slip of, a
    key of that very name elsewhere, a slip of a key elsewhere, else the keys allowed there. One clause."""
    here = tuple(str(k) for k in keys)
    siblings = [str(k) for k in node.keys]
    near = _near(name, siblings)
    if near is not None:
        return f"did you mean {siblings[near]}?"
    paths = [p for p in declared_paths() if not p[-1].startswith(("<", "["))]
    elsewhere = [p[:-1] for p in paths if p[-1] == name and p[:-1] != here]
    if elsewhere:
        return f"{name} belongs {' or '.join(_place(p) for p in elsewhere[:3])}; move it there"
    near = _near(name, [p[-1] for p in paths])
    if near is not None:
        return f"did you mean {paths[near][-1]} ({_place(paths[near][:-1])})?"
    listed = ", ".join(siblings[:12]) + (", ..." if len(siblings) > 12 else "")
    return f"crmctl reads no such key {_place(here)}; known keys there: {listed}"
