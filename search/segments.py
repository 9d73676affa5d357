"""Building Whoosh segments in bulk.

Whoosh's writer handles every posting several times in Python (a tuple into a pool, a sort, a per-posting loop with
order checks and length look-ups); with two analyses of every text that is most of the indexing time. Here a batch of
documents is analysed once per text. For the positional text fields every (term, document, position) of a chunk of
documents goes into numpy arrays, which are sorted and encoded at once as compact posting lists (search/codec.py);
the few postings of the other fields are gathered per term and written through Whoosh's own codec writers. The files
are Whoosh segments, read by the ordinary searcher, holding exactly what `IndexWriter.add_document` would have
stored — every posting, term statistic and field length (tests/test_segments.py checks).

Segments are built in worker processes and committed by the parent, which holds the index lock.
"""
from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from whoosh.system import pack_ushort
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from search.analysis import NgramTokenizer, WordTokenizer, code_points, normalize_text, segment, word_pieces
from search.codec import CompactCodec, compact_lists, is_compact, posting_weights


class _Postings:
    """One term's postings in a segment under construction."""

    __slots__ = ("docs", "weights", "values")

    def __init__(self):
        self.docs = array("I")
        self.weights = array("f")
        self.values: list[bytes] = []


def build_segment(storage, indexname: str, schema, docs: Sequence[dict]):
    """Write `docs` (dicts as for `IndexWriter.add_document`) as one new segment in `storage`; return the segment,
    ready to be listed in a table of contents."""
    codec = CompactCodec()
    segment = codec.new_segment(storage, indexname)
    perdoc = codec.per_document_writer(storage, segment)
    postings: dict[str, dict[bytes, _Postings]] = {}
    occurrences: dict[str, _FieldLists] = {}
    lengths: dict[str, array] = {}
    for docnum, fields in enumerate(docs):
        if docnum and docnum % CHUNK_DOCS == 0:
            for found in occurrences.values():
                found.flush()
        perdoc.start_doc(docnum)
        cache: dict = {}
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed and _compact_text(field, value):
                found = occurrences.get(fieldname)
                if found is None:
                    found = occurrences[fieldname] = _FieldLists(field, isinstance(field.analyzer, NgramTokenizer))
                length = found.add(docnum, _normalized(value, cache))
            elif field.indexed:
                table = postings.setdefault(fieldname, {})
                for tbytes, freq, weight, vbytes in field.index(value):
                    if field.scorable:
                        length += freq
                    entry = table.get(tbytes)
                    if entry is None:
                        entry = table[tbytes] = _Postings()
                    entry.docs.append(docnum)
                    entry.weights.append(weight)
                    if vbytes:
                        entry.values.append(vbytes)
            if length and field.scorable:
                field_lengths = lengths.get(fieldname)
                if field_lengths is None:
                    field_lengths = lengths[fieldname] = array("I", bytes(4 * len(docs)))
                # what a reader will see: lengths are stored as one lossy byte
                field_lengths[docnum] = byte_to_length(length_to_byte(length))
            perdoc.add_field(fieldname, field, value if field.stored else None, length if field.scorable else 0)
            column = field.column_type
            if column is not None:
                perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        perdoc.finish_doc()
    perdoc.close()

    writer = codec.field_writer(storage, segment)
    for fieldname in sorted(set(postings) | set(occurrences)):
        writer.start_field(fieldname, schema[fieldname])
        field_lengths = lengths.get(fieldname)
        if fieldname in occurrences:
            occurrences.pop(fieldname).write(writer, field_lengths)
        else:
            table = postings[fieldname]
            for tbytes in sorted(table):
                writer.start_term(tbytes)
                _write_term(writer._postwriter, table[tbytes], field_lengths)
                writer.finish_term()
        writer.finish_field()
    writer.close()
    segment.set_doc_count(len(docs))
    if segment.should_assemble():
        segment.create_compound_file(storage)
        segment.compound = True
    return segment


def _compact_text(field, value) -> bool:
    return isinstance(value, str) and is_compact(field.format) and isinstance(field.analyzer, (WordTokenizer,
                                                                                                NgramTokenizer))


