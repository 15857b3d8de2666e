"""Replaying a deal's stage history as of a day."""
from __future__ import annotations

import datetime as _dt

from crmctl.core.book import Record
from crmctl.l2c.history import closed_on, stage_on, stints, visited

OPP = Record("opportunities", "o1", {
    "stage": "won", "created": "2026-07-01T09:00:00+08:00",
    "stage_history": [
        {"from": "prospecting", "to": "qualification", "at": "2026-07-05T10:00:00+08:00"},
        {"from": "qualification", "to": "proposal", "at": "2026-07-10T10:00:00+08:00"},
        {"from": "proposal", "to": "won", "at": "2026-08-01T10:00:00+08:00"},
    ]})


def d(text: str) -> _dt.date:
    return _dt.date.fromisoformat(text)


def test_stage_on_each_day() -> None:
    assert stage_on(OPP, d("2026-06-30")) is None  # not created yet
    assert stage_on(OPP, d("2026-07-01")) == "prospecting"
    assert stage_on(OPP, d("2026-07-05")) == "qualification"  # a move counts on its own day
    assert stage_on(OPP, d("2026-07-31")) == "proposal"
    assert stage_on(OPP, d("2027-01-01")) == "won"


def test_stints_visited_and_closing_day() -> None:
    assert [(s.stage, (s.end - s.start).days if s.end else None) for s in stints(OPP, d("2026-12-31"))] == [
        ("prospecting", 4), ("qualification", 5), ("proposal", 22), ("won", None)]
    assert visited(OPP, d("2026-07-09")) == {"prospecting", "qualification"}
    assert closed_on(OPP, d("2026-12-31")) == d("2026-08-01")


def test_a_deal_without_history_stays_in_its_stage() -> None:
    bare = Record("opportunities", "o2", {"stage": "prospecting", "created": "2026-07-01T09:00:00+08:00"})
    assert stage_on(bare, d("2026-07-02")) == "prospecting" and closed_on(bare, d("2026-07-02")) is None
