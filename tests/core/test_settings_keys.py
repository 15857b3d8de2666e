"""crm.yaml's keys are declared once (crmctl.core.settings_keys.KEYS): a key crmctl does not read is named, never
ignored without a word; a section of the wrong shape is refused; the table cannot drift from the code."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core import settings_keys
from crmctl.core.settings import defaults
from crmctl.core.settings_keys import KEYS, ListOf, MapOf, Section, Value, findings
from tests.conftest import err_line, invoke

CRMCTL = Path(__file__).resolve().parents[2] / "crmctl"


# ---------------------------------------------------------------- the table cannot drift

def declared(dotted: str) -> bool:
    """Whether the table declares ``dotted`` (``*``: any key of a mapping the book names)."""
    node = KEYS
    for part in dotted.split("."):
        if isinstance(node, Section):
            if part not in node.keys:
                return False
            node = node.keys[part]
        elif isinstance(node, MapOf):
            if node.keys and part != "*" and part not in node.keys:
                return False
            node = node.value
        elif isinstance(node, ListOf) and part == "*":  # each item of a list (core.limits: pipeline.stages.*.probability)
            node = node.item
        else:
            return False  # nothing is read below a plain value
    return True


def _read_paths() -> dict[str, list[str]]:
    """``{dotted path: [file:line, ...]}`` of every crm.yaml key the code names by a literal: settings.get/values,
    ``lines.get`` on settings, schema ``enum_setting=``, ``*_KEY = "..."`` constants, core.limits.NUMBERS."""
    from crmctl.core.limits import NUMBERS

    patterns = (r"settings\.(?:get|values)\(\s*f?\"([^\"]+)\"", r"settings\.lines\.get\(\s*\"([^\"]+)\"",
                r"enum_setting=\"([^\"]+)\"")
    found: dict[str, list[str]] = {k: ["crmctl/core/limits.py NUMBERS"] for k in NUMBERS}
    for path in sorted(CRMCTL.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(CRMCTL.parent))
        for pattern in patterns:
            for m in re.finditer(pattern, text):
                found.setdefault(re.sub(r"\{[^}]*\}", "*", m.group(1)), []).append(f"{where}:{text.count(chr(10), 0, m.start()) + 1}")
        for m in re.finditer(r"^([A-Z_]*_KEY(?:, [A-Z_]*_KEY)*) = (\"[^\n]*)$", text, re.M):
            for literal in re.findall(r"\"([^\"]+)\"", m.group(2).split("#")[0]):
                found.setdefault(literal, []).append(where)
    return found


def test_every_key_the_code_reads_is_declared() -> None:
    found = _read_paths()
    assert len(found) > 80  # the scan sees the code (it found 90 paths when written)
    undeclared = {k: v for k, v in found.items() if not declared(k)}
    assert not undeclared, f"declare these crm.yaml keys in crmctl/core/settings_keys.py KEYS: {undeclared}"


def test_the_code_reads_crm_yaml_by_literal_paths_only() -> None:
    """A path built at run time escapes the scan above; the few that exist are named here, with the constants
    they take (scanned as ``*_KEY``) or the field they read (``enum_setting``)."""
    known = {("crmctl/cpq/authority.py", "key"), ("crmctl/core/schema.py", "self.enum_setting")}
    dynamic = set()
    for path in sorted(CRMCTL.rglob("*.py")):
        where = str(path.relative_to(CRMCTL.parent))
        if where == "crmctl/core/settings.py":
            continue
        for m in re.finditer(r"settings\.(?:get|values)\(\s*(?!f?\")([^,)\s][^,)]*)", path.read_text(encoding="utf-8")):
            dynamic.add((where, m.group(1).strip()))
    assert dynamic == known


def test_the_defaults_hold_only_declared_keys() -> None:
    """Every key of crmctl/templates/crm.yaml (what `crmctl init` writes) is in the table."""
    assert list(findings(defaults())) == []


def test_the_table_names_the_record_types_and_the_seller_fields() -> None:
    from crmctl.core.schemas import TYPES
    from crmctl.cpq.document import SELLER_FIELDS

    assert settings_keys.RECORD_TYPES == TYPES
    assert SELLER_FIELDS is settings_keys.SELLER_FIELDS


@pytest.mark.parametrize("writer", ["crm.yaml", "examples"])
def test_the_books_shipped_hold_only_declared_keys(writer: str) -> None:
    """The demo book's crm.yaml and every crm.yaml under examples/."""
    from crmctl.core.yamlio import load_path

    root = CRMCTL.parent
    paths = [root / "crm.yaml"] if writer == "crm.yaml" else sorted((root / "examples").rglob("crm.yaml"))
    for path in paths:
        assert list(findings(load_path(str(path))[0])) == [], path


# ---------------------------------------------------------------- findings

def test_a_near_spelling_is_suggested() -> None:
    (found,) = findings({"dicount_policy": {"min_margin_percent": "10"}})
    assert found.message == "unknown key dicount_policy: did you mean discount_policy?" and not found.shape


def test_a_key_at_the_wrong_level_is_told_where_it_belongs() -> None:
    (found,) = findings({"calendar_tzid": "Asia/Shanghai"})
    assert found.message == ("unknown key calendar_tzid: calendar_tzid belongs under visits; move it there")
    (found,) = findings({"pipeline": {"stages": [{"id": "a", "sop": []}]}})
    assert found.keys == ("pipeline", "stages", 0, "sop")
    assert "sop belongs under visits.types.<visit type id>" in found.message


