"""crmctl.core.states, crmctl.core.percent, crmctl.sfe.cadence, crmctl.core.clock and Book.live/lookup."""
from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core import states as S
from crmctl.core.book import Book
from crmctl.core.clock import Clock
from crmctl.core.errors import PolicyError
from crmctl.core.percent import percent, percent_points, percent_text, round_half_up
from crmctl.core.schemas import get_schema
from crmctl.core.settings import Settings
from crmctl.sfe.cadence import cadence_days, cadence_rule
from tests.conftest import Run

DAY = _dt.date(2026, 6, 15)


def settings(data: dict) -> Settings:
    return Settings(data)


# ---------------------------------------------------------------- enums are their text
def test_a_state_is_its_text_in_comparisons_sets_json_and_formatting() -> None:
    assert S.QuoteStatus.SENT == "sent" and "sent" in S.QUOTE_OPEN and S.QuoteStatus.SENT in {"sent"}
    assert f"{S.QuoteStatus.PENDING_APPROVAL}" == str(S.QuoteStatus.PENDING_APPROVAL) == "pending_approval"
    assert json.dumps({"s": S.VisitStatus.COMPLETED}) == '{"s": "completed"}'


@pytest.mark.parametrize("rtype, enum", [("quotes", S.QuoteStatus), ("orders", S.OrderStatus), ("visits", S.VisitStatus)])
def test_the_schemas_allow_exactly_the_states_defined_here(rtype: str, enum: type[S.State]) -> None:
    field = get_schema(rtype).field("status")
    assert field is not None and set(field.enum) == set(enum.values())


# ---------------------------------------------------------------- quotes
@pytest.mark.parametrize("stored, until, expected", [
    ("draft", "2026-06-15", "draft"),            # valid through its last day
    ("draft", "2026-06-14", "expired"),
    ("rejected", "2026-06-01", "expired"),       # rejected is still open, so it expires too
    ("sent", "2026-06-01", "expired"),
    ("accepted", "2026-06-01", "accepted"),      # closed states never expire
    ("declined", "2026-06-01", "declined"),
    ("expired", None, "expired"),                # as frozen in a version
])
def test_quote_status_computes_expired_for_open_quotes_only(stored: str, until: str | None, expected: str) -> None:
    data = {"status": stored, "valid_until": until}
    assert S.quote_status(data, DAY) == expected
    assert S.quote_is_open(data, DAY) is (expected in ("draft", "pending_approval", "approved", "rejected", "sent"))


def test_an_unknown_quote_status_is_neither_open_nor_editable() -> None:
    data = {"status": "lost-in-the-post"}
    assert S.quote_status(data, DAY) == "lost-in-the-post"
    assert not S.quote_is_open(data, DAY) and not S.quote_is_editable(data, DAY)


# ---------------------------------------------------------------- stages from settings
STAGES = {"pipeline": {"stages": [
    {"id": "open", "closed": False}, {"id": "closed_won", "closed": True, "won": True},
    {"id": "closed_lost", "closed": True}]}}


def test_stage_predicates_follow_the_books_own_names() -> None:
    s = settings(STAGES)
    assert S.won_stage(s) == "closed_won" and S.lost_stage(s) == "closed_lost"
    assert S.is_won(s, "closed_won") and not S.is_won(s, "won") and not S.is_won(s, None)
    assert S.opp_is_open(s, {"stage": "open"}) and not S.opp_is_open(s, {"stage": "closed_lost"})
    assert S.closed_stages(s) == {"closed_won", "closed_lost"}


def test_a_pipeline_without_a_won_stage_is_one_clear_error() -> None:
    with pytest.raises(PolicyError, match="won: true"):
        S.won_stage(settings({"pipeline": {"stages": [{"id": "open"}]}}))


# ---------------------------------------------------------------- leads and visits
def test_lead_and_visit_helpers() -> None:
    s = settings({"lead": {"open_statuses": ["new", "working"]}})
    assert S.lead_is_open(s, {"status": "working"}) and not S.lead_is_open(s, {"status": "qualified"})
    assert S.lead_is_converted({"status": "new", "converted": {"account": "a"}})
    assert S.visit_status({"status": "planned", "date": "2026-06-14"}, DAY) == "missed"
    assert S.visit_status({"status": "planned", "date": "2026-06-15"}, DAY) == "planned"


# ---------------------------------------------------------------- percent: one rounding rule
def test_one_sixteenth_is_six_point_three() -> None:
    assert percent_text(1, 16) == "6.3" and percent(1, 16) == Decimal("6.3")
    assert percent_text(1, 0) == "" and percent(0, 0) is None
    assert percent_points(Decimal("12.500")) == "12.5" and percent_points(Decimal("10")) == "10"
    assert round_half_up(Decimal("0.125"), 2) == Decimal("0.13")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**9), st.integers(0, 3))
def test_percent_is_the_exact_ratio_rounded_half_up(part: int, whole: int, places: int) -> None:
    exact = Fraction(part * 100, whole) * 10**places
    floor = exact.numerator // exact.denominator
    expected = floor + (1 if exact - floor >= Fraction(1, 2) else 0)
    assert percent(part, whole, places) == Decimal(expected).scaleb(-places)


# ---------------------------------------------------------------- cadence
def test_cadence_lifecycle_wins_over_tier_and_default_days_covers_the_rest() -> None:
    s = settings({"visits": {"cadence": {"by_tier": {"A": 7}, "by_lifecycle": {"dormant": 30, "churned": 0},
                                         "default_days": 21}}})
    rule = cadence_rule(s)
    assert rule({"tier": "A"}) == 7
    assert rule({"tier": "A", "lifecycle": "dormant"}) == 30
    assert rule({"tier": "A", "lifecycle": "churned"}) == 0
    assert rule({}) == 21 and cadence_days(s, {"tier": "Z"}) == 21


# ---------------------------------------------------------------- the clock
def test_a_clock_is_one_instant_and_its_day() -> None:
    clock = Clock("2026-06-15T23:30:00+08:00")
    assert clock.today == _dt.date(2026, 6, 15)


# ---------------------------------------------------------------- merge redirects
def test_live_skips_redirects_and_lookup_follows_them(book: Path, run: Run) -> None:
    assert run("account", "add", "--id", "acme-2", "--name", "ACME Two", "--owner", "rex").exit_code == 0
    r = run("--as", "mia", "account", "merge", "acme", "acme-2")
    assert r.exit_code == 0, r.output
    b = Book(str(book))
    assert "acme-2" in b.records("accounts") and b.records("accounts")["acme-2"].merged_into == "acme"
    assert "acme-2" not in b.live("accounts") and "acme" in b.live("accounts")
    assert b.lookup("accounts", "acme-2").id == "acme" and b.get("accounts", "acme-2").id == "acme"
    assert b.lookup("accounts", "nobody") is None and b.lookup("accounts", None) is None
