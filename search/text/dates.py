"""Dates as users type them (`2020`, `2020-02`, `2020-02-19`) → inclusive ISO day bounds."""

from __future__ import annotations

import calendar
import re
from datetime import date

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
FORMAT_HELP = "use YYYY, YYYY-MM or YYYY-MM-DD"


def date_bounds(text: str) -> tuple[str, str]:
    """('2020-02' → ('2020-02-01', '2020-02-29')); ValueError with a readable message when `text` is no date."""
    m = _PARTIAL.match(text.strip())
    if not m:
        raise ValueError(f"invalid date {text!r} ({FORMAT_HELP})")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if not 1 <= year <= 9999 or (month is not None and not 1 <= month <= 12):
        raise ValueError(f"invalid date {text!r} ({FORMAT_HELP})")
    if month is None:
        return f"{year:04d}-01-01", f"{year:04d}-12-31"
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"
    if not 1 <= day <= last:
        raise ValueError(f"invalid date {text!r}: {year:04d}-{month:02d} has no day {day}")
    iso = date(year, month, day).isoformat()
    return iso, iso


def date_range(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Inclusive ISO bounds from two optional user dates; ValueError if either is bad or they are reversed."""
    lo = date_bounds(start)[0] if start else None
    hi = date_bounds(end)[1] if end else None
    if lo and hi and lo > hi:
        raise ValueError(f"the date range is empty: {start} is after {end}")
    return lo, hi
