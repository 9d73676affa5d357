"""Region and date facets from per-document value arrays.

Grouping every hit through Whoosh is the slow path; instead, once per index snapshot, the region and date postings
are turned into numpy arrays (document → region term ids, document → date), and a query's facet counts are a
`bincount` over its matching documents. Segments never change (only their deletions), so a new snapshot rereads
only its new segments' postings. Multi-select: region counts are taken without the region filter, date counts
without the date filter, so a reader can always add a second region or widen the dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from search.index.columns import deleted_docs, doc_frequencies, segment_version, seq_numbers
from search.query.periods import bucket_counts, periods, to_date


@dataclass
class FacetArrays:
    doc_count: int
    live: np.ndarray  # bool per document: not deleted
    region_terms: list[str]  # region term id → path
    region_docs: np.ndarray  # parallel arrays: one entry per (document, region path)
    region_ids: np.ndarray
    dates: np.ndarray  # int yyyymmdd per document, 0 when undated
    clusters: np.ndarray  # int per document: its near-duplicate cluster (search/index/reprints.py)
    seq: np.ndarray  # int per document: its place in the archive's indexing order
    _date_orders: dict = field(default_factory=dict, repr=False)  # (ascending, by seq) → every docnum in date order
    _segments: dict = field(default_factory=dict, repr=False)  # what was read of each segment, for the next snapshot
    _span: tuple[int, int] | None = field(default=None, repr=False)  # see span()

    @classmethod
    def build(cls, reader, previous: FacetArrays | None = None) -> FacetArrays:
        """The arrays of `reader`'s snapshot. Segments never change, only their deletions: what `previous` (an
        earlier snapshot's arrays) read of a segment that is still there with the same deletions is reused, so a
        commit costs the reading of its new segments (a million articles from scratch: ~20 s)."""
        n = reader.doc_count_all()
        live = np.zeros(n, dtype=bool)
        dates = np.zeros(n, dtype=np.int32)
        kept = previous._segments if previous is not None else {}
        segments: dict[tuple, _SegmentFacets] = {}
        leaves = []
        for leaf, offset in reader.leaf_readers():
            key = segment_version(leaf)
            part = kept.get(key) if key is not None else None
            if part is None:
                part = _SegmentFacets.read(leaf)
            if key is not None:
                segments[key] = part
            leaves.append((leaf, offset, part))
            count = leaf.doc_count_all()
            live[offset : offset + count] = True
            if leaf.has_deletions():
                deleted = np.fromiter(deleted_docs(leaf), dtype=np.int64)
                live[deleted + offset] = False
            dates[offset : offset + count] = part.dates
        by_region: dict[str, list[np.ndarray]] = {}
        for _, offset, part in leaves:
            for term, docs in part.regions.items():
                by_region.setdefault(term, []).append(docs + offset)
        terms, docs, ids = [], [], []
        for term_id, term in enumerate(sorted(by_region)):
            found = by_region[term]
            terms.append(term)
            docs.append(found[0] if len(found) == 1 else np.concatenate(found))
            ids.append(np.full(len(docs[-1]), term_id, dtype=np.int32))
        arrays = cls(
            n,
            live,
            terms,
            np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64),
            np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32),
            dates,
            _clusters(reader, n, leaves),
            seq_numbers(reader),
        )
        arrays._segments = segments
        return arrays

    def date_keys(self, ascending: bool) -> np.ndarray:
        """Every document's key in date order, smaller first: newest (or oldest) first, undated last either way."""
        keys = self.dates.astype(np.int64)
        return np.where(keys == 0, np.iinfo(np.int32).max, keys) if ascending else np.where(keys == 0, 1, -keys)

    def date_order(self, mask: np.ndarray, ascending: bool, tiebreak: np.ndarray | None = None) -> np.ndarray:
        """Docnums of `mask` by date, newest (or oldest) first; undated documents last either way; the same date in
        index order (or by `tiebreak`). Every document's order is sorted once per snapshot; a request only filters
        it."""
        cache_key = (ascending, tiebreak is not None)
        order = self._date_orders.get(cache_key)
        if order is None:
            keys = self.date_keys(ascending)
            order = np.argsort(keys, kind="stable") if tiebreak is None else np.lexsort((tiebreak, keys))
            self._date_orders[cache_key] = order
        return order[mask[order]]

    def mask(self, docnums) -> np.ndarray:
        mask = np.zeros(self.doc_count, dtype=bool)
        arr = np.fromiter(docnums, dtype=np.int64)
        if len(arr):
            mask[arr] = True
        return mask & self.live

    def region_mask(self, paths: list[str]) -> np.ndarray:
        """Documents in any of `paths` (a path includes everything under it)."""
        chosen = set(paths)
        wanted = [i for i, term in enumerate(self.region_terms) if term in chosen]
        mask = np.zeros(self.doc_count, dtype=bool)
        if wanted:
            mask[self.region_docs[np.isin(self.region_ids, wanted)]] = True
        return mask & self.live

    def date_mask(self, lo: str | None, hi: str | None) -> np.ndarray:
        mask = self.live & (self.dates > 0)
        if lo:
            mask &= self.dates >= int(lo.replace("-", ""))
        if hi:
            mask &= self.dates <= int(hi.replace("-", ""))
        return mask

    def region_counts(self, mask: np.ndarray) -> dict[str, int]:
        if not len(self.region_ids):
            return {}
        counts = np.bincount(self.region_ids[mask[self.region_docs]], minlength=len(self.region_terms))
        found = np.flatnonzero(counts)
        terms = self.region_terms
        return {terms[i]: c for i, c in zip(found.tolist(), counts[found].tolist())}

    def span(self) -> tuple[int, int]:
        """(first, last) yyyymmdd day of the live dated documents, once per snapshot."""
        if self._span is None:
            self._span = date_span(self.dates, self.live)
        return self._span

    def date_values(self, mask: np.ndarray) -> np.ndarray:
        values = self.dates[mask]
        return values[values > 0]


