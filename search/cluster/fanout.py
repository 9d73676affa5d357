"""Searching a sharded index: every request fanned out to the shards' `ShardService`s and their answers combined
into exactly the answer one index holding every article gives.

A search runs in up to three rounds, as Elasticsearch's dfs_query_then_fetch does:

1. statistics — each shard reports the document frequencies of the query's scored terms, its document count and
   field lengths; summed, they are the whole index's (search/query/statistics.py). Skipped when nothing is ranked by
   score (a browse, or a sort by date).
2. match — each shard scores with those statistics and returns its counts (total, region and date facets) and its
   best `page × per_page` candidates with their sort keys and `seq` (search/query/combine.py); the coordinator adds the
   counts and merges the candidates (equal keys in `seq` order, as one index orders equal scores).
3. fetch — only the shards holding hits of the page shown build them (stored fields, snippets, similar reprints).

A shard none of whose replicas answers is left out, and the result says so: `"partial": true, "missing_shards":
[…]`. Deep pages are bounded by the request limits (page ≤ 1000, per_page ≤ 100), so no shard returns more than
page × per_page candidates.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from whoosh import query as wq

from search.cluster.actors import ShardDown
from search.cluster.layout import open_layout
from search.errors import BadRequest, ClusterUnavailable, NotFound, StaleSnapshot
from search.index.schema import build_schema
from search.query.combine import Part, assemble, candidates_wanted, merged_order, page_picks
from search.query.engine import RELATED_REQUEST, related_query
from search.query.request import SearchRequest
from search.query.statistics import StatisticsCache, TermStatistics, scored_terms
from search.query.suggest import did_you_mean

EXPORT_BATCH = 500  # articles fetched from a shard per call when exporting
# Results a request may reach (page × per_page): every shard returns that many candidates, so deep pages cost
# every shard; past it, narrow the query (Elasticsearch's index.max_result_window is the same 10,000).
MAX_RESULT_WINDOW = 10_000


class ShardedEngine:
    """The `SearchEngine` interface (search, article, related, source_page, iter_matches, stats) over the shards of
    a sharded index; `shards` is a search.cluster.actors `Shards` of `ShardService`s, one per shard directory."""

    def __init__(self, root: str | Path, shards, global_statistics: bool = True):
        self.index_dir = Path(root)
        self.layout = open_layout(root)
        self.shards = shards
        self.schema = build_schema()
        # False: each shard scores with its own statistics (what the first round is for: tests show the difference)
        self.global_statistics = global_statistics
        self._tokens = itertools.count(1)
        self._generations: dict[int, object] = {}  # each shard's snapshot, as its last answer said
        self._cache = StatisticsCache()

    # --- search ----------------------------------------------------------------------------------------------
    def search(self, req: SearchRequest) -> dict:
        started = time.perf_counter()
        if candidates_wanted(req) > MAX_RESULT_WINDOW:
            raise BadRequest(
                f"page: results beyond the first {MAX_RESULT_WINDOW:,} are not served from a sharded "
                f"index (page {req.page} × per_page {req.per_page}); narrow the query or sort instead"
            )
        for attempt in range(2):
            try:
                return self._search(req, started)
            except StaleSnapshot:  # a shard moved on between match and fetch: ask again
                if attempt:
                    raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _search(self, req: SearchRequest, started: float) -> dict:
        missing: dict[int, str] = {}
        query = req.parsed.to_whoosh()
        token = next(self._tokens)
        parts = self._match(req, candidates_wanted(req), query, token, missing)
        picks = page_picks(req, list(parts.values()))
        hits = self._fetch(parts, picks, req.parsed.highlight, token, missing)
        took_ms = round((time.perf_counter() - started) * 1000, 2)
        total = sum(p.groups for p in parts.values())
        suggestions = (
            did_you_mean(ShardedVocabulary(self, missing), req.q, req.parsed, lambda q: self._count(req, q, missing))
            if total == 0
            else []
        )
        return self._marked(assemble(req, list(parts.values()), hits, took_ms, suggestions), missing)

    def ranking(self, req: SearchRequest) -> list[tuple[str, float | None]]:
        """`SearchEngine.ranking`: (id, unrounded score) of every result up to the end of the requested page."""
        missing: dict[int, str] = {}
        parts = self._match(
            req, candidates_wanted(req), req.parsed.to_whoosh(), next(self._tokens), missing, facets=False
        )
        if missing:
            raise ClusterUnavailable(f"shards {', '.join(map(str, sorted(missing)))} are unavailable")
        numbers, order = list(parts), merged_order(list(parts.values()))[: candidates_wanted(req)]
        ids = self._documents("ids", parts, order)
        ranked: list[tuple[str, float | None]] = []
        for article_id, (p, at) in zip(ids, order):
            scores = parts[numbers[p]].scores
            ranked.append((article_id, float(scores[at]) if scores is not None else None))
        return ranked

    def _match(
        self,
        req: SearchRequest,
        wanted: int,
        query,
        token: int,
        missing: dict,
        custom=None,
        exclude_id: str | None = None,
        facets: bool = True,
    ) -> dict[int, Part]:
        """Rounds 1 and 2: the statistics (from the cache when every shard is still on the snapshot they were
        counted on), then every shard's `Part` (scored with them), by shard number. A shard found on a newer
        snapshot than the statistics were counted on (a commit in between) makes the query run again with fresh
        ones (twice at most: under a stream of commits the last answer is taken)."""
        for fresh in (False, True, True):
            statistics = self._statistics(query if custom is None else custom, req.effective_sort, missing, fresh)
            args = (req, wanted, statistics, token, custom, exclude_id, facets)
            parts = self._parts(self.shards.run("match", args, shards=self._live(missing), report_down=True), missing)
            generations = tuple(p.generation for p in parts.values())
            for shard, part in parts.items():
                self._generations[shard] = part.generation
            if statistics is None or statistics.generation == generations:
                return parts
        return parts

    def _statistics(self, query, sort: str, missing: dict, fresh: bool = False) -> TermStatistics | None:
        """The whole index's statistics for the query's scored terms (None when nothing is ranked by score), with
        `generation` the shards' snapshots they were counted on."""
        if sort != "relevance" or isinstance(query, wq.Every) or not self.global_statistics:
            return None
        terms = scored_terms(query, self.schema)
        live = self._live(missing)
        known = tuple(self._generations.get(shard) for shard in live)
        cached = None if fresh else self._cache.get(known, terms)
        if cached is not None:
            return cached
        answers = self._answered(self.shards.run("statistics", (terms,), shards=live, report_down=True), missing)
        stats = TermStatistics.combine(list(answers.values()))
        counted_on = tuple(answers[shard].generation for shard in sorted(answers))
        if len(answers) == self.layout.shards:
            self._cache.put(counted_on, stats)
        stats.generation = counted_on
        return stats

    def _parts(self, answers: dict, missing: dict) -> dict[int, Part]:
        """The shards' parts, by shard number (ascending: the merged order is the same whoever answered first)."""
        return dict(sorted(self._answered(answers, missing).items()))

    def _fetch(
        self, parts: dict[int, Part], picks: list[tuple[int, int]], highlight: dict, token: int, missing: dict
    ) -> list[dict]:
        numbers = list(parts)
        wanted: dict[int, list[int]] = {}
        for part_index, at in picks:
            wanted.setdefault(numbers[part_index], []).append(at)
        fetched = self._answered(
            self.shards.run(
                "fetch",
                {shard: (parts[shard], at, highlight, token) for shard, at in wanted.items()},
                shards=sorted(wanted),
                report_down=True,
            ),
            missing,
        )
        position = {shard: iter(hits) for shard, hits in fetched.items()}
        # the page in merged order; a shard that went down after matching leaves its hits out (and is reported)
        return [next(position[numbers[p]]) for p, _ in picks if numbers[p] in position]

    def _count(self, req: SearchRequest, q: str, missing: dict) -> int:
        return sum(
            self._answered(
                self.shards.run("count", (req, q), shards=self._live(missing), report_down=True), missing
            ).values()
        )

    def _live(self, missing: dict) -> list[int]:
        return [shard for shard in range(self.layout.shards) if shard not in missing]

    def _answered(self, answers: dict, missing: dict) -> dict:
        """The answers of the shards that answered; the others recorded in `missing`."""
        out = {}
        for shard, answer in answers.items():
            if isinstance(answer, ShardDown):
                missing[shard] = answer.reason
            else:
                out[shard] = answer
        if not out and answers:
            raise ClusterUnavailable(
                f"no shard of {self.index_dir} answered: {'; '.join(sorted(set(missing.values())))}"
            )
        return out

    def _marked(self, result: dict, missing: dict) -> dict:
        result["partial"] = bool(missing)
        result["missing_shards"] = sorted(missing)
        return result

    # --- articles --------------------------------------------------------------------------------------------
    def _find(self, method: str, article_id: str, *args):
        """The answer of the shard holding the article (shards answer None for articles they do not hold)."""
        missing: dict[int, str] = {}
        answers = self._answered(self.shards.run(method, (article_id, *args), report_down=True), missing)
        for answer in answers.values():
            if answer is not None:
                return answer
        if missing:
            raise ClusterUnavailable(
                f"no article with id {article_id!r} on the shards that answered; shards "
                f"{', '.join(map(str, sorted(missing)))} are unavailable"
            )
        raise NotFound(f"no article with id {article_id!r}")

    def article(self, article_id: str, q: str | None = None) -> dict:
        return self._find("article", article_id, q)

    def source_page(self, article_id: str) -> dict:
        return self._find("source_page", article_id)

    def source_file(self, article_id: str) -> str:
        return self._find("source_file", article_id)

    def related(self, article_id: str, limit: int = 5) -> list[dict]:
        """Articles most like this one, as one index would rank them: key terms weighed against the whole
        index's frequencies, scored with its statistics."""
        text = self._find("related_text", article_id)
        missing: dict[int, str] = {}
        collection = list(self._answered(self.shards.run("collection", ("body",), report_down=True), missing).values())
        view = _CollectionView(
            self.schema, sum(n for n, _ in collection), {"body": sum(length for _, length in collection)}
        )

        def frequencies(words: list[str]) -> dict[str, int]:
            counts = dict.fromkeys(words, 0)
            for found in self._answered(
                self.shards.run("frequencies", ("body", words), shards=self._live(missing), report_down=True), missing
            ).values():
                for word, count in found.items():
                    counts[word] += count
            return counts

        query = related_query(view, text, frequencies)
        token = next(self._tokens)
        parts = self._match(
            RELATED_REQUEST, limit, query, token, missing, custom=query, exclude_id=article_id, facets=False
        )
        picks = merged_order(list(parts.values()))[:limit]
        return self._fetch(parts, picks, {}, token, missing)

    def iter_matches(self, req: SearchRequest, limit: int):
        """Full articles matching a request, in its sort order, at most `limit` (exports)."""
        missing: dict[int, str] = {}
        unfolded = SearchRequest(
            q=req.q, regions=req.regions, date_from=req.date_from, date_to=req.date_to, sort=req.sort, collapse=False
        )
        parts = self._match(unfolded, limit, req.parsed.to_whoosh(), next(self._tokens), missing, facets=False)
        if missing:
            raise ClusterUnavailable(
                f"shards {', '.join(map(str, sorted(missing)))} are unavailable: an export would be incomplete"
            )
        order = merged_order(list(parts.values()))[:limit]
        for start in range(0, len(order), EXPORT_BATCH):
            yield from self._documents("articles", parts, order[start : start + EXPORT_BATCH])

    def _documents(self, method: str, parts: dict[int, Part], order: list[tuple[int, int]]) -> list:
        """`method` ("ids", "articles") of the candidates `order` names, asked of each shard once, in that order."""
        numbers = list(parts)
        wanted: dict[int, list[int]] = {}
        for p, at in order:
            wanted.setdefault(numbers[p], []).append(int(parts[numbers[p]].docs[at]))
        fetched = self.shards.run(
            method, {s: (parts[s].generation, docs) for s, docs in wanted.items()}, shards=sorted(wanted)
        )
        position = {shard: iter(found) for shard, found in fetched.items()}
        return [next(position[numbers[p]]) for p, _ in order]

    # --- the index ----------------------------------------------------------------------------------------------
    def stats(self) -> dict:
        missing: dict[int, str] = {}
        answers = self._answered(self.shards.run("stats", report_down=True), missing)
        shards = [answers[k] for k in sorted(answers)]
        dated_min = [s["date_min"] for s in shards if s["date_min"]]
        dated_max = [s["date_max"] for s in shards if s["date_max"]]
        sources: dict[str, int] = {}
        for s in shards:
            for name, count in s["sources"].items():
                sources[name] = sources.get(name, 0) + count
        root_bytes = sum(p.stat().st_size for p in self.index_dir.iterdir() if p.is_file())
        return self._marked(
            {
                "articles": sum(s["articles"] for s in shards),
                "dated": sum(s["dated"] for s in shards),
                "date_min": min(dated_min, default=None),
                "date_max": max(dated_max, default=None),
                "regions": len(set().union(*(s["region_terms"] for s in shards))),
                "sources": dict(sorted(sources.items(), key=lambda kv: -kv[1])),
                "segments": sum(s["segments"] for s in shards),
                "index_bytes": root_bytes + sum(s["index_bytes"] for s in shards),
                "index_dir": str(self.index_dir),
                "shards": [
                    {
                        "shard": k,
                        "articles": answers[k]["articles"],
                        "segments": answers[k]["segments"],
                        "index_bytes": answers[k]["index_bytes"],
                    }
                    for k in sorted(answers)
                ],
            },
            missing,
        )

    def status(self) -> list[dict]:
        """Every replica of every shard: its documents, memory and process, or why it does not answer."""
        return self.shards.status() if hasattr(self.shards, "status") else []

    def warm_up(self) -> None:
        """Shards warm themselves when they start."""

    def close(self) -> None:
        self.shards.close()


