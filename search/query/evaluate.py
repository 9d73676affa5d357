"""Evaluating a query over whole posting arrays instead of Whoosh's document-at-a-time matchers.

Whoosh scores a query by walking matcher trees one document at a time in Python; on a 100k-article index a common
word matches thousands of documents and that walk is most of a search. Here each term's postings are read once into
numpy arrays (kept in a bounded cache: segments never change), and the query tree is evaluated set-at-a-time:
unions, intersections, exclusions and phrase checks on sorted arrays, BM25F in vector arithmetic.

The answers are Whoosh's own: the same matching documents and the same scores (same formula, same statistics, same
field-length bytes) for the node types newsearch's parser builds — Term, Or, And, Not, AndMaybe, Phrase (ordered,
`slop`), Every, date TermRange, and CharPrefix. Anything else raises `Unsupported` and the caller falls back to
Whoosh; tests/test_evaluate.py compares both on the seeds and a generated corpus.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.util.numeric import byte_to_length

from search.index.codec.formats import CompactPositions
from search.index.codec.postings import (
    CompactTermsReader,
    PackedPositions,
    posting_weights,
    read_compact_docs,
    running_positions,
)
from search.index.codec.varints import decode_varints
from search.index.columns import segment_identity

K1, B = 1.2, 0.75  # whoosh.scoring.BM25F's defaults, which the engine uses
_LENGTHS = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)
_POS_BITS = 32  # (docnum, position) pairs are packed into one int64 key for phrase checks


class Unsupported(Exception):
    """A query node this module does not evaluate; use Whoosh's matchers."""


@dataclass
class Hits:
    """Matching documents (global docnums, ascending, unique) and their scores."""

    docs: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty() -> Hits:
        return Hits(np.empty(0, np.int64), np.empty(0, np.float64))

    def scaled(self, boost: float) -> Hits:
        return self if boost == 1.0 else Hits(self.docs, self.scores * boost)


@dataclass
class _Postings:
    """One term's postings in one segment: local docnums, weights, and (read on demand) encoded values."""

    docs: np.ndarray
    weights: np.ndarray
    values: list | PackedPositions | None  # a W3 list's encoded values, or a compact list's packed positions
    positions: tuple[np.ndarray, np.ndarray] | None = None  # (docnum of each position, position)
    counts: np.ndarray | None = None  # a compact list's occurrences per posting

    def nbytes(self) -> int:
        if isinstance(self.values, PackedPositions):
            assert self.counts is not None  # packed positions always come with their counts
            extra = len(self.values.data) + self.counts.nbytes
        else:
            extra = sum(len(v) for v in self.values if v) if self.values else 0
        if self.positions is not None:
            extra += self.positions[0].nbytes + self.positions[1].nbytes
        return self.docs.nbytes + self.weights.nbytes + extra + 200


_ABSENT = _Postings(np.empty(0, np.int32), np.empty(0), None, positions=(np.empty(0, np.int32), np.empty(0, np.int32)))


class PostingCache:
    """Posting arrays by (segment, field, term), least recently used dropped past `max_bytes`; shared by threads."""

    def __init__(self, max_bytes: int = 256 << 20):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, _Postings] = OrderedDict()
        self._sizes: dict[tuple, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, load):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        entry = load()
        self.put(key, entry)
        return entry

    def put(self, key: tuple, entry) -> None:
        size = entry.nbytes() if callable(entry.nbytes) else int(entry.nbytes)
        with self._lock:
            self._bytes += size - self._sizes.get(key, 0)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            self._sizes[key] = size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                old, _ = self._entries.popitem(last=False)
                self._bytes -= self._sizes.pop(old)


