"""Building Whoosh segments in bulk.

Whoosh's writer handles every posting several times in Python (a tuple into a pool, a sort, a per-posting loop with
order checks and length look-ups); with two analyses of every text that is most of the indexing time. Here a batch of
documents is analysed once per text. For the positional text fields every (term, document, position) of a chunk of
documents goes into numpy arrays, which are sorted and encoded at once as compact posting lists (search/index/codec/postings.py);
the few postings of the other fields are gathered per term and written through Whoosh's own codec writers. The files
are Whoosh segments, read by the ordinary searcher, holding exactly what `IndexWriter.add_document` would have
stored — every posting, term statistic and field length (tests/test_segments.py checks).

Segments are built in worker processes and committed by the parent, which holds the index lock.
"""

from __future__ import annotations

import os
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_ushort
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from search.index.codec.postings import CompactCodec, bit_widths, compact_lists, is_compact, posting_weights
from search.index.codec.terminfo import pack_infos
from search.text.analysis import NgramTokenizer, WordTokenizer, code_points, normalize_text, segment, word_pieces


class _Postings:
    """One term's postings in a segment under construction."""

    __slots__ = ("docs", "weights", "values", "counts")

    def __init__(self):
        self.docs = array("I")
        self.weights = array("f")
        self.values: list[bytes] = []
        self.counts = array("I")


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
                lists = occurrences.get(fieldname)
                if lists is None:
                    lists = occurrences[fieldname] = _FieldLists(field, isinstance(field.analyzer, NgramTokenizer))
                length = lists.add(docnum, _normalized(value, cache))
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
                    entry.counts.append(freq)
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
            occurrences.pop(fieldname).write(writer, field_lengths, len(docs))
        elif _flat_compact(schema[fieldname], postings[fieldname]):
            _write_flat(writer, schema[fieldname], postings.pop(fieldname), field_lengths)
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
    return (
        isinstance(value, str)
        and is_compact(field.format)
        and isinstance(field.analyzer, (WordTokenizer, NgramTokenizer))
    )


def _normalized(value: str, cache: dict) -> str:
    text = cache.get(value)
    if text is None:
        text = cache[value] = normalize_text(value)
    return text


CHUNK_DOCS = 1000  # documents sorted at a time: bounds the per-occurrence arrays (tens of bytes per character)


class _FieldLists:
    """One compact text field of a segment under construction. Occurrences — (term, document, position) — are
    gathered as arrays for a chunk of documents, then sorted into postings kept as small arrays (about 13 bytes an
    occurrence); at the end the chunks are merged and every term's list encoded at once (search/index/codec/postings.py)."""

    def __init__(self, field, bigrams: bool):
        self.field = field
        self.bigrams = bigrams
        self.vocabulary: dict[str, int] = {}
        self.texts: list[str] = []  # the vocabulary's words by id
        self.word_ids: dict[str, tuple[int, ...] | None] = {}  # segmented word → the term ids it puts at its position
        self.terms: list[np.ndarray] = []
        self.docs: list[np.ndarray] = []
        self.positions: list[np.ndarray] = []
        self.chunks: list[_Chunk] = []
        self.last_position: dict[int, int] = {}  # per document: the field's positions take its bit width there

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
            self.last_position[docnum] = int(positions[-1])
        return int(terms.size)

    def _word_terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Term ids and positions of a text's words (`word_spans` without offsets), each distinct word's pieces
        looked up once per segment."""
        ids_of = self.word_ids
        ids: list[int] = []
        counts: list[int] = []
        for word in segment(text):
            try:
                found = ids_of[word]
            except KeyError:
                pieces = word_pieces(word)
                found = ids_of[word] = None if pieces is None else tuple(map(self._word_id, pieces))
            if found is not None:  # whitespace takes no position; punctuation one, with no term
                ids.extend(found)
                counts.append(len(found))
        positions = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        return np.array(ids, dtype=np.int64), positions

    def _word_id(self, word: str) -> int:
        found = self.vocabulary.get(word)
        if found is None:
            found = self.vocabulary[word] = len(self.texts)
            self.texts.append(word)
        return found

    def flush(self) -> None:
        """Sort the gathered occurrences into postings (term, document) — terms in the order of their bytes, as the
        segment lists them — and keep them as small arrays."""
        if not self.terms:
            return
        keys, docs, positions = (np.concatenate(a) for a in (self.terms, self.docs, self.positions))
        self.terms, self.docs, self.positions = [], [], []
        unique, ranks = np.unique(keys, return_inverse=True)
        if not self.bigrams:  # word ids are in order of appearance: put them in the order of their text
            texts = self.texts
            by_text = np.array(sorted(range(unique.size), key=lambda i: texts[unique[i]]), dtype=np.int64)
            unique = unique[by_text]
            text_rank = np.empty(by_text.size, dtype=np.int64)
            text_rank[by_text] = np.arange(by_text.size)
            ranks = text_rank[ranks]
        order = np.lexsort((positions, docs, ranks))
        ranks, docs, positions = ranks[order], docs[order], positions[order]
        del keys, order
        new_posting = np.ones(ranks.size, dtype=bool)
        new_posting[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
        starts = np.flatnonzero(new_posting)
        counts = np.diff(np.append(starts, ranks.size))
        self.chunks.append(
            _Chunk(unique, _small(ranks[starts]), _small(docs[starts]), _small(counts), _small(positions))
        )

    def write(self, writer, field_lengths: array | None, doc_count: int) -> None:
        """Every term's list, in term order, with its W3 term info — a slice of terms at a time, which bounds the
        encoder's temporary arrays."""
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
        doc_widths = np.zeros(doc_count, dtype=np.uint8)
        doc_widths[list(self.last_position)] = bit_widths(np.fromiter(self.last_position.values(), dtype=np.int64))
        writer._tindex.extras.setdefault("widths", {})[writer._fieldname] = zlib.compress(doc_widths.tobytes())
        # each chunk's postings by global term rank (ascending: chunks list their terms in the same order)
        terms = [r[c.term] for r, c in zip(ranks, chunks)]
        occ_at = [np.concatenate(([0], np.cumsum(c.counts, dtype=np.int64))) for c in chunks]
        per_term = np.zeros(len(texts), dtype=np.int64)
        for t in terms:
            per_term += np.bincount(t, minlength=len(texts))
        bounds = np.searchsorted(np.cumsum(per_term), np.arange(SLICE_POSTINGS, int(per_term.sum()), SLICE_POSTINGS))
        for lo, hi in zip(np.concatenate(([0], bounds)).tolist(), np.concatenate((bounds, [len(texts)])).tolist()):
            parts = []
            for t, c, o in zip(terms, chunks, occ_at):
                a, b = np.searchsorted(t, [lo, hi])
                if b > a:
                    parts.append((t[a:b], c.docs[a:b], c.counts[a:b], c.positions[o[a] : o[b]]))
            if parts:
                term_of, docs, counts, positions = _by_term(*(np.concatenate(p) for p in zip(*parts)))
                _write_lists(
                    writer,
                    self.field,
                    [texts[r].encode("utf-8") for r in np.unique(term_of).tolist()],
                    term_of,
                    docs,
                    counts,
                    positions,
                    field_lengths,
                    doc_widths,
                )


