"""Every number crm.yaml holds is read by one rule (``crmctl.core.limits``): what ``check`` refuses, every command
refuses, at the value's own line, and nothing computes with it (attack8 findings 7-10)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.errors import CrmError
from crmctl.core.limits import NUMBERS, PERCENT, number
from tests.conftest import invoke

QUOTE = "2ndtq0r1f8n1"  # a demo quote taxed at tax.categories.standard
# the commands that read each setting, and a few that read others: all must stop at the same line
COMMANDS = (("quote", "show", QUOTE), ("report", "receivables"), ("opp", "list"), ("report", "customers"),
            ("pricebook", "list"), ("order", "list"))


def _append(book: Path, text: str) -> int:
    """Append ``text`` to crm.yaml; the line its last line lands on."""
    path = book / "crm.yaml"
    old = path.read_text(encoding="utf-8")
    path.write_text(old + text, encoding="utf-8")
    return len((old + text).splitlines())


CASES = [
    # F7: before, 007 and "007" were read as 7 and `check` said ok
    ("payments:\n  overdue_grace_days: 007\n", "payments.overdue_grace_days: '007' is not written as crmctl reads "
     "numbers (write 7: no leading zeros, signs, spaces or separators)"),
    ('payments:\n  overdue_grace_days: "007"\n', "payments.overdue_grace_days: '007' is not written as crmctl reads "
     "numbers (write 7: no leading zeros, signs, spaces or separators)"),
    # F8: before, check refused these and quote show / opp list / report customers used 13, 12, 1000000 silently
    ('tax:\n  categories:\n    standard: "013"\n', "tax.categories.standard: '013' is not written as crmctl reads "
     "numbers (write 13: no leading zeros, signs, spaces or separators)"),
    ("discount_policy:\n  authority:\n    rep:\n      default: 012\n", "discount_policy.authority.rep.default: '012' "
     "is not written as crmctl reads numbers (write 12: no leading zeros, signs, spaces or separators)"),
    ("account:\n  lifecycle_rules:\n    key_account_revenue_12m: 0001000000\n", "account.lifecycle_rules."
     "key_account_revenue_12m: '0001000000' is not written as crmctl reads numbers (write 1000000: no leading zeros, "
     "signs, spaces or separators)"),
    # F9: before, a negative margin floor passed check (and switched the margin rule off)
    ('discount_policy:\n  min_margin_percent: "-15"\n', "discount_policy.min_margin_percent: '-15' is out of range; "
     "give a number of percent from 0 to 100"),
    # F10: before, check printed "8 problem(s)" (crmctl check:0: ... stopped) and quote show gave no line
    ("price_digits: 9\n", "price_digits: '9' is out of range; give a whole number of decimals from 0 to 8"),
    ("price_digits: 07\n", "price_digits: '07' is not written as crmctl reads numbers (write 7: no leading zeros, "
     "signs, spaces or separators)"),
]


@pytest.mark.parametrize("text, message", CASES, ids=[c[0].split("\n")[-2].strip() for c in CASES])
def test_a_bad_number_in_crm_yaml_is_one_problem_and_stops_every_command(demo_copy: Path, text: str, message: str) -> None:
    line = _append(demo_copy, text)
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [f"crm.yaml:{line}: {message}"]
    assert r.stderr.splitlines()[-1] == "1 problem(s)"
    for args in COMMANDS:
        r = invoke(*args, book=demo_copy)
        assert (r.exit_code, r.stdout, r.stderr) == (1, "", f"error: crm.yaml:{line}: {message}\n"), args


def test_check_reports_each_bad_setting_once_and_checks_the_rest_of_the_book(demo_copy: Path) -> None:
    first = _append(demo_copy, "price_digits: 9\n")
    second = _append(demo_copy, 'tax:\n  categories:\n    standard: "013"\n')
    opp = demo_copy / "records" / "opportunities" / sorted(p.name for p in (demo_copy / "records" / "opportunities").iterdir())[0]
    record = opp.read_text(encoding="utf-8")
    opp.write_text(record + "stage: nowhere\n" if "\nstage:" not in record else
                   "\n".join("stage: nowhere" if ln.startswith("stage:") else ln for ln in record.splitlines()) + "\n",
                   encoding="utf-8")
    r = invoke("check", book=demo_copy)
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines[:2] == [f"crm.yaml:{first}: price_digits: '9' is out of range; give a whole number of decimals from 0 to 8",
                         f"crm.yaml:{second}: tax.categories.standard: '013' is not written as crmctl reads numbers "
                         "(write 13: no leading zeros, signs, spaces or separators)"]
    assert any(ln.startswith(f"records/opportunities/{opp.name}:") and "nowhere" in ln for ln in lines)  # the rest: checked
    assert not any("stopped" in ln or ln.startswith("crmctl check") for ln in lines)
    # every other command: the first, with its line, and how many more
    r = invoke("opp", "list", book=demo_copy)
    assert r.stderr == (f"error: crm.yaml:{first}: price_digits: '9' is out of range; give a whole number of decimals "
                        "from 0 to 8 (1 more: `crmctl check` lists them)\n")


def test_a_good_number_in_crm_yaml_still_reads(demo_copy: Path) -> None:
    _append(demo_copy, 'payments:\n  overdue_grace_days: "7"\ntax:\n  categories:\n    standard: 13\n    reduced: "9.5"\n')
    assert invoke("check", book=demo_copy).exit_code == 0
    assert invoke("quote", "show", QUOTE, book=demo_copy).exit_code == 0


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=1, max_value=3))
def test_a_percentage_reads_as_written_and_only_so(whole: int, zeros: int) -> None:
    assert number(whole, PERCENT, "k") == number(str(whole), PERCENT, "k") == Decimal(whole)
    for text in ("0" * zeros + str(whole), f"+{whole}", f" {whole}", f"{whole} ", f"-{whole + 1}"):
        with pytest.raises(CrmError):
            number(text, PERCENT, "k")


def test_every_numeric_setting_the_code_reads_has_a_limit() -> None:
    for key in ("tax.categories.*", "discount_policy.authority.*.*", "discount_policy.min_margin_percent", "price_digits",
                "account.lifecycle_rules.key_account_revenue_12m", "payments.overdue_grace_days"):
        assert key in NUMBERS


def test_a_stage_probability_is_one_of_crm_yaml_numbers(book: Path) -> None:
    path = book / "crm.yaml"
    text = path.read_text(encoding="utf-8")
    line = text[:text.index("probability: 50")].count("\n") + 1  # the template's proposal stage, stages[2]
    path.write_text(text.replace("probability: 50", 'probability: "050"', 1), encoding="utf-8")
    # before: "050" was read as 50 by report pipeline and the weighted pipeline of account figures
    message = (f"crm.yaml:{line}: pipeline.stages.2.probability: '050' is not written as crmctl reads numbers "
               "(write 50: no leading zeros, signs, spaces or separators)")
    r = invoke("report", "pipeline", book=book)
    assert (r.exit_code, r.stderr) == (1, f"error: {message}\n")
    r = invoke("check", book=book)
    assert r.stdout.splitlines() == [message]


def test_a_tax_category_named_by_a_number_is_read_and_judged(demo_copy: Path) -> None:
    line = _append(demo_copy, 'tax:\n  categories:\n    9: "09"\n')
    r = invoke("check", book=demo_copy)  # YAML reads the key 9 as a number; crmctl reads it as the category "9"
    assert r.stdout.splitlines() == [f"crm.yaml:{line}: tax.categories.9: '09' is not written as crmctl reads numbers "
                                     "(write 9: no leading zeros, signs, spaces or separators)"]
    (demo_copy / "crm.yaml").write_text((demo_copy / "crm.yaml").read_text(encoding="utf-8").replace('"09"', '"9"'),
                                        encoding="utf-8")
    assert invoke("check", book=demo_copy).exit_code == 0
    assert invoke("quote", "show", QUOTE, book=demo_copy).exit_code == 0


def test_check_goes_on_past_a_bad_stage_probability(book: Path) -> None:
    path = book / "crm.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("probability: 50", "probability: 150", 1), encoding="utf-8")
    r = invoke("check", book=book)
    assert [ln.split(": ", 1)[1] for ln in r.stdout.splitlines()] == [
        "pipeline.stages.2.probability: '150' is out of range; give a number of percent from 0 to 100"]