def _normalized(value: str, cache: dict) -> str:
    text = cache.get(value)
    if text is None:
        text = cache[value] = normalize_text(value)
    return text


_UNSEEN = object()
CHUNK_DOCS = 1000  # documents sorted at a time: bounds the per-occurrence arrays (tens of bytes per character)


class _FieldLists:
    """One compact text field of a segment under construction. Occurrences — (term, document, position) — are
    gathered as arrays for a chunk of documents, then sorted into postings kept as small arrays (about 13 bytes an
    occurrence); at the end the chunks are merged and every term's list encoded at once (search/codec.py)."""

    def __init__(self, field, bigrams: bool):
        self.field = field
        self.bigrams = bigrams
        self.vocabulary: dict[str, int] = {}
        self.word_ids: dict[str, tuple[int, ...] | None] = {}  # segmented word → the term ids it puts at its position
        self.terms: list[np.ndarray] = []
        self.docs: list[np.ndarray] = []
        self.positions: list[np.ndarray] = []
        self.chunks: list[_Chunk] = []

    def add(self, docnum: int, text: str) -> int:
        """Add one normalized text; return its length in tokens."""
        if self.bigrams:
            terms, positions = _bigram_keys(text)
        else:
            terms, positions = self._word_terms(text)
        if terms.size:
            self.terms.append(terms)
            self.positions.append(positions)
            self.docs.append(np.full(terms.size, docnum, dtype=np.int32))
        return int(terms.size)

    def _word_terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and positions of a text's words (`word_spans` without offsets), each distinct word's pieces
        looked up once per segment."""
        ids_of, vocabulary = self.word_ids, self.vocabulary
        ids: list[int] = []
        counts: list[int] = []
        for word in segment(text):
            found = ids_of.get(word, _UNSEEN)
            if found is _UNSEEN:
                pieces = word_pieces(word)
                found = ids_of[word] = None if pieces is None else \
                    tuple(vocabulary.setdefault(p, len(vocabulary)) for p in pieces)
            if found is not None:  # whitespace takes no position; punctuation one, with no term
                ids.extend(found)
                counts.append(len(found))
        positions = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        return np.array(ids, dtype=np.int64), positions

    def flush(self) -> None:
        """Sort the gathered occurrences into postings (term, document), keeping them as compact arrays."""
        if not self.terms:
            return
        keys, docs, positions = (np.concatenate(a) for a in (self.terms, self.docs, self.positions))
        self.terms, self.docs, self.positions = [], [], []
        unique, ranks = np.unique(keys, return_inverse=True)
        order = np.lexsort((positions, docs, ranks))
        ranks, docs, positions = ranks[order], docs[order], positions[order]
        del keys, order
        new_posting = np.ones(ranks.size, dtype=bool)
        new_posting[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(new_posting)
        counts = np.diff(np.append(starts, ranks.size)).astype(np.int32)
        self.chunks.append(_Chunk(unique, ranks[starts].astype(np.int32), docs[starts], counts,
                                  positions.astype(np.int32)))

    def write(self, writer, field_lengths: array | None) -> None:
        """Every term's list, in term order, with its W3 term info."""
        self.flush()
        if not self.chunks:
            return
        chunks, self.chunks = self.chunks, []
        if self.bigrams:
            keys = np.unique(np.concatenate([c.keys for c in chunks]))
            texts = [_bigram_text(k) for k in keys.tolist()]
            ranks = [np.searchsorted(keys, c.keys) for c in chunks]
        else:
            texts = sorted(self.vocabulary)  # code point order: the order of their UTF-8 bytes
            rank_of = np.empty(len(texts), dtype=np.int64)
            rank_of[[self.vocabulary[t] for t in texts]] = np.arange(len(texts))
            ranks = [rank_of[c.keys] for c in chunks]
        # chunks hold ascending documents, each sorted by (term, document): a stable sort by term orders them all
        term_of = np.concatenate([r[c.term] for r, c in zip(ranks, chunks)])
        order = np.argsort(term_of, kind="stable")
        term_of = term_of[order]
        docs = np.concatenate([c.docs for c in chunks])[order]
        counts = np.concatenate([c.counts for c in chunks])
        positions = np.concatenate([c.positions for c in chunks])
        del chunks
        occ_start = (np.cumsum(counts) - counts)[order]
        counts = counts[order]
        del order
        within = np.arange(positions.size) - np.repeat(np.cumsum(counts) - counts, counts)
        positions = positions[np.repeat(occ_start, counts) + within]
        del within, occ_start
        blob, ranges, first, df = compact_lists(term_of, docs, counts, positions)
        del positions

        weights = posting_weights(counts, self.field.format)
        if field_lengths is not None:
            doc_lengths = np.frombuffer(field_lengths, dtype=np.uint32)[docs]
            min_length = np.minimum.reduceat(doc_lengths, first)
            max_length = np.maximum.reduceat(doc_lengths, first)
        else:
            min_length = max_length = np.zeros(first.size, dtype=np.int64)
        base = writer._postfile.tell()
        writer._postfile.write(blob.tobytes())
        prefix = pack_ushort(writer._fieldid)
        infos = map(_TERM_INFO.pack, repeat(0), np.add.reduceat(weights, first).tolist(), df.tolist(),
                    _length_bytes(min_length).tolist(), _length_bytes(max_length).tolist(),
                    np.maximum.reduceat(weights, first).tolist(), docs[first].tolist(),
                    docs[first + df - 1].tolist(), (base + ranges[:-1]).tolist(), (-np.diff(ranges)).tolist())
        writer._tindex.add_many([prefix + texts[r].encode("utf-8") for r in term_of[first].tolist()], list(infos))