@dataclass
class _SegmentFacets:
    """What the facets read of one segment, in its own document numbers (deleted documents left out)."""

    regions: dict[str, np.ndarray]  # region path → documents
    dates: np.ndarray  # int yyyymmdd per document, 0 when undated
    cluster_terms: list[tuple[bytes, int]]  # (cluster term, documents in this segment)
    cluster_docs: dict[bytes, np.ndarray] = field(default_factory=dict)  # filled for clusters spanning documents

    @classmethod
    def read(cls, leaf) -> _SegmentFacets:
        dates = np.zeros(leaf.doc_count_all(), dtype=np.int32)
        for term, posting in _term_docs(leaf, "date").items():
            dates[posting] = int(term.replace("-", ""))
        clusters = doc_frequencies(leaf, "cluster") if "cluster" in leaf.indexed_field_names() else []
        return cls(_term_docs(leaf, "region"), dates, clusters)

    def docs_of_cluster(self, leaf, term: bytes) -> np.ndarray:
        docs = self.cluster_docs.get(term)
        if docs is None:
            docs = self.cluster_docs[term] = np.fromiter(leaf.postings("cluster", term).all_ids(), dtype=np.int64)
        return docs


def _term_docs(leaf, fieldname: str) -> dict[str, np.ndarray]:
    """term → its documents in one segment (deleted ones excluded)."""
    if fieldname not in leaf.indexed_field_names():
        return {}
    return {
        term: np.fromiter(leaf.postings(fieldname, term).all_ids(), dtype=np.int64)
        for term in leaf.field_terms(fieldname)
    }


def _clusters(reader, n: int, leaves: list) -> np.ndarray:
    """Document → cluster number; a document alone in its cluster is a cluster of its own. Only cluster terms with
    two or more documents are read (nearly every article is alone: reading every term's postings took seconds)."""
    clusters = np.arange(n, dtype=np.int64) + n  # own clusters, numbered past every shared cluster
    if "cluster" not in reader.indexed_field_names():
        return clusters
    sizes: dict[bytes, int] = {}
    for _, _, part in leaves:
        for term, df in part.cluster_terms:
            sizes[term] = sizes.get(term, 0) + df
    numbers: dict[bytes, int] = {}
    for leaf, offset, part in leaves:
        for term, _ in part.cluster_terms:
            if sizes[term] > 1:
                number = numbers.setdefault(term, len(numbers))
                clusters[part.docs_of_cluster(leaf, term) + offset] = number
    return clusters


