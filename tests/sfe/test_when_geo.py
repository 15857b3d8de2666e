"""Parsers: ISO weeks, periods, clock times, coordinates, and the haversine distance (with hypothesis)."""
from __future__ import annotations

import datetime as _dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmctl.core.errors import ValidationError
from crmctl.sfe.geo import EARTH_RADIUS_M, haversine_m, parse_coords
from crmctl.sfe.when import check_period, parse_period, parse_week, week_of

lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)


@given(st.dates(min_value=_dt.date(1900, 1, 1), max_value=_dt.date(2999, 12, 31)))
def test_week_of_a_day_contains_that_day(day: _dt.date) -> None:
    monday, sunday = parse_week(week_of(day))
    assert monday <= day <= sunday
    assert monday.weekday() == 0 and (sunday - monday).days == 6


def test_known_weeks() -> None:
    assert parse_week("2026-W49") == (_dt.date(2026, 11, 30), _dt.date(2026, 12, 6))
    assert parse_week("2026w01") == (_dt.date(2025, 12, 29), _dt.date(2026, 1, 4))
    assert parse_week("2026-W53")[0] == _dt.date(2026, 12, 28)  # 2026 has 53 ISO weeks


@given(st.text(max_size=12))
def test_week_parser_never_crashes(text: str) -> None:
    try:
        monday, _ = parse_week(text)
    except ValidationError as exc:
        assert "week" in str(exc)
    else:
        assert monday.weekday() == 0


@pytest.mark.parametrize("bad", ["2027-W53", "2026-W00", "2026-49", "W49", ""])
def test_bad_weeks(bad: str) -> None:
    with pytest.raises(ValidationError):
        parse_week(bad)


def test_periods() -> None:
    assert parse_period("2026-Q4") == (_dt.date(2026, 10, 1), _dt.date(2026, 12, 31))
    assert parse_period("2026-02") == (_dt.date(2026, 2, 1), _dt.date(2026, 2, 28))
    assert parse_period("2026") == (_dt.date(2026, 1, 1), _dt.date(2026, 12, 31))
    assert parse_period("2026-09-01..2026-11-30") == (_dt.date(2026, 9, 1), _dt.date(2026, 11, 30))
    assert check_period("2026-q4") == "2026-Q4"
    for bad in ("2026-Q5", "2026-13", "Q4", "2026-W49x"):
        with pytest.raises(ValidationError):
            parse_period(bad)
    with pytest.raises(ValidationError):
        check_period("2026-W49")  # a week is a report period, not a quota period


@given(lats, lons)
def test_coordinates_in_range_parse_back(lat: float, lon: float) -> None:
    got = parse_coords(f"{lat!r},{lon!r}")
    assert float(got[0]) == lat and float(got[1]) == lon


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_coordinates_out_of_range_are_refused(lat: float, lon: float) -> None:
    inside = -90 <= lat <= 90 and -180 <= lon <= 180
    try:
        parse_coords(f"{lat!r},{lon!r}")
    except ValidationError as exc:
        assert not inside and "out of range" in str(exc)
    else:
        assert inside


@given(lats, lons, lats, lons)
def test_haversine_is_a_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = haversine_m(lat1, lon1, lat2, lon2)
    assert 0 <= d <= math.pi * EARTH_RADIUS_M + 1
    assert math.isclose(d, haversine_m(lat2, lon2, lat1, lon1), abs_tol=1e-6)
    assert haversine_m(lat1, lon1, lat1, lon1) == 0


def test_haversine_known_distances() -> None:
    # one degree of latitude along a meridian: 2πR/360
    assert math.isclose(haversine_m(0, 0, 1, 0), 2 * math.pi * EARTH_RADIUS_M / 360, rel_tol=1e-9)
    # Shanghai (People's Square) to Beijing (Tiananmen): about 1,067 km
    assert 1_060_000 < haversine_m(31.2304, 121.4737, 39.9075, 116.3972) < 1_075_000
