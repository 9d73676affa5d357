"""Running searches: one function returns the plain data that the JSON API returns, the HTML page renders and the
CLI prints, so the three never drift.

A `SearchEngine` keeps one searcher per thread, refreshed when the index gains a commit, and one set of facet arrays
per index snapshot.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import query as wq
from whoosh.scoring import BM25F

from search.errors import NotFound
from search.facets import FacetArrays, date_facet, region_facet
from search.indexer import open_index
from search.query import parse_query
from search.request import SearchRequest
from search.schema import from_stored
from search.snippets import highlight_ranges, make_snippets, mark_html, snippet_html


class SearchEngine:
    def __init__(self, index_dir: str | Path):
        self.index_dir = Path(index_dir)
        self._ix = open_index(self.index_dir)
        self._local = threading.local()
        self._facet_lock = threading.Lock()
        self._facets: tuple[int | None, FacetArrays] | None = None

    # --- snapshots -------------------------------------------------------------------------------------------
    def searcher(self):
        """This thread's searcher on the newest committed snapshot of the index."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self._ix.searcher(weighting=BM25F())
        elif not searcher.up_to_date():
            searcher = searcher.refresh()
        self._local.searcher = searcher
        return searcher

    def facet_arrays(self, searcher) -> FacetArrays:
        generation = searcher.reader().generation()
        with self._facet_lock:
            if self._facets is None or self._facets[0] != generation:
                self._facets = (generation, FacetArrays.build(searcher.reader()))
            return self._facets[1]

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    # --- search ----------------------------------------------------------------------------------------------
    def search(self, req: SearchRequest) -> dict:
        started = time.perf_counter()
        searcher = self.searcher()
        arrays = self.facet_arrays(searcher)
        parsed = req.parsed
        query = parsed.to_whoosh()

        matched, in_regions, in_dates = self._masks(searcher, arrays, req, query)
        hits_mask = matched & in_regions & in_dates
        total = int(hits_mask.sum())

        region_counts = arrays.region_counts(matched & in_dates)
        date_values = arrays.date_values(matched & in_regions)
        bucket, date_items = date_facet(date_values, req.date_from, req.date_to)

        offset = (req.page - 1) * req.per_page
        hits = self._page(searcher, query, hits_mask, req.effective_sort, offset, offset + req.per_page) \
            if offset < total else []
        hit_dicts = [self._hit(searcher, docnum, score, parsed.highlight) for docnum, score in hits]
        return {
            "query": {"q": req.q, "parsed": parsed.parsed, "filters": req.filters()},
            "total": total,
            "page": req.page,
            "per_page": req.per_page,
            "pages": (total + req.per_page - 1) // req.per_page,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "hits": hit_dicts,
            "facets": {
                "region": region_facet(region_counts, req.regions, req.facet_size),
                "date": date_items,
            },
            "date_bucket": bucket,
            "undated": int((matched & in_regions & (arrays.dates == 0)).sum()),
        }

    @staticmethod
    def _masks(searcher, arrays: FacetArrays, req: SearchRequest, query):
        """Documents matching the query, in the chosen regions, in the date range: kept apart so each facet can be
        counted without its own filter."""
        matched = arrays.live.copy() if req.parsed.is_browse else arrays.mask(searcher.docs_for_query(query))
        in_regions = arrays.region_mask(req.regions) if req.regions else arrays.live
        dated = req.date_from or req.date_to
        in_dates = arrays.date_mask(req.date_from, req.date_to) if dated else arrays.live
        return matched, in_regions, in_dates

    def _page(self, searcher, query, mask, sort: str, offset: int, limit: int) -> list[tuple[int, float | None]]:
        """(docnum, score) of results [offset, limit) among the documents of `mask`, in `sort` order."""
        docset = set(mask.nonzero()[0].tolist())
        if sort == "relevance":
            results = searcher.search(query, limit=limit, filter=docset)
        else:
            results = searcher.search(query, limit=limit, filter=docset, sortedby="date", reverse=sort == "-date")
        scored = sort == "relevance" and not isinstance(query, wq.Every)
        return [(results.docnum(i), results.score(i) if scored else None)
                for i in range(offset, min(limit, results.scored_length()))]

    def _hit(self, searcher, docnum: int, score: float | None, highlight: dict) -> dict:
        article = from_stored(searcher.stored_fields(docnum))
        snippets = make_snippets(article["body"], highlight.get("body", []))
        hit = {k: article[k] for k in ("id", "headline", "subheadline", "byline", "date", "date_source", "region",
                                       "source", "url", "kind")}
        hit["headline_html"] = mark_html(article["headline"],
                                         highlight_ranges(article["headline"], highlight.get("headline", [])))
        hit["score"] = round(score, 4) if score is not None else None
        hit["snippets"] = [s.to_dict() for s in snippets]
        hit["snippet_html"] = snippet_html(snippets)
        return hit

    # --- articles --------------------------------------------------------------------------------------------
    def article(self, article_id: str, q: str | None = None) -> dict:
        searcher = self.searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        article = from_stored(searcher.stored_fields(docnum))
        if q:
            highlight = parse_query(q).highlight
            article["highlights"] = {
                "headline": highlight_ranges(article["headline"], highlight.get("headline", [])),
                "body": highlight_ranges(article["body"], highlight.get("body", [])),
            }
        return article

    def related(self, article_id: str, limit: int = 5) -> list[dict]:
        """Articles most like this one (key terms of its body), excluding itself."""
        searcher = self.searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        stored = searcher.stored_fields(docnum)
        text = f"{stored.get('headline', '')}\n{stored.get('body', '')}"
        results = searcher.more_like(docnum, "body", text=text, top=limit)
        return [self._hit(searcher, hit.docnum, hit.score, {}) for hit in results]

    def iter_matches(self, req: SearchRequest, limit: int) -> Iterator[dict]:
        """Full articles matching a request, in its sort order, at most `limit` (for exports)."""
        searcher = self.searcher()
        arrays = self.facet_arrays(searcher)
        query = req.parsed.to_whoosh()
        matched, in_regions, in_dates = self._masks(searcher, arrays, req, query)
        mask = matched & in_regions & in_dates
        for docnum, _ in self._page(searcher, query, mask, req.effective_sort, 0, limit):
            yield from_stored(searcher.stored_fields(docnum))

    def stats(self) -> dict:
        searcher = self.searcher()
        arrays = self.facet_arrays(searcher)
        reader = searcher.reader()
        dated = arrays.dates[arrays.live & (arrays.dates > 0)]
        sources = {}
        for term in reader.field_terms("source") if "source" in reader.indexed_field_names() else []:
            sources[term] = sum(1 for _ in reader.postings("source", term).all_ids())
        size = sum(p.stat().st_size for p in self.index_dir.iterdir() if p.is_file())
        return {
            "articles": searcher.doc_count(),
            "dated": int(len(dated)),
            "date_min": _iso(int(dated.min())) if len(dated) else None,
            "date_max": _iso(int(dated.max())) if len(dated) else None,
            "regions": len(arrays.region_terms),
            "sources": dict(sorted(sources.items(), key=lambda kv: -kv[1])),
            "segments": len(reader.leaf_readers()) if hasattr(reader, "leaf_readers") else 1,
            "index_bytes": size,
            "index_dir": str(self.index_dir),
        }


def _iso(value: int) -> str:
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"
