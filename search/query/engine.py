"""Running searches: one function returns the plain data that the JSON API returns, the HTML page renders and the
CLI prints, so the three never drift.

A `SearchEngine` keeps one searcher per thread, refreshed when the index gains a commit, and one set of facet arrays
per index snapshot.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.classify import Bo1Model, Expander
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from search.errors import NotFound, SearchTimeout
from search.index.schema import from_stored
from search.index.store import open_index
from search.query.combine import Part, assemble, candidates_wanted, page_picks
from search.query.evaluate import Evaluator, Hits, PostingCache, Unsupported
from search.query.facets import FacetArrays, day_counts
from search.query.language import parse_query
from search.query.request import SearchRequest
from search.query.snippets import highlight_ranges, make_snippets, mark_html, snippet_html
from search.query.source import read_source
from search.query.statistics import GlobalBM25F
from search.query.suggest import LocalVocabulary, did_you_mean


class SearchEngine:
    def __init__(
        self,
        index_dir: str | Path,
        time_limit: float | None = None,
        vectorized: bool = True,
        posting_cache_mb: int = 512,
        ties_by_seq: bool = False,
    ):
        self.index_dir = Path(index_dir)
        # equal scores and dates in `seq` order (a shard of a sharded index: the order the shards are merged in)
        # rather than document order (one index: Whoosh's order)
        self.ties_by_seq = ties_by_seq
        # match and rank with numpy over posting arrays (search/query/evaluate.py); False: Whoosh's matchers throughout
        self.vectorized = vectorized
        # seconds a search (or an export's selection) may take before it stops with SearchTimeout (None: the
        # default, 0: no limit)
        self.time_limit = DEFAULT_TIME_LIMIT if time_limit is None else time_limit
        self._ix = open_index(self.index_dir)
        self._local = threading.local()
        self._facet_lock = threading.Lock()
        self._facets: tuple[int | None, FacetArrays] | None = None
        # posting arrays, shared by all threads (segments never change); a common bigram at 1M articles is ~20 MB
        self._postings = PostingCache(posting_cache_mb << 20)
        self._frequencies: tuple[int | None, dict] | None = None  # body words' collection frequencies, per snapshot

    # --- snapshots -------------------------------------------------------------------------------------------
    def searcher(self):
        """This thread's searcher on the newest committed snapshot of the index."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self._ix.searcher(weighting=BM25F())
        elif not searcher.up_to_date():
            # A fresh searcher, not `refresh()`: whoosh3 3.54's refresh carries the old snapshot's segments into the
            # new reader, so segments merged away by the commit would still be searched.
            searcher.close()
            searcher = self._ix.searcher(weighting=BM25F())
        self._local.searcher = searcher
        return searcher

    def facet_arrays(self, searcher) -> FacetArrays:
        generation = searcher.reader().generation()
        with self._facet_lock:
            if self._facets is None or self._facets[0] != generation:
                previous = self._facets[1] if self._facets is not None else None
                self._facets = (generation, FacetArrays.build(searcher.reader(), previous))
            return self._facets[1]

    def collection_frequencies(self, searcher) -> dict[str, int]:
        """word → its total weight in the body field, filled as related articles look words up (an article page
        needs a few hundred words; most are common to many articles). One table per index snapshot, bounded."""
        generation = searcher.reader().generation()
        with self._facet_lock:
            if (
                self._frequencies is None
                or self._frequencies[0] != generation
                or len(self._frequencies[1]) > _FREQUENCIES_KEPT
            ):
                self._frequencies = (generation, {})
            return self._frequencies[1]

    def warm(self, searcher) -> None:
        """Build `searcher`'s snapshot's facet arrays, then its did-you-mean index, and read the spelling model's
        character tables: at a million articles each takes seconds that the first request would otherwise wait."""
        from search.query.suggest import lexicon_neighbours
        from search.text import confusion

        self.facet_arrays(searcher)
        lexicon_neighbours(searcher.reader())
        confusion.load()

    def warm_up(self) -> threading.Thread:
        """`warm` in a background thread with its own searcher (searchers are not shared between threads); a server
        calls this at start."""

        def build() -> None:
            with self._ix.searcher(weighting=BM25F()) as searcher:
                self.warm(searcher)

        thread = threading.Thread(target=build, name="newsearch-warm-up", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    # --- search ----------------------------------------------------------------------------------------------
    def search(self, req: SearchRequest) -> dict:
        started = time.perf_counter()
        deadline.start(self.time_limit)
        searcher = self.searcher()
        part, mask = self.match_part(searcher, req, candidates_wanted(req))
        hits = self.fetch_hits(searcher, part, [i for _, i in page_picks(req, [part])], req.parsed.highlight, mask)
        took_ms = round((time.perf_counter() - started) * 1000, 2)
        suggestions = (
            did_you_mean(LocalVocabulary(searcher), req.q, req.parsed, lambda q: self.count(searcher, req, q))
            if part.groups == 0
            else []
        )
        return assemble(req, [part], hits, took_ms, suggestions)

    def ranking(self, req: SearchRequest) -> list[tuple[str, float | None]]:
        """(id, unrounded score — None when sorted by date) of every result up to the end of the requested page, in
        order: what a sharded index is held to (tests/test_shards.py, bench/shards.py)."""
        deadline.start(self.time_limit)
        searcher = self.searcher()
        part, _ = self.match_part(searcher, req, candidates_wanted(req), facets=False)
        scores = part.scores.tolist() if part.scores is not None else [None] * part.docs.size
        return [(searcher.stored_fields(d)["id"], score) for d, score in zip(part.docs.tolist(), scores)]

    # The steps of a search, which a shard of a sharded index runs for the coordinator (search/cluster/shard.py):
    # match (counts and the best `wanted` candidates), then fetch (the hits of the page shown).
    def match_part(
        self,
        searcher,
        req: SearchRequest,
        wanted: int,
        query=None,
        statistics=None,
        exclude: int | None = None,
        facets: bool = True,
    ) -> tuple[Part, np.ndarray]:
        """What this index answers for `req` (or for `query` under req's filters): a `Part` with its best
        `wanted` candidates, and the mask of the matching documents (for folded hits' similar articles).
        `statistics`: the idf and field lengths to score with (those of a whole sharded index); `exclude`: a
        document that must not be among the matches."""
        arrays = self.facet_arrays(searcher)
        query = req.parsed.to_whoosh() if query is None else query
        matched, in_regions, in_dates, scored = self._masks(searcher, arrays, req, query, statistics)
        if exclude is not None:
            matched[exclude] = False
        hits_mask = matched & in_regions & in_dates
        total = int(hits_mask.sum())
        # Collapsing: `groups` counts clusters (a reprint's copies are one result); facets still count articles.
        groups, folded = total, False
        if req.effective_collapse and total > 1:
            groups = int(np.unique(arrays.clusters[hits_mask]).size)
            folded = groups < total  # nothing to fold: the plain path
        part = Part(searcher.reader().generation(), total, groups, folded)
        if facets:
            part.region_counts = arrays.region_counts(matched & in_dates)
            part.days, part.day_counts = day_counts(arrays.date_values(matched & in_regions))
            part.undated = int((matched & in_regions & (arrays.dates == 0)).sum())
        if wanted > 0 and groups:
            sort = req.effective_sort
            docs, scores = self._page(
                searcher, query, hits_mask, sort, 0, wanted, collapse=folded, scored=scored, statistics=statistics
            )
            part.docs, part.scores, part.seq = docs, scores, arrays.seq[docs]
            part.keys = -scores if scores is not None else arrays.date_keys(sort == "date")[docs].astype(np.float64)
            if folded:
                clusters, sizes = np.unique(arrays.clusters[hits_mask], return_counts=True)
                part.similar = sizes[np.searchsorted(clusters, arrays.clusters[docs])] - 1
        return part, hits_mask

    def fetch_hits(
        self, searcher, part: Part, indexes: list[int], highlight: dict, mask: np.ndarray | None
    ) -> list[dict]:
        """The hits of candidates `indexes` of `part`, with snippets; folded ones with their similar articles."""
        hits = [(int(part.docs[i]), float(part.scores[i]) if part.scores is not None else None) for i in indexes]
        hit_dicts = [self._hit(searcher, docnum, score, highlight) for docnum, score in hits]
        self._add_similar(searcher, self.facet_arrays(searcher), mask, hits, hit_dicts, part.folded)
        return hit_dicts

    def count(self, searcher, req: SearchRequest, q: str) -> int:
        """Hits of query `q` under the filters of `req`."""
        deadline.check()
        other = SearchRequest(q=q, regions=req.regions, date_from=req.date_from, date_to=req.date_to)
        arrays = self.facet_arrays(searcher)
        matched, in_regions, in_dates, _ = self._masks(searcher, arrays, other, other.parsed.to_whoosh())
        return int((matched & in_regions & in_dates).sum())

    def _masks(self, searcher, arrays: FacetArrays, req: SearchRequest, query, statistics=None):
        """Documents matching the query, in the chosen regions, in the date range: kept apart so each facet can be
        counted without its own filter; and the matches with their scores (None where Whoosh had to match)."""
        scored = None
        if isinstance(query, wq.Every):  # a browse
            matched = arrays.live.copy()
        else:
            try:
                if not self.vectorized:
                    raise Unsupported("vectorized evaluation is off")
                scored = Evaluator(searcher, self._postings, check=deadline.check, statistics=statistics).run(query)
                matched = np.zeros(arrays.doc_count, dtype=bool)
                matched[scored.docs] = True
                matched &= arrays.live
            except Unsupported:
                matched = arrays.mask(deadline.docs(searcher.docs_for_query(query)))
        in_regions = arrays.region_mask(req.regions) if req.regions else arrays.live
        dated = req.date_from or req.date_to
        in_dates = arrays.date_mask(req.date_from, req.date_to) if dated else arrays.live
        return matched, in_regions, in_dates, scored

    def _page(
        self,
        searcher,
        query,
        mask,
        sort: str,
        offset: int,
        limit: int,
        collapse: bool = False,
        scored: Hits | None = None,
        statistics=None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Document numbers and scores (None when sorted by date) of results [offset, limit) among the documents of
        `mask`, in `sort` order; with `collapse`, a near-duplicate cluster counts once, at its best-placed member."""
        arrays = self.facet_arrays(searcher)
        tiebreak = arrays.seq if self.ties_by_seq else None
        if sort != "relevance" or isinstance(query, wq.Every):
            order = arrays.date_order(mask, ascending=sort == "date", tiebreak=tiebreak)
            if collapse:
                _, first = np.unique(arrays.clusters[order], return_index=True)
                order = order[np.sort(first)]
            return order[offset:limit].astype(np.int64), None
        if scored is not None:
            return _ranked(scored, mask, arrays.clusters if collapse else None, offset, limit, tiebreak)
        docset = set(mask.nonzero()[0].tolist())
        window = max(2 * limit, 50) if collapse else limit
        scoring = (
            searcher
            if statistics is None
            else Searcher(searcher.reader(), weighting=GlobalBM25F(statistics), closereader=False)
        )
        while True:
            results = _timed_search(scoring, query, limit=window, filter=docset)
            shown, seen = [], set()
            for i in range(results.scored_length()):
                docnum = results.docnum(i)
                if collapse:
                    if arrays.clusters[docnum] in seen:
                        continue
                    seen.add(arrays.clusters[docnum])
                shown.append((docnum, results.score(i)))
                if len(shown) >= limit:
                    break
            # ranked results are read in growing windows until `limit` clusters are seen
            if len(shown) >= limit or results.scored_length() < window or window >= len(docset):
                shown = shown[offset:limit]
                return (
                    np.array([d for d, _ in shown], dtype=np.int64),
                    np.array([score for _, score in shown], dtype=np.float64),
                )
            window *= 4

    @staticmethod
    def _add_similar(
        searcher, arrays: FacetArrays, mask, hits, hit_dicts: list[dict], folded: bool, listed: int = 50
    ) -> None:
        """Each hit's `similar`: how many other members of its cluster match the query and filters (folded into it),
        and `similar_ids` (the first `listed` of them, in index order). 0 and [] when results are not collapsed."""
        for hit in hit_dicts:
            hit["similar"], hit["similar_ids"] = 0, []
        if not folded or not hits:
            return
        matching = mask.nonzero()[0]
        wanted = arrays.clusters[[docnum for docnum, _ in hits]]
        members = matching[np.isin(arrays.clusters[matching], wanted)]
        for (docnum, _), hit in zip(hits, hit_dicts):
            others = [int(d) for d in members[arrays.clusters[members] == arrays.clusters[docnum]] if d != docnum]
            hit["similar"] = len(others)
            hit["similar_ids"] = [searcher.stored_fields(d)["id"] for d in others[:listed]]

    def _hit(self, searcher, docnum: int, score: float | None, highlight: dict) -> dict:
        article = from_stored(searcher.stored_fields(docnum))
        snippets = make_snippets(article["body"], highlight.get("body", []))
        hit = {
            k: article[k]
            for k in (
                "id",
                "headline",
                "kicker",
                "subheadline",
                "byline",
                "date",
                "date_source",
                "region",
                "source",
                "url",
                "kind",
            )
        }
        hit["headline_html"] = mark_html(
            article["headline"], highlight_ranges(article["headline"], highlight.get("headline", []))
        )
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
        article["provenance"] = provenance(article)
        if q:
            highlight = parse_query(q).highlight
            article["highlights"] = {
                "headline": highlight_ranges(article["headline"], highlight.get("headline", [])),
                "body": highlight_ranges(article["body"], highlight.get("body", [])),
            }
        return article

    def source_page(self, article_id: str) -> dict:
        """Where an article stands in its page file, as the file is on disk now (search/query/source.py): the
        page's lines (a long page: the article's lines and their context), or a bulk file's record, with the
        article's lines marked: {"id", "file", "line_start", "line_end", "format", "bytes", "lines_total",
        "lines": [{"n": 1, "text": "…", "in_article": bool}], "record"}."""
        path, article = self._page_file(article_id)
        start, end = article["line_start"], article["line_end"]
        try:
            shown = read_source(path, start, end)
        except OSError as exc:
            raise _unreadable(article_id, article["file"], exc) from None
        if start > shown["lines_total"]:
            raise NotFound(
                f"the page file of article {article_id} has changed since it was indexed ({article['file']} has "
                f"{shown['lines_total']} lines, the article was at line {start}); run `newsearch index` on its "
                "archive to bring the index in step"
            )
        return {"id": article_id, "file": article["file"], "line_start": start, "line_end": end, **shown}

    def source_file(self, article_id: str) -> str:
        """The path of an article's page file on this server, for a download (never shown: pages name the file
        only)."""
        path, article = self._page_file(article_id)
        if not os.path.isfile(path):
            raise _unreadable(article_id, article["file"], FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT)))
        return path

    def _page_file(self, article_id: str) -> tuple[str, dict]:
        searcher = self.searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        stored = searcher.stored_fields(docnum)
        if not stored.get("file"):
            raise NotFound(f"article {article_id} has no page file on record")
        return stored["file"], from_stored(stored)

    def related(self, article_id: str, limit: int = 5) -> list[dict]:
        """Articles most like this one (key terms of its body), excluding itself."""
        deadline.start(self.time_limit)
        searcher = self.searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"no article with id {article_id!r}")
        stored = searcher.stored_fields(docnum)
        known = self.collection_frequencies(searcher)
        reader = searcher.reader()

        def frequencies(words: list[str]) -> dict[str, int]:
            field = reader.schema["body"]
            for word in words:
                if word not in known:
                    known[word] = reader.frequency("body", field.to_bytes(word))
            return {word: known[word] for word in words}

        query = related_query(reader, related_text(stored), frequencies)
        part, _ = self.match_part(searcher, RELATED_REQUEST, limit, query=query, exclude=docnum, facets=False)
        hits = self.fetch_hits(searcher, part, list(range(part.docs.size)), {}, None)
        return hits

    def iter_matches(self, req: SearchRequest, limit: int) -> Iterator[dict]:
        """Full articles matching a request, in its sort order, at most `limit` (for exports)."""
        deadline.start(self.time_limit)
        searcher = self.searcher()
        arrays = self.facet_arrays(searcher)
        query = req.parsed.to_whoosh()
        matched, in_regions, in_dates, scored = self._masks(searcher, arrays, req, query)
        mask = matched & in_regions & in_dates
        docs, _ = self._page(searcher, query, mask, req.effective_sort, 0, limit, scored=scored)
        for docnum in docs.tolist():
            yield from_stored(searcher.stored_fields(docnum))

    def stats(self) -> dict:
        searcher = self.searcher()
        arrays = self.facet_arrays(searcher)
        reader = searcher.reader()
        dated = arrays.dates[arrays.live & (arrays.dates > 0)]
        sources = {}
        for term in reader.field_terms("source") if "source" in reader.indexed_field_names() else []:
            count = sum(1 for _ in reader.postings("source", term).all_ids())
            if count:  # a term can outlive its deleted documents until segments merge
                sources[term] = count
        size = sum(p.stat().st_size for p in self.index_dir.iterdir() if p.is_file())
        return {
            "articles": searcher.doc_count(),
            "dated": int(len(dated)),
            "date_min": _iso(int(dated.min())) if len(dated) else None,
            "date_max": _iso(int(dated.max())) if len(dated) else None,
            "regions": len(arrays.region_terms),
            "sources": dict(sorted(sources.items(), key=lambda kv: -kv[1])),
            "segments": len(reader.leaf_readers()),
            "index_bytes": size,
            "index_dir": str(self.index_dir),
        }


_FREQUENCIES_KEPT = 500_000  # words in a snapshot's frequency table before it starts again


RELATED_REQUEST = SearchRequest(sort="relevance")  # no filters, nothing folded, ranked


def related_text(stored: dict) -> str:
    return f"{stored.get('headline', '')}\n{stored.get('body', '')}"


def related_query(reader, text: str, frequencies, numterms: int = 5) -> wq.Query:
    """Whoosh's more_like for `text`: an Or of its key body terms, boosted by their weights. `reader` gives the
    analyzer and the collection's size (one index, or a whole sharded one); `frequencies(words)` each word's total
    weight in the body field."""
    key_terms = _key_terms(reader, "body", text, numterms, frequencies)
    return wq.Or([wq.Term("body", word, boost=weight) for word, weight in key_terms])


def _key_terms(reader, fieldname: str, text: str, numterms: int, frequencies) -> list[tuple[str, float]]:
    """`Searcher.key_terms_from_text(..., model=Bo1Model, normalize=False)` with the collection frequencies of
    the text's words from `frequencies` (asked once for all of them); a word absent everywhere has frequency 0."""
    expander = Expander(reader, fieldname, model=Bo1Model)
    expander.add_text(text)
    model = expander.model
    weights = expander.topN_weight
    cf = frequencies(list(weights))
    scored = [(model.score(weight, cf[word], expander.top_total), word) for word, weight in weights.items() if cf[word]]
    norm = max((score for score, _ in scored), default=0.0)
    scored = sorted(((score / norm, word) for score, word in scored), key=lambda x: (-x[0], x[1]))
    return [(word, weight) for weight, word in scored[:numterms]]


