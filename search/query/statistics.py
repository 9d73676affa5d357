"""The collection statistics BM25F scores with, taken from one index or summed over the shards of a sharded one.

A term's score depends on three numbers besides the document's own: how many documents hold the term, how many
documents there are, and the average length of the field. Each shard of a sharded index knows only its own, and a
rare word in one shard is a common word in another: scored with their own statistics, shards rank alike documents
differently. As Elasticsearch's dfs_query_then_fetch does, the coordinator first asks every shard for the numbers of
the query's terms (`local_statistics`), sums them (`TermStatistics.combine`), and every shard then scores with the
sums — the scores, and so the ranking, of one index holding all the documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import log

from whoosh import query as wq
from whoosh.scoring import BM25F, BM25FScorer


@dataclass
class TermStatistics:
    doc_count_all: int  # documents, deleted ones included until a merge (as Whoosh counts them)
    field_lengths: dict[str, int] = field(default_factory=dict)  # field → total length of the field
    doc_frequencies: dict[tuple[str, bytes], int] = field(default_factory=dict)  # (field, term) → documents
    generation: object = None  # the snapshot a shard counted them on

    def idf(self, fieldname: str, btext: bytes) -> float:
        """whoosh.scoring.WeightingModel.idf, from these numbers."""
        return log(self.doc_count_all / (self.doc_frequencies.get((fieldname, btext), 0) + 1)) + 1

    def avg_field_length(self, fieldname: str) -> float:
        """whoosh.searching.Searcher.avg_field_length, from these numbers."""
        return self.field_lengths.get(fieldname, 0) / (self.doc_count_all or 1)

    @staticmethod
    def combine(parts: list[TermStatistics]) -> TermStatistics:
        total = TermStatistics(sum(p.doc_count_all for p in parts))
        for part in parts:
            for name, length in part.field_lengths.items():
                total.field_lengths[name] = total.field_lengths.get(name, 0) + length
            for key, df in part.doc_frequencies.items():
                total.doc_frequencies[key] = total.doc_frequencies.get(key, 0) + df
        return total


def scored_terms(query, schema) -> list[tuple[str, bytes]]:
    """The (field, term) pairs of a query that BM25F will score: the terms and phrase words of scorable fields."""
    found: dict[tuple[str, bytes], None] = {}

    def add(fieldname: str, text) -> None:
        if fieldname in schema and schema[fieldname].scorable:
            try:
                found[(fieldname, schema[fieldname].to_bytes(text))] = None
            except ValueError:
                pass  # a term the field cannot hold matches nothing

    def walk(node) -> None:
        if isinstance(node, wq.Phrase):
            for word in node.words:
                add(node.fieldname, word)
        elif isinstance(node, wq.Term):
            add(node.fieldname, node.text)
        else:
            for child in node.children():
                walk(child)

    walk(query)
    return list(found)


def local_statistics(reader, terms: list[tuple[str, bytes]]) -> TermStatistics:
    """One index's numbers for `terms`."""
    stats = TermStatistics(reader.doc_count_all(), generation=reader.generation())
    for fieldname in {name for name, _ in terms}:
        stats.field_lengths[fieldname] = reader.field_length(fieldname)
    for fieldname, btext in terms:
        stats.doc_frequencies[(fieldname, btext)] = reader.doc_frequency(fieldname, btext)
    return stats


class GlobalBM25F(BM25F):
    """BM25F whose idf and average field length come from `TermStatistics`: for the queries Whoosh's own matchers
    score (those search/query/evaluate.py does not), in a shard of a sharded index."""

    def __init__(self, statistics: TermStatistics, **kwargs):
        super().__init__(**kwargs)
        self.statistics = statistics

    def scorer(self, searcher, fieldname: str, text, qf: int = 1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, BM25FScorer):
            scorer.idf = self.statistics.idf(fieldname, text)
            scorer.avgfl = self.statistics.avg_field_length(fieldname) or 1
        return scorer


class StatisticsCache:
    """A sharded index's summed statistics of recent terms, valid while no shard has a new snapshot: a query whose
    terms were all counted on the shards' current snapshots needs no statistics round. The coordinator learns of a
    new snapshot from the shards' answers and then asks again (`valid_for`)."""

    def __init__(self, max_terms: int = 200_000):
        self.max_terms = max_terms
        self._generations: tuple | None = None
        self._stats: TermStatistics | None = None

    def get(self, generations: tuple, terms: list[tuple[str, bytes]]) -> TermStatistics | None:
        stats = self._stats
        if stats is None or generations != self._generations or None in generations:
            return None
        try:
            return TermStatistics(
                stats.doc_count_all,
                {name: stats.field_lengths[name] for name, _ in terms},
                {t: stats.doc_frequencies[t] for t in terms},
                generation=generations,
            )
        except KeyError:  # a term not counted yet
            return None

    def put(self, generations: tuple, stats: TermStatistics) -> None:
        if None in generations:
            return
        if generations != self._generations or self._stats is None or len(self._stats.doc_frequencies) > self.max_terms:
            self._generations, self._stats = generations, TermStatistics(stats.doc_count_all)
        kept = self._stats
        kept.field_lengths.update(stats.field_lengths)
        kept.doc_frequencies.update(stats.doc_frequencies)
