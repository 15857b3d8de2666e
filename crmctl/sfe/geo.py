"""Where a check-in happened: parsing ``LAT,LON`` and the great-circle distance to the account."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from crmctl.core.errors import ValidationError

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres


def parse_coords(text: str) -> tuple[Decimal, Decimal]:
    """``31.2304,121.4737`` -> (lat, lon) as Decimals, each checked against its range."""
    parts = [p.strip() for p in str(text).replace("，", ",").split(",")]
    if len(parts) != 2:
        raise ValidationError(f"--at {text!r}: write LAT,LON, e.g. 31.2304,121.4737")
    try:
        lat, lon = Decimal(parts[0]), Decimal(parts[1])
    except InvalidOperation:
        raise ValidationError(f"--at {text!r}: LAT and LON must be decimal degrees, e.g. 31.2304,121.4737") from None
    check_range(lat, lon, f"--at {text!r}")
    return lat, lon


def check_range(lat: Any, lon: Any, where: str) -> None:
    """Latitude must be -90..90 and longitude -180..180 (and both finite numbers)."""
    problem = range_problem(lat, lon)
    if problem:
        raise ValidationError(f"{where}: {problem}")


def range_problem(lat: Any, lon: Any) -> str | None:
    try:
        la, lo = Decimal(str(lat)), Decimal(str(lon))
    except InvalidOperation:
        return f"coordinates {lat},{lon} are not numbers"
    if not la.is_finite() or not -90 <= la <= 90:
        return f"latitude {lat} is out of range (-90..90)"
    if not lo.is_finite() or not -180 <= lo <= 180:
        return f"longitude {lon} is out of range (-180..180)"
    return None


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float:
    """The great-circle distance in metres (float is fine here: this is geometry, not money)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