def test_a_key_like_nothing_lists_the_keys_there() -> None:
    (found,) = findings({"git": {"zzz": 1}})
    assert found.message == "unknown key git.zzz: crmctl reads no such key under git; known keys there: autocommit"


def test_named_keys_are_free_unless_the_table_lists_them() -> None:
    assert list(findings({"tax": {"categories": {"luxury": "20"}}, "visits": {"types": {"demo": {"name": "Demo"}}},
                          "discount_policy": {"authority": {"intern": {"default": "1"}}}})) == []
    (found,) = findings({"imports": {"dedupe_on": {"account": ["name"]}}})
    assert found.message == "unknown key imports.dedupe_on.account: did you mean accounts?"


@pytest.mark.parametrize(("data", "message"), [
    ({"visits": 5}, "visits must be a mapping (checkin_radius_m, "),
    ({"visits": {"cadence": [7, 14]}}, "visits.cadence must be a mapping (default_days, default_type, by_tier, "
                                       "by_lifecycle), not a list"),
    ({"tax": {"categories": "13"}}, "tax.categories must be a mapping (tax category -> rate in percent), not '13'"),
    ({"pipeline": {"stages": {"won": {}}}}, "pipeline.stages must be a list (the stages in order), not {'won': {}}"),
    ({"pipeline": {"stages": ["won"]}}, "pipeline.stages[0] must be a mapping (one pipeline stage: id, name, "),
])
def test_a_section_of_the_wrong_shape_is_a_shape_finding(data: dict, message: str) -> None:
    (found,) = findings(data)
    assert found.shape and found.message.startswith(message), found.message


def test_an_empty_section_keeps_the_defaults() -> None:
    from crmctl.core.settings import Settings

    assert list(findings({"visits": None})) == []
    assert Settings({"visits": None}).get("visits.types.onsite.duration_min") == 90


def _paths(node, keys=()):  # type: ignore[no-untyped-def]
    """Every fixed-key path of the table, with a value of its shape."""
    if isinstance(node, Section):
        for name, child in node.keys.items():
            yield from _paths(child, (*keys, name))
    elif isinstance(node, Value):
        yield keys


FIXED = sorted(_paths(KEYS))


@given(st.sampled_from(FIXED), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
def test_every_declared_key_passes_and_a_new_name_beside_it_is_found(path: tuple[str, ...], name: str) -> None:
    def nest(keys: tuple[str, ...], leaf: object) -> dict:
        return {keys[0]: nest(keys[1:], leaf)} if len(keys) > 1 else {keys[0]: leaf}

    assert list(findings(nest(path, "x"))) == []
    siblings = settings_keys.declared_paths()
    if (*path[:-1], name) in set(siblings):
        return
    (found,) = findings(nest((*path[:-1], name), "x"))
    assert found.keys == (*path[:-1], name) and found.message.startswith(f"unknown key {'.'.join((*path[:-1], name))}: ")


# ---------------------------------------------------------------- commands

def _edit(book: Path, old: str, new: str) -> int:
    """Replace ``old`` in the book's crm.yaml; the 1-based line where ``new`` starts."""
    path = book / "crm.yaml"
    body = path.read_text(encoding="utf-8")
    assert old in body
    body = body.replace(old, new, 1)
    path.write_text(body, encoding="utf-8")
    return body[: body.index(new)].count("\n") + 1


def test_a_misspelt_section_is_a_check_error_and_one_warning_elsewhere(empty_book: Path) -> None:
    line = _edit(empty_book, "\ndiscount_policy:\n", "\ndicount_policy:\n") + 1
    checked = invoke("check", book=empty_book)
    assert checked.exit_code == 1
    assert checked.stdout.splitlines() == [f"crm.yaml:{line}: unknown key dicount_policy: did you mean discount_policy?"]
    for fmt in ("csv", "json"):
        listed = invoke("account", "list", "--format", fmt, book=empty_book)
        assert listed.exit_code == 0 and listed.stdout.strip() in ("id,name,tier,lifecycle,industry,owner,city", "[]")
        assert listed.stderr.splitlines() == [f"warning: crm.yaml:{line}: unknown key dicount_policy: did you mean "
                                              "discount_policy? (ignored)"]


def test_several_unknown_keys_are_one_warning_line(empty_book: Path) -> None:
    line = _edit(empty_book, "\ngit:\n", "\ngti: {}\nvisit: {}\ngit:\n") + 1
    listed = invoke("account", "list", book=empty_book)
    assert listed.exit_code == 0
    assert listed.stderr.splitlines() == [f"warning: crm.yaml:{line}: unknown key gti: did you mean git? (ignored) "
                                          "(1 more unknown key: `crmctl check` lists them)"]
    again = invoke("account", "list", book=empty_book)  # warm: from the settings cache, the same line
    assert again.stderr == listed.stderr


def test_a_section_of_the_wrong_shape_is_refused_by_every_command(empty_book: Path) -> None:
    line = _edit(empty_book, "\nvisits:\n", "\nvisits: 5\nvisits_old:\n") + 1
    for args in (("account", "list"), ("check",)):
        result = invoke(*args, book=empty_book)
        assert result.exit_code == 1
        assert err_line(result).startswith(f"error: crm.yaml:{line}: visits must be a mapping (checkin_radius_m, ")
        assert err_line(result).endswith("not 5; fix crm.yaml before anything else")