class ShardedVocabulary:
    """What did-you-mean asks of an index, added up over the shards that answer."""

    def __init__(self, engine: ShardedEngine, missing: dict):
        self.engine, self.missing = engine, missing

    def _run(self, method: str, *args) -> list:
        engine = self.engine
        return list(
            engine._answered(
                engine.shards.run(method, args, shards=engine._live(self.missing), report_down=True), self.missing
            ).values()
        )

    def matches(self, word) -> bool:
        return any(self._run("word_matches", word))

    def frequencies(self, word: str) -> dict[str, int]:
        # a shard reports the candidates in its own lexicon with their document frequencies; a word missing from a
        # shard's lexicon has no documents there, so the sums are the whole index's
        frequencies: dict[str, int] = {}
        for found in self._run("candidate_frequencies", word):
            for term, df in found:
                frequencies[term] = frequencies.get(term, 0) + df
        return frequencies

    def occurrences(self, term: str) -> float:
        return sum(self._run("occurrences", term))


class _CollectionView:
    """The little of an index reader that Whoosh's Expander reads (the schema, document count, field length),
    with a sharded index's totals."""

    def __init__(self, schema, doc_count: int, field_lengths: dict[str, int]):
        self.schema = schema
        self._doc_count = doc_count
        self._field_lengths = field_lengths

    def doc_count_all(self) -> int:
        return self._doc_count

    def field_length(self, fieldname: str) -> int:
        return self._field_lengths.get(fieldname, 0)
