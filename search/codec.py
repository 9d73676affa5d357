"""A compact posting list for the positional text fields, inside otherwise ordinary Whoosh (W3) segments.

Whoosh's W3 codec writes postings in pickled blocks of up to 128: per block a pickled header, a pickled tuple of
document gaps, a tuple of float weights (9 bytes each as soon as two frequencies differ) and one pickled bytes
object per posting for its positions — about 17 bytes a posting on news text, most of an index's size, and most of
its build time. For the fields whose format is `CompactPositions` (every headline/body/bigram field) the bulk
builder (search/segments.py) writes instead one varint list per term, in blocks (one per chunk of documents the
builder encoded at once):

    postings n · document gaps (n of them, the first from 0) · position counts (n) · position gaps (one per
    occurrence, restarting at each document)

encoded for a whole chunk of a field at once with numpy. A term's weight in a document is its count × the field boost, as
Whoosh's writer computes it, so no weights are stored. The term dictionary, stored fields, columns and lengths stay
W3's; the term's extent is recorded with a negative length, which is how `CompactCodec.postings_reader` tells a
compact list from a W3 one (segments merged by Whoosh's own writer hold W3 lists, and read as before).

The index pickles the codec by import path: keep it at `search.codec.CompactCodec`.
"""
from __future__ import annotations

import struct

import numpy as np
from whoosh.codec.base import FieldCursor
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3TermsReader
from whoosh.matching import ListMatcher

from search import mapped
from search.formats import CompactPositions
from search.termtable import TermTableReader, TermTableWriter

mapped.install()  # segments read in place from their mmap (see search/mapped.py)

_MAX_VARINT_BYTES = 10
_WEIGHT, _DOC_FREQUENCY = struct.Struct("!f"), struct.Struct("!I")  # fields of W3TermInfo's packed header


def packed_weight(info: bytes) -> float:
    """A term's total weight, straight from its packed W3TermInfo (flags: 1 byte, then the weight)."""
    return _WEIGHT.unpack_from(info, 1)[0]


def packed_doc_frequency(info: bytes) -> int:
    """A term's document frequency, straight from its packed W3TermInfo (after the flags and the weight)."""
    return _DOC_FREQUENCY.unpack_from(info, 5)[0]


class CompactCodec(W3Codec):
    """W3 with a compact term dictionary (search/termtable.py), reading (and, through search/segments.py, writing)
    compact posting lists."""

    def field_writer(self, storage, segment):
        return CompactFieldWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        tiname = segment.make_filename(self.TERMS_EXT)
        return CompactTermsReader(self, storage.open_file(tiname), storage.file_length(tiname),
                                  segment.open_file(storage, self.POSTS_EXT))

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if not terminfo.is_inlined():
            offset, length = terminfo.extent()
            if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in unpack's tuple
                length = length[0]
            if length < 0:
                docs, counts, positions = read_compact(dbfile, offset, -length, terminfo.doc_frequency())
                weights = posting_weights(counts, format_)
                return ListMatcher(docs.tolist(), weights.tolist(), _Values(counts, positions), format_,
                                   scorer=scorer, term=term, terminfo=terminfo)
        return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)


