"""Region and date facets from per-document value arrays.

Grouping every hit through Whoosh is the slow path; instead, once per index snapshot, the region and date postings
are turned into numpy arrays (document → region term ids, document → date), and a query's facet counts are a
`bincount` over its matching documents. Multi-select: region counts are taken without the region filter, date counts
without the date filter, so a reader can always add a second region or widen the dates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from search.dates import date_bounds


@dataclass
class FacetArrays:
    doc_count: int
    live: np.ndarray  # bool per document: not deleted
    region_terms: list[str]  # region term id → path
    region_docs: np.ndarray  # parallel arrays: one entry per (document, region path)
    region_ids: np.ndarray
    dates: np.ndarray  # int yyyymmdd per document, 0 when undated
    clusters: np.ndarray | None = None  # int per document: its near-duplicate cluster (search/duplicates.py)

    @classmethod
    def build(cls, reader) -> "FacetArrays":
        n = reader.doc_count_all()
        live = np.zeros(n, dtype=bool)
        live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        terms, docs, ids = [], [], []
        if "region" in reader.indexed_field_names():
            for term_id, term in enumerate(reader.field_terms("region")):
                terms.append(term)
                posting = np.fromiter(reader.postings("region", term).all_ids(), dtype=np.int64)
                docs.append(posting)
                ids.append(np.full(len(posting), term_id, dtype=np.int32))
        dates = np.zeros(n, dtype=np.int32)
        if "date" in reader.indexed_field_names():
            for term in reader.field_terms("date"):
                posting = np.fromiter(reader.postings("date", term).all_ids(), dtype=np.int64)
                dates[posting] = int(term.replace("-", ""))
        return cls(n, live, terms,
                   np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64),
                   np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32), dates, _clusters(reader, n))

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
        return {self.region_terms[i]: int(c) for i, c in enumerate(counts) if c}

    def date_values(self, mask: np.ndarray) -> np.ndarray:
        values = self.dates[mask]
        return values[values > 0]


def _clusters(reader, n: int) -> np.ndarray:
    """Document → cluster number; a document without a `cluster` term is a cluster of its own."""
    clusters = np.arange(n, dtype=np.int64) + n  # own clusters, numbered past every cluster term
    if "cluster" in reader.indexed_field_names():
        for number, term in enumerate(reader.field_terms("cluster")):
            clusters[np.fromiter(reader.postings("cluster", term).all_ids(), dtype=np.int64)] = number
    return clusters


def region_facet(counts: dict[str, int], selected: list[str], size: int) -> list[dict]:
    """Provinces by count, each followed by its cities (and the counties of a selected province or city)."""
    selected_set = set(selected)

    def children(parent: str | None, depth: int) -> list[str]:
        kids = [p for p in counts if p.count("/") == depth - 1 and (parent is None or p.startswith(parent + "/"))]
        kids.sort(key=lambda p: (-counts[p], p))
        top = kids[:size]
        top += [p for p in kids[size:] if p in selected_set]
        return top

    items = []

    def add(path: str, depth: int) -> None:
        items.append({"value": path, "label": path.rsplit("/", 1)[-1], "count": counts[path],
                      "selected": path in selected_set, "level": depth,
                      "parent": path.rsplit("/", 1)[0] if "/" in path else None})

    for province in children(None, 1):
        add(province, 1)
        for city in children(province, 2):
            add(city, 2)
            if city in selected_set or province in selected_set or any(s.startswith(city + "/") for s in selected_set):
                for county in children(city, 3):
                    add(county, 3)
    for path in selected:  # a selected region with no matches still shows, so it can be removed
        if path not in counts:
            items.append({"value": path, "label": path.rsplit("/", 1)[-1], "count": 0, "selected": True,
                          "level": path.count("/") + 1, "parent": path.rsplit("/", 1)[0] if "/" in path else None})
    return items


def date_bucket(values: np.ndarray) -> str:
    """'year', 'month' or 'day': the finest bucket that keeps the histogram to a readable number of bars."""
    if not len(values):
        return "month"
    lo, hi = _to_date(int(values.min())), _to_date(int(values.max()))
    span = (hi - lo).days
    if span > 3 * 366:
        return "year"
    if span > 62:
        return "month"
    return "day"


def date_facet(values: np.ndarray, date_from: str | None, date_to: str | None) -> tuple[str, list[dict]]:
    bucket = date_bucket(values)
    divisor = {"year": 10000, "month": 100, "day": 1}[bucket]
    keys, counts = np.unique(values // divisor, return_counts=True)
    items = []
    for key, count in zip(keys.tolist(), counts.tolist()):
        value = _bucket_value(key, bucket)
        lo, hi = date_bounds(value)
        items.append({"value": value, "label": value, "count": int(count), "from": lo, "to": hi,
                      "selected": date_from == lo and date_to == hi})
    return bucket, items


def _bucket_value(key: int, bucket: str) -> str:
    if bucket == "year":
        return f"{key:04d}"
    if bucket == "month":
        return f"{key // 100:04d}-{key % 100:02d}"
    return f"{key // 10000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"


def _to_date(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)