class Evaluator:
    """Evaluates queries against one searcher's snapshot."""

    def __init__(self, searcher, cache: PostingCache, check=None, statistics=None):
        self.searcher = searcher
        # idf and average field lengths: the searcher's own, or those of a whole sharded index (search/query/statistics.py)
        self.statistics = statistics
        self.schema = searcher.schema
        self.cache = cache
        self.check = check or (lambda: None)  # called between nodes (the engine's time budget)
        reader = searcher.reader()
        self.leaves = [(leaf, offset, segment_identity(leaf)) for leaf, offset in reader.leaf_readers()]
        self.doc_count_all = reader.doc_count_all()

    def run(self, query) -> Hits:
        self.check()
        if query is wq.NullQuery:
            return Hits.empty()
        method = getattr(self, "_" + type(query).__name__, None)
        if method is None:
            raise Unsupported(type(query).__name__)
        return method(query)

    # --- compound nodes --------------------------------------------------------------------------------------
    def _Or(self, q: wq.Or) -> Hits:
        minmatch = getattr(q, "minmatch", 0)
        if any(isinstance(s, wq.Not) for s in q.subqueries) or minmatch or q.scale:
            raise Unsupported("Or with Not, minmatch or scale")
        return _union([self.run(s) for s in q.subqueries], self.doc_count_all).scaled(
            q.boost if len(q.subqueries) > 1 else 1.0
        )

    def _And(self, q: wq.And) -> Hits:
        subs = q.subqueries
        if not subs:
            return Hits.empty()
        if len(subs) == 1:
            return self.run(subs[0])
        parts: list[Hits | None] = []
        excluded: list[np.ndarray] = []
        for s in subs:
            if isinstance(s, wq.Not):
                excluded.append(self.run(s.query).docs)
                parts.append(None)  # an InverseMatcher in the intersection: it scores 1.0 where it matches
            else:
                parts.append(self.run(s))
        found = [p for p in parts if p is not None]
        if not found:
            raise Unsupported("And of Not only")
        hits = _intersection(found)
        if excluded:
            keep = ~np.isin(hits.docs, np.concatenate(excluded))
            hits = Hits(hits.docs[keep], hits.scores[keep] + float(len(excluded)))
        return hits.scaled(q.boost)

    def _AndMaybe(self, q: wq.AndMaybe) -> Hits:
        required, optional = self.run(q.a), self.run(q.b)
        scores = required.scores.copy()
        where, found = _lookup(optional.docs, required.docs)
        scores[found] += optional.scores[where[found]]
        return Hits(required.docs, scores).scaled(q.boost)

    def _Every(self, q: wq.Every) -> Hits:
        if q.fieldname not in (None, "", "*"):
            raise Unsupported("Every over a field")
        docs = np.fromiter(self.searcher.reader().all_doc_ids(), dtype=np.int64)
        return Hits(docs, np.full(docs.size, q.boost, dtype=np.float64))

    # --- term nodes ------------------------------------------------------------------------------------------
    def _Term(self, q: wq.Term, weighted: bool = True) -> Hits:
        field = self.schema[q.fieldname] if q.fieldname in self.schema else None
        if field is None:
            return Hits.empty()
        try:
            btext = field.to_bytes(q.text)
        except ValueError:
            return Hits.empty()
        return self._scored(q.fieldname, btext, weighted).scaled(q.boost)

    def _TermRange(self, q: wq.TermRange) -> Hits:
        terms = [t for t in q._btexts(self.searcher.reader()) if t]
        if len(terms) == 1:  # Whoosh uses the single term as an ordinary scored Term
            return self._scored(q.fieldname, terms[0], True).scaled(q.boost)
        # several: an Or of the terms, unscored when constantscore (each contributes its posting weight)
        return _union(
            [self._scored(q.fieldname, t, not q.constantscore).scaled(q.boost) for t in terms], self.doc_count_all
        )

    def _CharPrefix(self, q) -> Hits:
        field = self.schema[q.fieldname] if q.fieldname in self.schema else None
        if field is None:
            return Hits.empty()
        prefix = field.to_bytes(q.text)
        docs = []
        for leaf, offset, segkey in self.leaves:
            # one cached array per segment and prefix, not hundreds of cached bigram lists
            local = self.cache.get(
                (segkey, q.fieldname, ("prefix", prefix)),
                lambda leaf=leaf: _prefix_documents(leaf, q.fieldname, prefix),
            )
            if local.size:
                docs.append(local.astype(np.int64) + offset)
        if not docs:
            return Hits.empty()
        found = np.concatenate(docs)  # segments hold consecutive docnums: already ascending and unique
        return Hits(found, np.full(found.size, q.boost, dtype=np.float64))

    def _Phrase(self, q: wq.Phrase) -> Hits:
        name = q.fieldname
        field = self.schema[name] if name in self.schema else None
        if field is None:
            return Hits.empty()
        if not field.format or not field.format.supports("positions"):
            raise Unsupported("phrase over a field without positions")
        words = []
        for word in q.words:
            try:
                words.append(field.to_bytes(word))
            except ValueError:
                return Hits.empty()
        terms = [self._scored(name, w, True) for w in words]
        if any(t.docs.size == 0 for t in terms):
            return Hits.empty()
        candidates = _intersection(terms)  # the phrase's score: its terms' scores summed (an IntersectionMatcher)
        if candidates.docs.size == 0:
            return candidates
        keep = self._phrase_docs(name, words, candidates.docs, q.slop)
        found = _lookup(keep, candidates.docs)[1]
        return Hits(candidates.docs[found], candidates.scores[found]).scaled(q.boost)

    def _phrase_docs(self, fieldname: str, words: list[bytes], candidates: np.ndarray, slop: int) -> np.ndarray:
        """Candidates where the words occur in order, each within `slop` positions after the previous one
        (Whoosh's SpanNear2 with ordered=True, mindist=1)."""
        wanted = np.zeros(self.doc_count_all, dtype=bool)
        wanted[candidates] = True
        ends: np.ndarray | None = None
        for word in words:
            docs, positions = self._positions(fieldname, word, wanted)
            keys = (docs << _POS_BITS) | positions
            if keys.size > 1 and not (keys[1:] > keys[:-1]).all():  # postings come sorted; W3 lists could repeat
                keys = np.unique(keys)
            if ends is not None:
                ok = np.zeros(keys.size, dtype=bool)
                for gap in range(1, max(slop, 1) + 1):
                    ok |= _lookup(ends, keys - gap)[1]
                keys = keys[ok]
            ends = keys
            if ends.size == 0:
                break
        assert ends is not None  # words is never empty: _Phrase intersects its terms first
        docs = ends >> _POS_BITS
        return docs[np.concatenate(([True], docs[1:] != docs[:-1]))] if docs.size else docs

    # --- postings ----------------------------------------------------------------------------------------------
    def _scored(self, fieldname: str, btext: bytes, weighted: bool) -> Hits:
        """The term's documents and their scores: BM25F (scorable fields), else the posting weight."""
        bm25 = weighted and self.schema[fieldname].scorable
        docs, weights, lengths = self._all_postings(fieldname, btext, with_lengths=bm25)
        if docs.size == 0:
            return Hits.empty()
        if bm25:
            if self.statistics is not None:
                idf = self.statistics.idf(fieldname, btext)
                avgfl = self.statistics.avg_field_length(fieldname) or 1
            else:
                parent = self.searcher.get_parent()
                idf = parent.idf(fieldname, btext)
                avgfl = parent.avg_field_length(fieldname) or 1
            scores = idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avgfl)))
        else:
            scores = weights.copy()
        return Hits(docs, scores)

    def _all_postings(self, fieldname: str, btext: bytes, with_lengths: bool = False):
        docs, weights, lengths = [], [], []
        for leaf, offset, segkey in self.leaves:
            p = self._segment_postings(leaf, segkey, fieldname, btext)
            if p.docs.size == 0:
                continue
            docs.append(p.docs.astype(np.int64) + offset)
            weights.append(p.weights)
            if with_lengths:
                lengths.append(self._lengths(leaf, segkey, fieldname)[p.docs])
        if not docs:
            empty = np.empty(0, np.int64)
            return empty, np.empty(0), np.empty(0)
        if len(docs) == 1:
            return docs[0], weights[0], lengths[0] if lengths else None
        return np.concatenate(docs), np.concatenate(weights), np.concatenate(lengths) if lengths else None

    def _segment_postings(self, leaf, segkey, fieldname: str, btext: bytes) -> _Postings:
        """The term's postings in one segment (none when the segment lacks the term: cached too, so a cached
        query asks no term dictionary)."""
        return self.cache.get(
            (segkey, fieldname, btext),
            lambda: _read_postings(leaf, fieldname, btext) if (fieldname, btext) in leaf else _ABSENT,
        )

    def _positions(self, fieldname: str, btext: bytes, wanted: np.ndarray):
        """(global docnum, position) of every occurrence of the term in the documents `wanted` (a mask over all
        documents), ascending."""
        fmt = self.schema[fieldname].format
        docs_out, pos_out = [], []
        for leaf, offset, segkey in self.leaves:
            p = self._segment_postings(leaf, segkey, fieldname, btext)
            if p.docs.size == 0:
                continue
            if p.positions is None:
                if isinstance(p.values, PackedPositions):
                    assert p.counts is not None  # packed positions always come with their counts
                    p.positions = (np.repeat(p.docs, p.counts), p.values.decode().astype(np.int32))
                    p.values = p.counts = None
                else:
                    assert p.values is not None  # only _ABSENT has no values, and it has positions
                    p.positions = _decode_positions(p.docs, p.values, fmt)
                self.cache.put((segkey, fieldname, btext), p)  # re-weigh it with its positions
            docs, positions = p.positions
            docs = docs.astype(np.int64) + offset
            keep = wanted[docs]
            docs_out.append(docs[keep])
            pos_out.append(positions[keep])
        if not docs_out:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(docs_out), np.concatenate(pos_out)

    def _lengths(self, leaf, segkey, fieldname: str) -> np.ndarray:
        return self.cache.get((segkey, fieldname, b"\0lengths"), lambda: _read_lengths(leaf, fieldname))