def _unreadable(article_id: str, file: str, exc: OSError) -> NotFound:
    return NotFound(
        f"the page file of article {article_id} is no longer readable ({file}: {exc.strerror or exc}); "
        "run `newsearch index --prune` on its archive to bring the index in step"
    )


def provenance(article: dict) -> dict:
    """Where an article came from: its page file and line span there, and the catalogue's page, paper and issue."""
    return {
        "file": article["file"],
        "line_start": article["line_start"],
        "line_end": article["line_end"],
        "page": article.get("page", ""),
        "paper": article["source"],
        "issue_date": article.get("issue_date", ""),
    }


def _ranked(
    scored: Hits,
    mask: np.ndarray,
    clusters: np.ndarray | None,
    offset: int,
    limit: int,
    tiebreak: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and scores of results [offset, limit) of scored matches within `mask`: best score first,
    ties in index order (as Whoosh orders them) or by `tiebreak[docnum]`; with `clusters`, one result per cluster,
    at its best-placed member."""
    keep = mask[scored.docs]
    docs, scores = scored.docs[keep], scored.scores[keep]
    if clusters is None and limit < docs.size // 4:
        # only the top `limit` need ordering: everything scoring at least the limit-th best score
        cut = np.partition(scores, docs.size - limit)[docs.size - limit]
        near = scores >= cut
        docs, scores = docs[near], scores[near]
    order = np.lexsort((docs if tiebreak is None else tiebreak[docs], -scores))
    if clusters is not None:
        _, first = np.unique(clusters[docs[order]], return_index=True)
        order = order[np.sort(first)]
    chosen = order[offset:limit]
    return docs[chosen].astype(np.int64), scores[chosen].astype(np.float64)


def _iso(value: int) -> str:
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"


# --- the time budget -------------------------------------------------------------------------------------------
DEFAULT_TIME_LIMIT = 10.0


class _Deadline(threading.local):
    """This thread's current search deadline: set when a search starts, checked in the loops over matches and
    handed to Whoosh's TimeLimitCollector for the scored part."""

    seconds: float | None = None
    at: float | None = None

    def start(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self.at = time.monotonic() + self.seconds if self.seconds else None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise SearchTimeout(
                f"the search took longer than {self.seconds:g} s; narrow the query "
                "(longer or fewer words, a region or a date range)"
            )

    def docs(self, docnums, every: int = 512):
        """`docnums`, checking the deadline every `every` documents."""
        self.check()
        for i, docnum in enumerate(docnums):
            if i % every == every - 1:
                self.check()
            yield docnum


deadline = _Deadline()


def _timed_search(searcher, query, limit: int, filter):
    """searcher.search(query, limit=, filter=) within what is left of this thread's deadline."""
    remaining = deadline.remaining()
    if remaining is None:
        return searcher.search(query, limit=limit, filter=filter)
    deadline.check()
    collector = TimeLimitCollector(
        searcher.collector(limit=limit, filter=filter), max(remaining, 0.001), use_alarm=False
    )  # a timer thread, not SIGALRM: searches run in worker threads
    try:
        searcher.search_with_collector(query, collector)
    except TimeLimit:
        deadline.at = time.monotonic() - 1  # spent
        deadline.check()
    finally:
        if collector.timer is not None:
            collector.timer.cancel()
    return collector.results()