class CompactFieldWriter(W3FieldWriter):
    """W3's field writer over a `TermTableWriter` instead of an on-disk hash."""

    def __init__(self, codec, storage, segment):  # W3FieldWriter.__init__, with the other table
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = TermTableWriter(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False


class CompactTermsReader(W3TermsReader):
    """W3's terms reader over a `TermTableReader`."""

    def __init__(self, codec, dbfile, length, postfile):
        self._codec = codec
        self._dbfile = dbfile
        self._tindex = TermTableReader(dbfile, length)
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = postfile
        self._fieldunmap = [None] * len(self._fieldmap)
        for fieldname, num in self._fieldmap.items():
            self._fieldunmap[num] = fieldname

    # A missing term is a KeyError here, as in W3 (the segment reader answers 0 for it). The statistics are read
    # straight from the packed term info (flags, weight, df, …), without unpickling inlined postings.
    def frequency(self, fieldname, tbytes):
        return packed_weight(self._tindex[self._keycoder(fieldname, tbytes)])

    def doc_frequency(self, fieldname, tbytes):
        return packed_doc_frequency(self._tindex[self._keycoder(fieldname, tbytes)])

    def cursor(self, fieldname, fieldobj):
        return _TermCursor(self, fieldname, fieldobj)


class _TermCursor(FieldCursor):
    """Walks one field's terms in order (Whoosh's FieldCursor interface)."""

    def __init__(self, terms: CompactTermsReader, fieldname: str, fieldobj):
        self._terms, self._fieldname, self._fieldobj = terms, fieldname, fieldobj
        self.first()

    def first(self):
        return self._start(b"")

    def find(self, term):
        return self._start(term if isinstance(term, bytes) else self._fieldobj.to_bytes(term))

    def _start(self, prefix: bytes):
        self._items = self._terms.items_from(self._fieldname, prefix)
        return self.next()

    def next(self):
        for (fieldname, text), info in self._items:
            if fieldname == self._fieldname:
                self._text, self._info = self._fieldobj.from_bytes(text), info
                return self._text
            break
        self._text = self._info = None
        return None

    def text(self):
        return self._text

    def term_info(self):
        return self._info

    def is_valid(self):
        return self._text is not None


class _Values:
    """Each posting's value as `CompactPositions` encodes it, made on demand (Whoosh's span and phrase code)."""

    def __init__(self, counts: np.ndarray, positions: np.ndarray):
        self._counts = counts
        self._starts = np.concatenate(([0], np.cumsum(counts)))
        self._positions = positions

    def __len__(self):
        return len(self._counts)

    def __getitem__(self, i):
        return _FORMAT.encode(self._positions[self._starts[i]:self._starts[i + 1]].tolist())


_FORMAT = CompactPositions()


def posting_weights(counts: np.ndarray, format_) -> np.ndarray:
    # what Whoosh's writer stores: count × boost, as a 32-bit float
    return (counts * float(format_.field_boost)).astype(np.float32).astype(np.float64)


def is_compact(format_) -> bool:
    return isinstance(format_, CompactPositions)


# --- reading ----------------------------------------------------------------------------------------------------
def read_compact(dbfile, offset: int, length: int, df: int):
    """(docnums, counts, positions) of one compact list: its blocks, one after another."""
    numbers = decode_varints(np.frombuffer(dbfile.get(offset, length), dtype=np.uint8))
    docs, counts, gaps = [], [], []
    at = 0
    while at < numbers.size:
        n = int(numbers[at])
        block_counts = numbers[at + 1 + n:at + 1 + 2 * n]
        occ = int(block_counts.sum())
        docs.append(np.cumsum(numbers[at + 1:at + 1 + n]))
        counts.append(block_counts)
        gaps.append(numbers[at + 1 + 2 * n:at + 1 + 2 * n + occ])
        at += 1 + 2 * n + occ
    if len(docs) == 1:
        docs, counts, gaps = docs[0], counts[0], gaps[0]
    else:
        docs, counts, gaps = np.concatenate(docs), np.concatenate(counts), np.concatenate(gaps)
    if docs.size != df:
        raise ValueError(f"corrupt posting list: {docs.size} postings where the term info says {df}")
    return docs, counts, running_positions(gaps, counts)


def running_positions(gaps: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Absolute positions from gaps that restart (from 0) at each posting."""
    if gaps.size == 0:
        return gaps
    running = np.cumsum(gaps)
    begin = np.cumsum(counts) - counts
    return running - np.repeat(running[begin] - gaps[begin], counts)


def decode_varints(buf: np.ndarray) -> np.ndarray:
    """LEB128 varints (7 bits a byte, high bit = more follows) → int64."""
    if buf.size == 0:
        return np.empty(0, dtype=np.int64)
    last = buf < 0x80
    starts = np.flatnonzero(np.concatenate(([True], last[:-1])))
    owner = np.cumsum(last) - last
    shift = 7 * (np.arange(buf.size) - starts[owner])
    return np.add.reduceat((buf & 0x7F).astype(np.int64) << shift, starts)


# --- writing ----------------------------------------------------------------------------------------------------
def encode_varints(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LEB128 bytes of non-negative `numbers`, and the byte offset where each number starts (plus the total)."""
    numbers = numbers.astype(np.uint64)
    sizes = np.ones(numbers.size, dtype=np.int64)
    for k in range(1, _MAX_VARINT_BYTES):
        sizes += numbers >= (np.uint64(1) << np.uint64(7 * k))
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    for k in range(int(sizes.max()) if numbers.size else 0):
        has = sizes > k
        chunk = (numbers[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[:-1][has] + k] = (chunk | more).astype(np.uint8)
    return out, offsets


def compact_lists(term_of: np.ndarray, docs: np.ndarray, positions: np.ndarray):
    """Encode every term of a field at once.

    Input: one row per occurrence — term rank, docnum, position — sorted by (term, doc, position). Returns the
    blob (one block per term), the terms' byte ranges in it (k + 1 offsets), each term's df, and per posting its
    term index, docnum and count (for the term dictionary's statistics)."""
    n = term_of.size
    new_posting = np.ones(n, dtype=bool)
    new_posting[1:] = (term_of[1:] != term_of[:-1]) | (docs[1:] != docs[:-1])
    posting_starts = np.flatnonzero(new_posting)
    counts = np.diff(np.append(posting_starts, n))
    p_term, p_doc = term_of[posting_starts], docs[posting_starts]
    new_term = np.ones(posting_starts.size, dtype=bool)
    new_term[1:] = p_term[1:] != p_term[:-1]
    term_starts = np.flatnonzero(new_term)  # in postings
    df = np.diff(np.append(term_starts, posting_starts.size))
    term_index = np.cumsum(new_term) - 1  # of each posting

    # the gaps: documents within a term, positions within a posting
    doc_gaps = p_doc.astype(np.int64).copy()
    doc_gaps[1:] -= np.where(new_term[1:], 0, p_doc[:-1])
    pos_gaps = positions.astype(np.int64).copy()
    pos_gaps[1:] -= np.where(new_posting[1:], 0, positions[:-1])

    # where each number goes in the stream: per term [doc gaps][counts][position gaps]
    occ_per_term = np.add.reduceat(counts, term_starts) if term_starts.size else np.empty(0, np.int64)
    term_len = 1 + 2 * df + occ_per_term
    term_at = np.concatenate(([0], np.cumsum(term_len)))
    rank_in_term = np.arange(posting_starts.size) - np.repeat(term_starts, df)
    occ_before_term = np.concatenate(([0], np.cumsum(occ_per_term)))[:-1]
    stream = np.empty(int(term_at[-1]), dtype=np.int64)
    stream[term_at[:-1]] = df
    base = term_at[:-1][term_index] + 1
    stream[base + rank_in_term] = doc_gaps
    stream[base + df[term_index] + rank_in_term] = counts
    del base, rank_in_term
    occ_term = np.repeat(term_index, counts)
    occ_rank = np.arange(n) - np.repeat(occ_before_term, occ_per_term)
    stream[term_at[:-1][occ_term] + 1 + 2 * df[occ_term] + occ_rank] = pos_gaps
    del occ_term, occ_rank, pos_gaps
    blob, offsets = encode_varints(stream)
    ranges = offsets[term_at]
    return blob, ranges, df, term_index, p_doc, counts
