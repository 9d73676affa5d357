"""Calendar periods over a date range — years, months, ISO weeks, days — and documents counted into them.

A trend line and the results page's date histogram are both counts per period over (day, count) pairs
(search/query/facets.py's `day_counts`). Every period of the range is listed, those with nothing too, and the first
and last are clipped to the range, so a period's `from`/`to` is exactly the date filter whose search total it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

BUCKETS = ("year", "month", "week", "day")


@dataclass(frozen=True)
class Period:
    value: str  # "2020", "2020-03", "2020-W09", "2020-03-05"
    start: date  # inclusive, clipped to the range
    end: date

    def to_dict(self) -> dict:
        return {"value": self.value, "label": self.value, "from": self.start.isoformat(), "to": self.end.isoformat()}


def period_count(lo: date, hi: date, bucket: str) -> int:
    """How many `bucket` periods [lo, hi] touches, without listing them."""
    if hi < lo:
        return 0
    if bucket == "year":
        return hi.year - lo.year + 1
    if bucket == "month":
        return (hi.year * 12 + hi.month) - (lo.year * 12 + lo.month) + 1
    if bucket == "week":
        return ((hi - timedelta(hi.weekday())) - (lo - timedelta(lo.weekday()))).days // 7 + 1
    return (hi - lo).days + 1


def periods(lo: date, hi: date, bucket: str) -> list[Period]:
    """Every `bucket` period touching [lo, hi], in order, the first and last clipped to it."""
    out = []
    start = _floor(lo, bucket)
    while start <= hi:
        try:
            after = _next(start, bucket)
        except (ValueError, OverflowError):  # the period ending the calendar (year 9999)
            out.append(Period(_value(start, bucket), max(start, lo), hi))
            break
        out.append(Period(_value(start, bucket), max(start, lo), min(after - timedelta(1), hi)))
        start = after
    return out


def bucket_counts(days: np.ndarray, counts: np.ndarray, listed: list[Period]) -> np.ndarray:
    """Documents per period of `listed` (contiguous, ascending) from (yyyymmdd day, documents) pairs; days outside
    the periods are not counted."""
    if not listed:
        return np.zeros(0, dtype=np.int64)
    starts = np.array([_int(p.start) for p in listed], dtype=np.int64)
    inside = (days >= starts[0]) & (days <= _int(listed[-1].end))
    at = np.searchsorted(starts, days[inside], side="right") - 1
    return np.bincount(at, weights=counts[inside], minlength=len(listed)).astype(np.int64)


def to_date(value: int | str) -> date:
    """A yyyymmdd int or an ISO day as a date."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    return date(value // 10000, value // 100 % 100, value % 100)


def _int(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _floor(day: date, bucket: str) -> date:
    if bucket == "year":
        return date(day.year, 1, 1)
    if bucket == "month":
        return date(day.year, day.month, 1)
    if bucket == "week":
        return day - timedelta(day.weekday())  # ISO weeks start on Monday
    return day


def _next(start: date, bucket: str) -> date:
    if bucket == "year":
        return date(start.year + 1, 1, 1)
    if bucket == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(7 if bucket == "week" else 1)


def _value(start: date, bucket: str) -> str:
    if bucket == "year":
        return f"{start.year:04d}"
    if bucket == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if bucket == "week":
        year, week, _ = start.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return start.isoformat()
