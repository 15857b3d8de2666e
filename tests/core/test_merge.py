"""The three-way record merge: properties that must hold for any records."""
from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.merge import Conflict, merge_records

keys = st.sampled_from(list("abcdefgh"))
scalars = st.one_of(st.text(string.ascii_letters, max_size=5), st.integers(0, 9), st.booleans())
records = st.dictionaries(keys, scalars, max_size=6)


@given(records, records)
def test_one_sided_change_takes_that_side(base: dict, changed: dict) -> None:
    assert merge_records(base, base, changed) == changed
    assert merge_records(base, changed, base) == changed


@given(records, records)
def test_same_change_on_both_sides(base: dict, changed: dict) -> None:
    assert merge_records(base, changed, changed) == changed


@given(records, records, records)
def test_disjoint_changes_merge_and_commute(base: dict, ours: dict, theirs: dict) -> None:
    try:
        one = merge_records(base, ours, theirs)
    except Conflict:
        with pytest.raises(Conflict):
            merge_records(base, theirs, ours)
        return
    other = merge_records(base, theirs, ours)
    assert one == other  # same content, whatever the key order
    for key in set(ours) | set(theirs):
        if ours.get(key) != base.get(key) and key in ours:
            assert one.get(key) == ours[key]


def test_histories_grow_from_both_sides_in_time_order() -> None:
    base = {"stage_history": [{"at": "1", "to": "a"}]}
    ours = {"stage_history": [*base["stage_history"], {"at": "3", "to": "c"}]}
    theirs = {"stage_history": [*base["stage_history"], {"at": "2", "to": "b"}]}
    assert [h["at"] for h in merge_records(base, ours, theirs)["stage_history"]] == ["1", "2", "3"]


def test_rewritten_history_is_a_conflict() -> None:
    base = {"h": [{"at": "1"}]}
    with pytest.raises(Conflict, match="h"):
        merge_records(base, {"h": [{"at": "0"}]}, {"h": [{"at": "1"}, {"at": "2"}]})
