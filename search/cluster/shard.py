"""One shard's side of a fan-out search (search/cluster/fanout.py), over an ordinary index: the steps of the single index's
search (search/query/engine.py), each answered for the coordinator.

A `ShardService` lives in a long-lived Ray actor (search/cluster/actors.py), one call at a time. Between a query's match
and its fetch another query may find a newer commit: the snapshots matched recently stay open, by generation, so a
fetch reads the documents its match numbered.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict

import numpy as np
from whoosh.scoring import BM25F

from search.cluster.actors import actor_node, actor_restarted
from search.errors import NotFound, StaleSnapshot
from search.index.schema import from_stored
from search.query.combine import Part
from search.query.engine import SearchEngine, deadline, related_text
from search.query.language import word_query
from search.query.request import SearchRequest
from search.query.statistics import TermStatistics, local_statistics
from search.query.suggest import LEXICON_FIELDS, candidate_frequencies

KEPT_SNAPSHOTS = 3  # snapshots kept open for fetches of queries matched on them
KEPT_MASKS = 16  # matches whose document masks are kept for folded hits' similar articles


class ShardService:
    def __init__(
        self,
        index_dir: str,
        posting_cache_mb: int = 512,
        time_limit: float | None = None,
        warm: bool = True,
        restart_delay: float = 0.0,
    ):
        if restart_delay and actor_restarted():  # a slow restart (a large shard reading its arrays), for fault tests
            time.sleep(restart_delay)
        self.index_dir = index_dir
        self.engine = SearchEngine(
            index_dir, time_limit=time_limit, posting_cache_mb=posting_cache_mb, ties_by_seq=True
        )
        self._snapshots: OrderedDict[object, object] = OrderedDict()  # generation → searcher
        self._masks: OrderedDict[tuple, np.ndarray] = OrderedDict()  # (generation, token) → matching documents
        if warm:  # before the first query
            self.engine.warm(self._current())

    # --- snapshots ---------------------------------------------------------------------------------------------
    def _current(self):
        """The newest snapshot's searcher (opened when the shard has a new commit)."""
        if self._snapshots:
            newest = next(reversed(self._snapshots.values()))
            if newest.up_to_date():
                return newest
        searcher = self.engine._ix.searcher(weighting=BM25F())
        self._snapshots[searcher.reader().generation()] = searcher
        while len(self._snapshots) > KEPT_SNAPSHOTS:
            _, old = self._snapshots.popitem(last=False)
            old.close()
        return searcher

    def _at(self, generation):
        searcher = self._snapshots.get(generation)
        if searcher is None:
            raise StaleSnapshot(f"{self.index_dir}: snapshot {generation} is no longer open")
        return searcher

    # --- status ------------------------------------------------------------------------------------------------
    def ping(self) -> dict:
        searcher = self._current()
        return {
            "index": self.index_dir,
            "documents": searcher.doc_count(),
            "generation": searcher.reader().generation(),
            "pid": os.getpid(),
            "rss_bytes": _rss_bytes(),
            "node": actor_node(),
        }

    # --- the steps of a search --------------------------------------------------------------------------------
    def statistics(self, terms: list[tuple[str, bytes]]) -> TermStatistics:
        return local_statistics(self._current().reader(), terms)

    def match(
        self,
        req: SearchRequest,
        wanted: int,
        statistics: TermStatistics | None,
        token: int,
        query=None,
        exclude_id: str | None = None,
        facets: bool = True,
    ) -> Part:
        deadline.start(self.engine.time_limit)
        searcher = self._current()
        exclude = searcher.document_number(id=exclude_id) if exclude_id else None
        part, mask = self.engine.match_part(
            searcher, req, wanted, query=query, statistics=statistics, exclude=exclude, facets=facets
        )
        if part.folded:
            self._masks[(part.generation, token)] = mask
            while len(self._masks) > KEPT_MASKS:
                self._masks.popitem(last=False)
        return part

    def fetch(self, part: Part, indexes: list[int], highlight: dict, token: int) -> list[dict]:
        searcher = self._at(part.generation)
        mask = self._masks.get((part.generation, token)) if part.folded else None
        if part.folded and mask is None:
            raise StaleSnapshot(f"{self.index_dir}: the matches of query {token} are no longer kept")
        return self.engine.fetch_hits(searcher, part, indexes, highlight, mask)

    def ids(self, generation, docs: list[int]) -> list[str]:
        searcher = self._at(generation)
        return [searcher.stored_fields(docnum)["id"] for docnum in docs]

    def articles(self, generation, docs: list[int]) -> list[dict]:
        """Whole stored articles (exports)."""
        searcher = self._at(generation)
        return [from_stored(searcher.stored_fields(docnum)) for docnum in docs]

    def count(self, req: SearchRequest, q: str) -> int:
        deadline.start(self.engine.time_limit)
        return self.engine.count(self._current(), req, q)

    # --- did you mean --------------------------------------------------------------------------------------------
    def word_matches(self, word) -> bool:
        return any(True for _ in self._current().docs_for_query(word_query(word)))

    def candidate_frequencies(self, word: str) -> list[tuple[str, int]]:
        return candidate_frequencies(self._current().reader(), word)

    def occurrences(self, term: str) -> float:
        reader = self._current().reader()
        return sum(reader.frequency(f, term) for f in LEXICON_FIELDS if f in reader.indexed_field_names())

    # --- articles -----------------------------------------------------------------------------------------------
    def article(self, article_id: str, q: str | None = None) -> dict | None:
        """The article with this id if this shard holds it, else None."""
        try:
            return self.engine.article(article_id, q)
        except NotFound:
            return None

    def source_page(self, article_id: str) -> dict | None:
        if self._current().document_number(id=article_id) is None:
            return None
        return self.engine.source_page(article_id)

    def source_file(self, article_id: str) -> str | None:
        if self._current().document_number(id=article_id) is None:
            return None
        return self.engine.source_file(article_id)

    def related_text(self, article_id: str) -> str | None:
        searcher = self._current()
        docnum = searcher.document_number(id=article_id)
        return None if docnum is None else related_text(searcher.stored_fields(docnum))

    def collection(self, fieldname: str) -> tuple[int, int]:
        """(documents, total length of `fieldname`): the collection figures of more-like-this."""
        reader = self._current().reader()
        return reader.doc_count_all(), reader.field_length(fieldname)

    def frequencies(self, fieldname: str, words: list[str]) -> dict[str, int]:
        reader = self._current().reader()
        field = reader.schema[fieldname]
        return {word: reader.frequency(fieldname, field.to_bytes(word)) for word in words}

    # --- the index ----------------------------------------------------------------------------------------------
    def stats(self) -> dict:
        stats = self.engine.stats()
        arrays = self.engine.facet_arrays(self.engine.searcher())
        stats["region_terms"] = list(arrays.region_terms)
        return stats


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
