"""Trends: how many articles match each of a few queries, period by period, as counts or as a share of all articles.

A request names up to six queries (each in the full query language) under shared filters. Each index counts every
query's dated matches per day from the facet arrays (one evaluation per query, no search per period) and the day
counts of all articles under the same filters, the share's denominators (`TrendCounts`); a sharded index adds its
shards' counts; `trends` then buckets them into periods. A period's count is the search total of its query with
`date_from`/`date_to` set to the period (the first and last period are clipped to the range), so every point links
to the search it counts. Undated matches cannot be placed in a period: each query says how many were left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from search.errors import BadRequest, QueryError
from search.query.facets import add_day_counts
from search.query.periods import BUCKETS, bucket_counts, period_count, periods, to_date
from search.query.request import SearchRequest, param_lists, shown

MAX_QUERIES = 6
MAX_PERIODS = 400  # an explicit bucket making more periods is refused (bucket=auto never does)
AUTO_PERIODS = 150  # bucket=auto: the finest bucket making at most this many periods
NORMS = ("count", "share")
SHARE_PER = 10_000  # share: matches per this many articles of the period
TREND_PARAMETERS = ("q", "region", "date_from", "date_to", "bucket", "norm")


@dataclass
class TrendsRequest:
    queries: list[SearchRequest]  # one per query, each with the shared filters
    bucket: str = "auto"
    norm: str = "count"
    filters: SearchRequest = field(default_factory=SearchRequest)  # the shared filters, without a query

    @property
    def regions(self) -> list[str]:
        return self.filters.regions

    @classmethod
    def from_params(cls, params: Mapping) -> TrendsRequest:
        """From a Werkzeug MultiDict (or a mapping of name → value or list): `q` given once per query."""
        get_all = param_lists(params)
        qs = [q.strip() for q in get_all("q") if q is not None]
        if not qs or not any(qs):
            raise BadRequest(f"q: give between 1 and {MAX_QUERIES} queries to compare (q=A&q=B…)")
        if len(qs) > MAX_QUERIES:
            raise BadRequest(f"q: {len(qs)} queries given; compare at most {MAX_QUERIES}")
        for n, q in enumerate(qs, 1):
            if not q:
                raise BadRequest(f"q: query {n} is empty")
        filters = SearchRequest.from_params({k: get_all(k) for k in ("region", "date_from", "date_to")})
        bucket = _choice("bucket", get_all("bucket"), ("auto", *BUCKETS))
        norm = _choice("norm", get_all("norm"), NORMS)
        queries = []
        for n, q in enumerate(qs, 1):
            one = SearchRequest(q=q, regions=filters.regions, date_from=filters.date_from, date_to=filters.date_to)
            try:
                _ = one.parsed
            except QueryError as exc:
                exc.message = f"q: query {n} ({shown(q)}): {exc.message}"
                exc.args = (exc.message,)
                raise
            queries.append(one)
        return cls(queries, bucket, norm, filters)


@dataclass
class TrendCounts:
    """What one index counts for a trends request: per query (dated matches as (day, documents) pairs, and how
    many matches are undated), and the same pairs for every article under the filters (no query, no date filter:
    they also give the data's span)."""

    series: list[tuple[np.ndarray, np.ndarray, int]]
    articles: tuple[np.ndarray, np.ndarray]

    @classmethod
    def add(cls, parts: list[TrendCounts]) -> TrendCounts:
        """The counts of a sharded index: its shards' counts added."""
        series = []
        for i in range(len(parts[0].series)):
            days, counts = add_day_counts([(p.series[i][0], p.series[i][1]) for p in parts])
            series.append((days, counts, sum(p.series[i][2] for p in parts)))
        return cls(series, add_day_counts([p.articles for p in parts]))


def choose_bucket(lo, hi, bucket: str) -> str:
    """`bucket`, or for auto the finest of day, week, month and year making at most AUTO_PERIODS periods; an
    explicit bucket making more than MAX_PERIODS is a BadRequest (auto-coarsening it would change what was asked)."""
    if bucket == "auto":
        for finer in ("day", "week", "month"):
            if period_count(lo, hi, finer) <= AUTO_PERIODS:
                return finer
        bucket = "year"
    n = period_count(lo, hi, bucket)
    if n > MAX_PERIODS:
        coarser = [b for b in BUCKETS if period_count(lo, hi, b) <= MAX_PERIODS]
        advice = f"bucket={coarser[-1]} makes {period_count(lo, hi, coarser[-1]):,}" if coarser else "narrow it"
        raise BadRequest(
            f"bucket: {bucket} periods from {lo} to {hi} would be {n:,} (the limit is {MAX_PERIODS}); "
            f"choose a coarser bucket ({advice}) or a shorter date range"
        )
    return bucket


def trends(req: TrendsRequest, counts: TrendCounts, took_ms: float) -> dict:
    """The trends answer the API returns, the page draws and the CLI prints."""
    days, articles = counts.articles
    bucket, listed = ("month" if req.bucket == "auto" else req.bucket), []
    if days.size:  # the filter's range within the data's span (an open end: the first or last dated article)
        lo, hi = to_date(int(days[0])), to_date(int(days[-1]))
        if req.filters.date_from:
            lo = max(lo, to_date(req.filters.date_from))
        if req.filters.date_to:
            hi = min(hi, to_date(req.filters.date_to))
        if lo <= hi:
            bucket = choose_bucket(lo, hi, req.bucket)
            listed = periods(lo, hi, bucket)
    per_period = bucket_counts(days, articles, listed)
    series = []
    for sub, (q_days, q_counts, undated) in zip(req.queries, counts.series):
        found = bucket_counts(q_days, q_counts, listed)
        shares = [round(c * SHARE_PER / a, 4) if a else None for c, a in zip(found.tolist(), per_period.tolist())]
        series.append(
            {
                "q": sub.q,
                "parsed": sub.parsed.parsed,
                "total": int(found.sum()),
                "undated": undated,  # matches (under the filters) with no date: in no period
                "counts": found.tolist(),
                "shares": shares,
                "values": shares if req.norm == "share" else found.tolist(),
            }
        )
    return {
        "queries": [s["q"] for s in series],
        "filters": {"region": req.regions, "date_from": req.filters.date_from, "date_to": req.filters.date_to},
        "bucket": bucket,
        "norm": req.norm,
        "share_per": SHARE_PER,
        "periods": [{**p.to_dict(), "articles": a} for p, a in zip(listed, per_period.tolist())],
        "series": series,
        "took_ms": took_ms,
    }


def trend_rows(result: dict) -> list[list]:
    """The answer as a table, one row per period (CSV export, CLI): period, from, to, articles, then each
    query's count and share."""
    header = ["period", "from", "to", "articles"]
    for s in result["series"]:
        header += [f"{s['q']} count", f"{s['q']} share"]
    rows: list[list] = [header]
    for i, p in enumerate(result["periods"]):
        row = [p["value"], p["from"], p["to"], p["articles"]]
        for s in result["series"]:
            share = s["shares"][i]
            row += [s["counts"][i], "" if share is None else share]
        rows.append(row)
    return rows


def _choice(name: str, values: list[str], allowed: tuple[str, ...]) -> str:
    if len(values) > 1:
        raise BadRequest(f"{name} was given {len(values)} times; give it once")
    value = (values[0] if values else "").strip() or allowed[0]
    if value not in allowed:
        raise BadRequest(f"{name}: {shown(value)} is not one of {', '.join(allowed)}")
    return value