def region_facet(counts: dict[str, int], selected: list[str], size: int) -> list[dict]:
    """Provinces by count, each followed by its cities (and the counties of a selected province or city)."""
    selected_set = set(selected)
    by_parent: dict[str | None, list[str]] = {}  # paths under each path (None: the provinces)
    for path in counts:
        by_parent.setdefault(path.rsplit("/", 1)[0] if "/" in path else None, []).append(path)

    def children(parent: str | None) -> list[str]:
        kids = sorted(by_parent.get(parent, ()), key=lambda p: (-counts[p], p))
        top = kids[:size]
        top += [p for p in kids[size:] if p in selected_set]
        return top

    items = []

    def add(path: str, depth: int) -> None:
        items.append(
            {
                "value": path,
                "label": path.rsplit("/", 1)[-1],
                "count": counts[path],
                "selected": path in selected_set,
                "level": depth,
                "parent": path.rsplit("/", 1)[0] if "/" in path else None,
            }
        )

    for province in children(None):
        add(province, 1)
        for city in children(province):
            add(city, 2)
            if city in selected_set or province in selected_set or any(s.startswith(city + "/") for s in selected_set):
                for county in children(city):
                    add(county, 3)
    for path in selected:  # a selected region with no matches still shows, so it can be removed
        if path not in counts:
            items.append(
                {
                    "value": path,
                    "label": path.rsplit("/", 1)[-1],
                    "count": 0,
                    "selected": True,
                    "level": path.count("/") + 1,
                    "parent": path.rsplit("/", 1)[0] if "/" in path else None,
                }
            )
    return items


def date_bucket(lo: date, hi: date) -> str:
    """'year', 'month' or 'day': the finest bucket that keeps the histogram of [lo, hi] to a readable number of
    bars (at most 37 months or 63 days)."""
    span = (hi - lo).days
    if span > 3 * 366:
        return "year"
    if span > 62:
        return "month"
    return "day"


def day_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct yyyymmdd days ascending, documents on each) of an array of dates: what a date facet is drawn from,
    and what the shards of a sharded index report to be added up (`add_day_counts`)."""
    return _value_counts(values)


def add_day_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    parts = [p for p in parts if p[0].size]
    if len(parts) <= 1:
        return parts[0] if parts else (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64))
    days, inverse = np.unique(np.concatenate([d for d, _ in parts]), return_inverse=True)
    return days, np.bincount(inverse, weights=np.concatenate([c for _, c in parts])).astype(np.int64)


def date_span(dates: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """(first, last) yyyymmdd day among the dated documents of `mask`; (0, 0) when none is dated."""
    values = dates[mask & (dates > 0)]
    return (int(values.min()), int(values.max())) if values.size else (0, 0)


def add_spans(spans: list[tuple[int, int]]) -> tuple[int, int]:
    found = [s for s in spans if s[0]]
    return (min(s[0] for s in found), max(s[1] for s in found)) if found else (0, 0)


def date_facet(
    days: np.ndarray,
    counts: np.ndarray,
    date_from: str | None,
    date_to: str | None,
    span: tuple[int, int] = (0, 0),
) -> tuple[str, list[dict]]:
    """The date histogram of (day, count) pairs: its bucket and one item per period of its range, empty ones
    included. The range zooms with the date filter: the filter's dates (within `span`, the first and last dated
    article of the index) when one is set, else the first to the last match; years, then months, then days."""
    if date_from or date_to:
        if not span[0]:  # nothing in the index is dated
            return "month", []
        first, last = to_date(span[0]), to_date(span[1])
        lo = max(to_date(date_from), first) if date_from else first
        hi = min(to_date(date_to), last) if date_to else last
    elif days.size:
        lo, hi = to_date(int(days[0])), to_date(int(days[-1]))
    else:
        return "month", []
    if hi < lo:
        return "month", []
    bucket = date_bucket(lo, hi)
    listed = periods(lo, hi, bucket)
    items = []
    for period, count in zip(listed, bucket_counts(days, counts, listed).tolist()):
        item = period.to_dict()
        item["count"] = int(count)
        item["selected"] = date_from == item["from"] and date_to == item["to"]
        items.append(item)
    return bucket, items


def _value_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_counts=True), by counting instead of sorting when the keys span a short range."""
    if not keys.size:
        return keys, keys
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo > 4 * keys.size + 1024:
        return np.unique(keys, return_counts=True)
    counts = np.bincount(keys - lo)
    found = np.flatnonzero(counts)
    return found + lo, counts[found]