# --- array helpers ----------------------------------------------------------------------------------------------
def _lookup(sorted_keys: np.ndarray, wanted: np.ndarray):
    """For each of `wanted`: its index in `sorted_keys` (where found) and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
    where = np.searchsorted(sorted_keys, wanted)
    where = np.minimum(where, sorted_keys.size - 1)
    return where, sorted_keys[where] == wanted


def _dense(size: int, doc_count: int) -> bool:
    # Past this share of the index a pass over an array of every document beats sorting the matches.
    return size * 8 >= doc_count


def _distinct(docs: np.ndarray, doc_count: int) -> np.ndarray:
    """np.unique of docnums."""
    if not _dense(docs.size, doc_count):
        return np.unique(docs)
    present = np.zeros(doc_count, dtype=bool)
    present[docs] = True
    return np.flatnonzero(present)


def _union(parts: list[Hits], doc_count: int) -> Hits:
    parts = [p for p in parts if p.docs.size]
    if not parts:
        return Hits.empty()
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([p.docs for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    if _dense(docs.size, doc_count):  # the same sums, added in the same order, as through np.unique's inverse
        unique = _distinct(docs, doc_count)
        return Hits(unique, np.bincount(docs, weights=scores, minlength=doc_count)[unique])
    unique, inverse = np.unique(docs, return_inverse=True)
    return Hits(unique, np.bincount(inverse, weights=scores, minlength=unique.size))


def _intersection(parts: list[Hits]) -> Hits:
    docs = parts[0].docs
    for p in parts[1:]:
        docs = docs[_lookup(p.docs, docs)[1]]
        if docs.size == 0:
            return Hits.empty()
    scores = np.zeros(docs.size, dtype=np.float64)
    for p in parts:
        scores += p.scores[_lookup(p.docs, docs)[0]]
    return Hits(docs, scores)


def _read_postings(leaf, fieldname: str, btext: bytes) -> _Postings:
    """All postings of a term in one segment reader (deleted documents included): a compact list decoded at once,
    a W3 list block by block, anything else through the matcher interface."""
    info = leaf.term_info(fieldname, btext)
    terms = getattr(leaf, "_terms", None)
    if not info.is_inlined() and terms is not None and hasattr(terms, "_postfile"):
        offset, length = info.extent()
        length = length[0] if isinstance(length, tuple) else length
        if length < 0:
            fmt = leaf.schema[fieldname].format
            docs, counts, packed = read_compact_docs(
                terms._postfile, offset, -length, info.doc_frequency(), terms.doc_widths(fieldname)
            )
            return _Postings(docs.astype(np.int32), posting_weights(counts, fmt), packed, counts=counts)
    m = leaf.postings(fieldname, btext)
    m = getattr(m, "child", m) if not isinstance(m, W3LeafMatcher) and hasattr(m, "child") else m
    if isinstance(m, W3LeafMatcher):
        ids, weights, values = [], [], []
        while True:
            m._read_data()
            data = m._data
            block_ids = np.cumsum(np.asarray(data[0], dtype=np.int64)) if not m._byteids else np.asarray(data[0])
            ids.append(block_ids)
            w = data[1]
            n = block_ids.size
            weights.append(
                np.ones(n) if w is None else np.full(n, w) if isinstance(w, float) else np.asarray(w, dtype=np.float64)
            )
            m._read_values()
            values.extend(m._values)
            if m._lastblock:
                break
            m._next_block()
        return _Postings(np.concatenate(ids).astype(np.int32), np.concatenate(weights), values)
    ids, weights, values = [], [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        values.append(m.value())
        m.next()
    return _Postings(np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float64), values)


def _prefix_documents(leaf, fieldname: str, prefix: bytes) -> np.ndarray:
    """Local docnums (ascending, unique, deleted ones included) of every term of one segment starting with `prefix`:
    compact lists read together (search/index/codec/postings.py), others one by one."""
    terms = getattr(leaf, "_terms", None)
    if isinstance(terms, CompactTermsReader):
        docs, others = terms.prefix_documents(fieldname, prefix)
    else:
        docs, others = np.empty(0, np.int64), list(leaf.expand_prefix(fieldname, prefix))
    parts = [docs] + [_read_postings(leaf, fieldname, t).docs.astype(np.int64) for t in others]
    present = np.zeros(leaf.doc_count_all(), dtype=bool)  # cheaper than sorting: docs repeat once per bigram
    for part in parts:
        present[part] = True
    return np.flatnonzero(present).astype(np.int32)  # cached: half the bytes of int64


def _read_lengths(leaf, fieldname: str):
    """Decoded field lengths of every document of a segment (Whoosh stores one byte per document)."""
    column = leaf._perdoc.column_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    raw = np.zeros(leaf.doc_count_all(), dtype=np.uint8)
    if hasattr(column, "_dbfile") and hasattr(column, "_count"):
        data = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
    else:
        data = np.asarray([column[d] for d in range(leaf.doc_count_all())], dtype=np.uint8)
    raw[: data.size] = data[: raw.size]
    return _LENGTHS[raw]


def _decode_positions(docs: np.ndarray, values: list, fmt):
    """(docnum per position, position) for a term's postings, from their encoded values."""
    if not isinstance(fmt, CompactPositions):
        out_docs, out_pos = [], []
        for doc, value in zip(docs.tolist(), values):
            found = fmt.decode_positions(value)
            out_docs.extend([doc] * len(found))
            out_pos.extend(found)
        return np.asarray(out_docs, dtype=np.int32), np.asarray(out_pos, dtype=np.int32)
    sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    buf = np.frombuffer(b"".join(values), dtype=np.uint8)
    last = buf < 0x80  # the last byte of each varint
    varint_of_byte: np.ndarray = np.cumsum(last) - last
    numbers = decode_varints(buf)
    # each value is: count, then the gaps between positions (the first from 0)
    first: np.ndarray = varint_of_byte[np.cumsum(sizes) - sizes]
    counts = numbers[first]
    is_gap = np.ones(numbers.size, dtype=bool)
    is_gap[first] = False
    return np.repeat(docs.astype(np.int32), counts), running_positions(numbers[is_gap], counts).astype(np.int32)
