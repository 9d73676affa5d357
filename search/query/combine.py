"""Putting a search's answer together from what each index answered: one index, or every shard of a sharded one.

A search runs in steps (search/query/engine.py): each index *matches* (counts for the facets, and its best candidates for
the pages up to the one asked for, as a `Part`), the parts are combined here (totals and facet counts added, the
candidates merged into one order), and only the hits of the page shown are *fetched* (stored fields, snippets). A
single index is the case of one part, so the two never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from search.query.facets import add_day_counts, date_facet, region_facet
from search.query.request import SearchRequest


@dataclass
class Part:
    """One index's answer to a request, before anything is fetched."""

    generation: object  # the snapshot matched, so the fetch reads the same documents
    total: int  # matching articles (query and filters)
    groups: int  # results when near-duplicates are folded: distinct clusters among the matches (else `total`)
    folded: bool  # whether this index folded any
    region_counts: dict[str, int] = field(default_factory=dict)  # without the region filter
    days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # dated matches (without the date
    day_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # filter): day → documents
    undated: int = 0
    # the best candidates, in this index's order: document numbers, their sort keys (smaller first: −score, or
    # the date key), their `seq` (ties between indexes), scores (None when sorted by date), and for folded
    # results the size of each candidate's cluster among the matches minus one
    docs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    seq: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    scores: np.ndarray | None = None
    similar: np.ndarray | None = None


def merged_order(parts: list[Part]) -> list[tuple[int, int]]:
    """Every candidate as (part, index in that part), best first: by sort key, then by `seq` — an article indexed
    earlier first, as one index orders equal scores (document order). One part keeps its own order."""
    if len(parts) == 1:
        return [(0, i) for i in range(parts[0].docs.size)]
    keys = np.concatenate([p.keys for p in parts])
    seq = np.concatenate([p.seq for p in parts])
    which = np.concatenate([np.full(p.docs.size, n, dtype=np.int64) for n, p in enumerate(parts)])
    at = np.concatenate([np.arange(p.docs.size, dtype=np.int64) for p in parts])
    order = np.lexsort((seq, keys))
    return list(zip(which[order].tolist(), at[order].tolist()))


def page_picks(req: SearchRequest, parts: list[Part]) -> list[tuple[int, int]]:
    """(part, index) of the hits on the requested page."""
    offset = (req.page - 1) * req.per_page
    if offset >= sum(p.groups for p in parts):
        return []
    return merged_order(parts)[offset : offset + req.per_page]


def assemble(req: SearchRequest, parts: list[Part], hits: list[dict], took_ms: float, suggestions: list[dict]) -> dict:
    """The search result the API returns, the page renders and the CLI prints."""
    total = sum(p.groups for p in parts)
    region_counts: dict[str, int] = {}
    for part in parts:
        for path, count in part.region_counts.items():
            region_counts[path] = region_counts.get(path, 0) + count
    days, counts = add_day_counts([(p.days, p.day_counts) for p in parts])
    bucket, date_items = date_facet(days, counts, req.date_from, req.date_to)
    parsed = req.parsed
    return {
        "query": {"q": req.q, "parsed": parsed.parsed, "ignored": parsed.ignored, "filters": req.filters()},
        "total": total,
        # matching articles not counted in `total`: folded into a near-duplicate's result (its `similar`)
        "folded": sum(p.total for p in parts) - total,
        "page": req.page,
        "per_page": req.per_page,
        "pages": (total + req.per_page - 1) // req.per_page,
        "took_ms": took_ms,
        "hits": hits,
        "facets": {
            "region": region_facet(region_counts, req.regions, req.facet_size),
            "date": date_items,
        },
        "date_bucket": bucket,
        "undated": sum(p.undated for p in parts),
        # "did you mean": offered (never applied) when nothing matched; each returns hits under the same filters
        "suggestions": suggestions,
    }


def candidates_wanted(req: SearchRequest) -> int:
    """How many candidates each index must return for the requested page: every result up to its end."""
    return req.page * req.per_page