@dataclass
class _Chunk:
    """One chunk's postings, sorted by (term, document): the chunk's distinct term keys, and per posting its term
    (an index into them), document and count; every occurrence's position, in posting order."""

    keys: np.ndarray
    term: np.ndarray
    docs: np.ndarray
    counts: np.ndarray
    positions: np.ndarray


_SECOND = (1 << 22) - 1  # a bigram key: first code point << 22 | (second code point + 1), or 0 for a lone character


def _bigram_keys(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The bigram field's tokens of normalized `text` (what `NgramTokenizer` emits) as keys, with positions."""
    points = code_points(text).astype(np.int64)
    at = np.flatnonzero(points != 0x20)
    following = np.append(points[1:], 0x20)[at]
    keys = (points[at] << 22) | np.where(following != 0x20, following + 1, 0)
    return keys, at.astype(np.int32)


def _bigram_text(key: int) -> str:
    second = key & _SECOND
    return chr(key >> 22) + (chr(second - 1) if second else "")


# W3TermInfo.to_bytes() of a term whose postings are not inlined: flags, weight, df, min/max length bytes,
# max weight, first/last id, then the extent (offset, length; the length negative for a compact list)
_TERM_INFO = struct.Struct("!BfIBBfIIqi")
_LENGTH_BYTES = np.asarray(_length_byte_cache)


def _length_bytes(lengths: np.ndarray) -> np.ndarray:
    """length_to_byte() of many lengths."""
    return np.where(lengths >= 106374, 255, np.searchsorted(_LENGTH_BYTES, lengths, side="left"))


def _write_term(postwriter, entry: _Postings, field_lengths: array | None) -> None:
    """Fill the codec's block buffer a block at a time (the per-posting `add_posting` does the same one by one)."""
    limit = postwriter._blocklimit
    n = len(entry.docs)
    has_values = bool(entry.values)
    for start in range(0, n, limit):
        end = min(n, start + limit)
        if start:
            postwriter._write_block()
        ids = entry.docs[start:end]
        weights = entry.weights[start:end]
        postwriter._ids = ids
        postwriter._weights = weights
        postwriter._values = entry.values[start:end] if has_values else []
        postwriter._maxweight = max(weights)
        if field_lengths is not None:
            block_lengths = [field_lengths[d] for d in ids if field_lengths[d]]
            if block_lengths:
                postwriter._minlength = min(block_lengths)
                postwriter._maxlength = max(block_lengths)


def worker_count() -> int:
    """Processes for building segments: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)

