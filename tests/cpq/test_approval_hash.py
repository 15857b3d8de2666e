"""The approval hash compares numbers by value and dates as dates (issue 12: "12000" vs "12000.00" staled an approval).

Property: reformatting every number of an approved quote (trailing zeros added or dropped, quoted or unquoted
YAML) keeps the approval valid; changing any signed number by any amount stales it, and ``quote show`` names the
field that changed.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import yaml
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from crmctl.core import yamlio
from crmctl.core.states import ApprovalState
from crmctl.cpq import policy
from tests.cpq.conftest import Run, new_quote

Path_ = tuple[Any, ...]     # where a number sits: ("lines", 0, "net"), ("totals", "tax_by_rate", "13"), ("discount",)


def number_paths(data: Any, path: Path_ = ()) -> list[Path_]:
    """Every signed number of a quote (a line's, a fee's, the totals', the quote discount), by path."""
    if isinstance(data, dict):
        found: list[Path_] = []
        for key, value in data.items():
            here = (*path, key)
            if not path and key in policy.UNSIGNED_FIELDS:
                continue
            if isinstance(value, (dict, list)):
                found += number_paths(value, here)
            elif (key in policy.NUMBER_KEYS or (len(path) >= 1 and path[-1] in policy.NUMBER_MAPS | policy.AMOUNT_MAPS)) \
                    and _is_number(value):
                found.append(here)
        return found
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in number_paths(v, (*path, i))]
    return []


def _is_number(value: Any) -> bool:
    try:
        Decimal(str(value))
    except ArithmeticError:
        return False
    return not isinstance(value, bool)


def at(data: Any, path: Path_) -> Any:
    for key in path:
        data = data[key]
    return data


def put(data: Any, path: Path_, value: Any) -> None:
    at(data, path[:-1])[path[-1]] = value


# ways of writing the same number: as crmctl writes it, with more or fewer trailing zeros, unquoted
REFORMATS: list[Callable[[Decimal], Any]] = [
    lambda d: f"{d:f}",
    lambda d: f"{d.normalize():f}" if d else "0",
    lambda d: f"{d.quantize(Decimal('0.0001')):f}",
    lambda d: int(d) if d == d.to_integral_value() else f"{d:f}0",
    lambda d: f" {d:f} ",
]


def file_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    """Write the data as YAML (numbers unquoted where PyYAML leaves them so) and read it back as crmctl does."""
    loaded, _ = yamlio.loads(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return loaded


def approved_quote(cpq: Run, cpq_book: Path) -> tuple[str, dict[str, Any]]:
    """A quote with a tiered line, a bundle (6% service part), a 5% quote discount and freight, approved."""
    assert cpq("account", "add", "--id", "plain", "--name", "Plain Co", "--tier", "C").exit_code == 0
    qid = new_quote(cpq, ["holder", "--qty", "12"], ["kit"], ["mill", "--discount", "5%"], account="plain")
    assert cpq("quote", "edit", qid, "--discount", "2%", "--fee", "运费=1200").exit_code == 0
    assert cpq("--as", "dan", "quote", "submit", qid).exit_code == 0
    data, _ = yamlio.loads((cpq_book / "records" / "quotes" / f"{qid}.yaml").read_text(encoding="utf-8"))
    assert policy.approval_state(data) == ApprovalState.VALID
    return qid, data


def test_reformatted_numbers_keep_the_approval_and_any_change_stales_it(cpq: Run, cpq_book: Path) -> None:
    qid, data = approved_quote(cpq, cpq_book)
    paths = number_paths(data)
    # every kind of signed number is there: line fields, tax parts, a fee, the totals and the quote discount
    assert {p[-1] for p in paths} >= {"qty", "unit_price", "list_unit", "tier", "gross", "net", "tax_rate", "cost",
                                      "amount", "subtotal", "tax", "total"}
    assert ("discount",) in paths and any(p[:2] == ("totals", "tax_by_rate") for p in paths)
    assert any(p[0] == "lines" and p[2] == "tax_parts" for p in paths)

    @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(range(len(REFORMATS))), min_size=len(paths), max_size=len(paths)))
    def reformatted_is_the_same(choice: list[int]) -> None:
        copy = yaml.safe_load(yaml.safe_dump(data))
        for path, how in zip(paths, choice):
            put(copy, path, REFORMATS[how](Decimal(str(at(data, path)).strip())))
        assert policy.approval_state(file_round_trip(copy)) == ApprovalState.VALID

    @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(paths), st.sampled_from(["0.01", "-0.01", "0.0001", "1", "1000000"]),
           st.sampled_from(range(len(REFORMATS))))
    def changed_is_stale(path: Path_, delta: str, how: int) -> None:
        copy = yaml.safe_load(yaml.safe_dump(data))
        put(copy, path, REFORMATS[how](Decimal(str(at(data, path))) + Decimal(delta)))
        after = file_round_trip(copy)
        assert policy.approval_state(after) == ApprovalState.STALE
        name = f"line {path[1] + 1} {path[2]}" if path[0] == "lines" else str(path[0])
        assert name in policy.changed_fields(after), (path, policy.changed_fields(after))

    reformatted_is_the_same()
    changed_is_stale()


