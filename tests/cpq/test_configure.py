"""Configuration rules: defaults, single/multiple choice, requires, excludes, conditional, quantity."""
from __future__ import annotations

import yaml

from crmctl.cpq.configure import configure, parse_choices, quantity_problems
from tests.cpq.conftest import PRODUCTS

MILL = yaml.safe_load(PRODUCTS["mill"])


def test_defaults_fill_unchosen_groups() -> None:
    config = configure("mill", MILL, {})
    assert config.valid
    assert config.selected == {"ctrl": ["basic"], "spindle": ["s1"], "coolant": ["flood"]}


def test_every_broken_rule_is_explained() -> None:
    config = configure("mill", MILL, parse_choices(["extras=probe", "coolant=tsc", "spindle=s2", "bogus=1", "ctrl=x"]))
    text = "\n".join(config.problems)
    assert "no option group 'bogus'" in text
    assert "ctrl has no option 'x'" in text
    assert "ctrl is required" in text                     # the bad value leaves the required group empty
    assert "rule probe-needs-pro: extras=probe requires ctrl=pro (the probe cycle runs on the pro control)" in text
    assert "rule fast-needs-conveyor: when spindle=s2 is chosen, extras=conveyor is required" in text
    assert len(config.problems) == 5


def test_excludes_and_max() -> None:
    config = configure("mill", MILL, parse_choices(["coolant=tsc", "extras=conveyor,light,probe", "ctrl=pro"]))
    assert any("rule tsc-not-s1: coolant=tsc excludes spindle=s1" in p for p in config.problems)
    assert any("extras allows at most 2 options (got 3)" in p for p in config.problems)


def test_single_choice_takes_one() -> None:
    config = configure("mill", MILL, {"ctrl": ["basic", "pro"]})
    assert any("ctrl is a single choice" in p for p in config.problems)


def test_quantity_rule_counts_accessories_across_the_quote() -> None:
    products = {"mill": MILL}
    assert quantity_problems([{"sku": "mill", "qty": 3}, {"sku": "holder", "qty": 3}], products) == []
    problems = quantity_problems([{"sku": "mill", "qty": 2}, {"sku": "mill", "qty": 1}, {"sku": "holder", "qty": 2}], products)
    assert problems == ["mill: rule holder-per-mill: 3 x mill needs at least 3 x holder on the quote (has 2)"]