SLICE_POSTINGS = 1 << 20  # postings encoded at a time


def _small(values: np.ndarray) -> np.ndarray:
    """Non-negative integers in the smallest of uint16/int32/int64 that holds them (chunks are kept until the end)."""
    top = int(values.max()) if values.size else 0
    return values.astype(np.uint16 if top < 1 << 16 else np.int32 if top < 1 << 31 else np.int64)


def _by_term(term_of, docs, counts, positions):
    """Postings gathered chunk after chunk (each sorted by term, then document) → sorted by (term, document), with
    their occurrences' positions moved along."""
    order = np.argsort(term_of, kind="stable")
    counts = counts.astype(np.int64)
    occ_start = (np.cumsum(counts) - counts)[order]
    counts = counts[order]
    within = np.arange(positions.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return (
        term_of[order],
        docs[order].astype(np.int64),
        counts,
        positions[np.repeat(occ_start, counts) + within].astype(np.int64),
    )


@dataclass
class _Chunk:
    """One chunk's postings, sorted by (term, document): the chunk's distinct term keys (in the order the segment
    lists terms), and per posting its term (an index into them), document and count; every occurrence's position,
    in posting order."""

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


def _write_lists(
    writer, field, keys: list[bytes], term_of, docs, counts, positions, field_lengths, doc_widths=None
) -> None:
    """Compact lists of postings sorted by (term, document) — `keys` the terms' bytes, in order — with their term
    infos."""
    blob, ranges, first, df = compact_lists(term_of, docs, counts, positions, doc_widths)
    del positions
    weights = posting_weights(counts, field.format)
    if field_lengths is not None:
        doc_lengths = np.frombuffer(field_lengths, dtype=np.uint32)[docs]
        min_length = np.minimum.reduceat(doc_lengths, first)
        max_length = np.maximum.reduceat(doc_lengths, first)
    else:
        min_length = max_length = np.zeros(first.size, dtype=np.int64)
    base = writer._postfile.tell()
    writer._postfile.write(blob.tobytes())
    prefix = pack_ushort(writer._fieldid)
    infos = pack_infos(
        df,
        np.add.reduceat(counts, first),
        np.maximum.reduceat(counts, first),
        np.add.reduceat(weights, first),
        float(field.format.field_boost),
        _length_bytes(min_length),
        _length_bytes(max_length),
        base + ranges[:-1],
        np.diff(ranges),
    )
    writer._tindex.add_many([prefix + key for key in keys], infos)


def _flat_compact(field, table: dict[bytes, _Postings]) -> bool:
    """Whether a field without positions can be written as compact lists: its format's weights are count × boost
    (what the compact reader gives back) for every posting."""
    if type(field.format) not in (Existence, Frequency) or not table:
        return False
    boost = float(field.format.field_boost)
    for entry in table.values():
        expected = np.asarray(entry.counts, dtype=np.float64) * boost
        if not np.array_equal(np.asarray(entry.weights, dtype=np.float32), expected.astype(np.float32)):
            return False
    return True


def _write_flat(writer, field, table: dict[bytes, _Postings], field_lengths) -> None:
    """Compact lists for a field without positions (ids, dates, bylines, regions…): counts, and no position bits."""
    keys = sorted(table)
    entries = [table[k] for k in keys]
    sizes = np.fromiter((len(e.docs) for e in entries), dtype=np.int64, count=len(entries))
    term_of = np.repeat(np.arange(len(keys)), sizes)
    docs = np.concatenate([np.frombuffer(e.docs, dtype=np.uint32) for e in entries]).astype(np.int64)
    counts = np.concatenate([np.frombuffer(e.counts, dtype=np.uint32) for e in entries]).astype(np.int64)
    _write_lists(writer, field, keys, term_of, docs, counts, np.zeros(int(counts.sum()), dtype=np.int64), field_lengths)


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