def test_the_cli_keeps_an_approval_across_a_reformat_and_names_a_real_change(cpq: Run, cpq_book: Path) -> None:
    qid, data = approved_quote(cpq, cpq_book)
    path = cpq_book / "records" / "quotes" / f"{qid}.yaml"
    # the file as a CSV round trip or a hand reformat leaves it: "12000.00" -> 12000, "2" -> "2.00", dates unquoted
    text = path.read_text(encoding="utf-8")
    assert 'unit_price: "1000.00"' in text and 'discount: "2"' in text
    path.write_text(text.replace('unit_price: "1000.00"', "unit_price: 1000").replace('discount: "2"', "discount: 2.00")
                    .replace('valid_until: "%s"' % data["valid_until"], "valid_until: %s" % data["valid_until"]),
                    encoding="utf-8")
    assert path.read_text(encoding="utf-8") != text
    shown = cpq("quote", "show", qid).stdout
    assert "STALE" not in shown
    assert cpq("--as", "dan", "quote", "send", qid).exit_code == 0
    # a cent more on one line after sending is a real change, named
    path.write_text(path.read_text(encoding="utf-8").replace("unit_price: 1000", "unit_price: 1000.01"), encoding="utf-8")
    shown = cpq("quote", "show", qid).stdout
    assert "STALE" in shown and "line 1 unit_price" in shown


EDITS = [("--payment-terms", "货到后180天付款"), ("--notes", "交货期 2 周"), ("--payment-terms-en", "180 days after delivery"),
         ("--notes-en", "Delivery in 2 weeks"), ("--incoterms", "CIF Hamburg"), ("--title", "Another title"),
         ("--valid-until", "2027-12-31"), ("--tax-exempt", "Export, zero-rated"), ("--discount", "1%"),
         ("--fee", "运费=800"), ("--lang", "en")]   # last: an English quote of this book (company 测试公司) is not submitted


def test_every_printed_field_quote_edit_can_change_stales_the_approval(cpq: Run, cpq_book: Path) -> None:
    """Each `quote edit` option after an approval: the approval is stale and `quote show` names what changed."""
    assert cpq("account", "add", "--id", "plain", "--name", "Plain Co", "--tier", "C").exit_code == 0
    qid = new_quote(cpq, ["holder"], account="plain")
    for option, value in EDITS:
        r = cpq("--as", "dan", "quote", "submit", qid)
        assert r.exit_code == 0, r.output
        r = cpq("quote", "edit", qid, option, value)
        assert r.exit_code == 0, r.output
        shown = cpq("quote", "show", qid).stdout
        field = option[2:].replace("-", "_").replace("fee", "fees")
        assert "STALE" in shown and field in shown.split("changed since:")[1].split(")")[0], (option, shown)
        assert cpq("--as", "dan", "quote", "send", qid).exit_code == 1, option
