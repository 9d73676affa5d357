"""Compact posting lists inside otherwise ordinary Whoosh (W3) segments.

Whoosh's W3 codec writes postings in pickled blocks of up to 128: per block a pickled header, a pickled tuple of
document gaps, a tuple of float weights (9 bytes each as soon as two frequencies differ) and one pickled bytes
object per posting for its positions — about 17 bytes a posting on news text, most of an index's size, and most of
its build time. The bulk builder (search/index/segments.py) writes instead one list per term (layout in `compact_lists`)
for every field whose weights are count × boost — the positional text fields and the plain ones (ids, dates,
bylines, regions): a document stream of varints (gaps, with a flag for the rare count above one), deflated when
that is shorter, and the positions bit-packed at the width of the term's largest or of each document's — about 2.5
bytes an occurrence of a bigram where varint gaps, counts and positions took 4.3. It is encoded for a slice of a
field's terms at a time with numpy. No weights are stored (count × the field's boost, as Whoosh's writer computes
them); term statistics are a few varints (search/index/codec/terminfo.py) with a negative list length, which is how
`CompactCodec.postings_reader` tells a compact list from a W3 one (segments merged by Whoosh's own writer hold W3
lists and W3 infos, and read as before). The term dictionary is search/index/codec/termtable.py's, stored fields
search/index/codec/stored.py's; columns and lengths stay W3's.

The index stores the codec by the name `search.codec.CompactCodec` (search/codec.py), whatever module holds the code.
"""

from __future__ import annotations

import zlib

import numpy as np
from whoosh.codec.base import FieldCursor
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3TermsReader
from whoosh.formats import Frequency, Positions
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint

from search.index.codec import mapped
from search.index.codec.formats import CompactPositions
from search.index.codec.stored import StoredPerDocReader, StoredPerDocWriter
from search.index.codec.terminfo import compact_extents, info_doc_frequency, info_weight, is_compact_info, unpack_info
from search.index.codec.termtable import TermTableReader, TermTableWriter
from search.index.codec.varints import decode_varints, encode_varints, read_varint

mapped.install()  # segments read in place from their mmap (see search/index/codec/mapped.py)

_DEFLATE_MIN = 24  # document streams shorter than this rarely deflate smaller
BY_DOCUMENT = 0xFF  # a list's width byte when each position takes the bits of its document's largest


class CompactCodec(W3Codec):
    """W3 with a compact term dictionary (search/index/codec/termtable.py) and stored fields (search/index/codec/stored.py), reading (and,
    through search/index/segments.py, writing) compact posting lists."""

    def field_writer(self, storage, segment):
        return CompactFieldWriter(self, storage, segment)

    def per_document_writer(self, storage, segment):
        return StoredPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return StoredPerDocReader(storage, segment)

    def terms_reader(self, storage, segment):
        tiname = segment.make_filename(self.TERMS_EXT)
        return CompactTermsReader(
            self, storage.open_file(tiname), storage.file_length(tiname), segment.open_file(storage, self.POSTS_EXT)
        )

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None, doc_widths=None):
        extent = compact_extent(terminfo)
        if extent is not None:
            docs, counts, positions = read_compact(dbfile, *extent, terminfo.doc_frequency(), doc_widths)
            weights = posting_weights(counts, format_)
            return ListMatcher(
                docs.tolist(),
                weights.tolist(),
                _values(format_, counts, positions),
                format_,
                scorer=scorer,
                term=term,
                terminfo=terminfo,
            )
        return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)


def compact_extent(terminfo) -> tuple[int, int] | None:
    """(offset, length) of a term's compact list; None for W3 postings (inlined, or merged by Whoosh's writer)."""
    if terminfo.is_inlined():
        return None
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in unpack's tuple
        length = length[0]
    return (offset, -length) if length < 0 else None


class CompactFieldWriter(W3FieldWriter):
    """W3's field writer over a `TermTableWriter` instead of an on-disk hash."""

    def __init__(self, codec, storage, segment):  # W3FieldWriter.__init__, with the other table
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = self._fieldid = self._btext = self._fieldobj = self._format = None
        self._tindex = TermTableWriter(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._boosts = self._tindex.extras["boosts"] = {}
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False

    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        self._boosts[fieldname] = float(fieldobj.format.field_boost)


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
        self._boosts = self._tindex.extras.get("boosts", {})  # weights of compact infos are counts × boost
        self._doc_widths: dict = {}

    # A missing term is a KeyError here, as in W3 (the segment reader answers 0 for it). The statistics are read
    # straight from the packed term info, without unpickling inlined postings.
    def frequency(self, fieldname, tbytes):
        return info_weight(self._tindex[self._keycoder(fieldname, tbytes)], self._boosts.get(fieldname, 1.0))

    def doc_frequency(self, fieldname, tbytes):
        return info_doc_frequency(self._tindex[self._keycoder(fieldname, tbytes)])

    def term_info(self, fieldname, tbytes):
        try:
            info = self._tindex[self._keycoder(fieldname, tbytes)]
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None
        return self._info(fieldname, info)

    def _info(self, fieldname: str, info: bytes):
        return unpack_info(
            info,
            self._boosts.get(fieldname, 1.0),
            lambda offset, length, df: (
                [read_single_doc(self._postfile, offset, length)]
                if df == 1
                else read_compact_docs(self._postfile, offset, length, df, self.doc_widths(fieldname))[0]
            ),
        )

    def prefix_documents(self, fieldname: str, prefix: bytes) -> tuple[np.ndarray, list[bytes]]:
        """The documents of every term of the field that starts with `prefix`, from their compact lists read together
        (list after list: a document appears once per term holding it); and the terms whose lists are W3's, for the
        caller to read one by one. A one-character word expands to hundreds of bigrams per field."""
        key = self._keycoder(fieldname, prefix)
        compact: list[bytes] = []
        w3_terms: list[bytes] = []
        for keybytes, info in self._tindex.items_from(key):
            if not keybytes.startswith(key):
                break
            if is_compact_info(info):
                compact.append(info)
            else:
                w3_terms.append(self._keydecoder(keybytes)[1])
        docs = read_compact_documents(self._postfile, *compact_extents(compact))
        return docs, w3_terms

    def items(self):
        return self._decoded(self._tindex.items())

    def items_from(self, fieldname, prefix):
        return self._decoded(self._tindex.items_from(self._keycoder(fieldname, prefix)))

    def _decoded(self, pairs):
        for keybytes, value in pairs:
            fieldname, text = self._keydecoder(keybytes)
            yield (fieldname, text), self._info(fieldname, value)

    def cursor(self, fieldname, fieldobj):
        return _TermCursor(self, fieldname, fieldobj)

    def matcher(self, fieldname, tbytes, format_, scorer=None):
        return self._codec.postings_reader(
            self._postfile,
            self.term_info(fieldname, tbytes),
            format_,
            term=(fieldname, tbytes),
            scorer=scorer,
            doc_widths=self.doc_widths(fieldname),
        )

    def doc_widths(self, fieldname: str) -> np.ndarray | None:
        """The bit width of each document's largest position in the field (for lists packed by document)."""
        found = self._doc_widths.get(fieldname, _UNREAD)
        if found is _UNREAD:
            packed = self._tindex.extras.get("widths", {}).get(fieldname)
            found = None if packed is None else np.frombuffer(zlib.decompress(packed), dtype=np.uint8)
            self._doc_widths[fieldname] = found
        return found


_UNREAD = object()


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
        return _FORMAT.encode(self._positions[self._starts[i] : self._starts[i + 1]].tolist())


_FORMAT = CompactPositions()


def _values(format_, counts: np.ndarray, positions: np.ndarray):
    """Each posting's value as the field's format encodes it: positions, a frequency, or nothing."""
    if isinstance(format_, Positions):
        return _Values(counts, positions)
    if isinstance(format_, Frequency):
        return [pack_uint(c) for c in counts.tolist()]
    return [None] * counts.size  # as W3 reads them: no value at all


def posting_weights(counts: np.ndarray, format_) -> np.ndarray:
    # what Whoosh's writer stores: count × boost, as a 32-bit float
    return (counts * float(format_.field_boost)).astype(np.float32).astype(np.float64)


def is_compact(format_) -> bool:
    return isinstance(format_, CompactPositions)


# --- reading ----------------------------------------------------------------------------------------------------
def read_compact(dbfile, offset: int, length: int, df: int, doc_widths=None):
    """(docnums, counts, positions) of one compact list."""
    docs, counts, packed = read_compact_docs(dbfile, offset, length, df, doc_widths)
    return docs, counts, packed.decode()


def read_single_doc(dbfile, offset: int, length: int) -> int:
    """The document of a one-posting compact list (an id's, a file's): its first number alone, without the arrays
    `read_compact_docs` builds — reading every id of an index is 71k such lists."""
    data = dbfile.get(offset, length)
    header, at = read_varint(data, 0, "posting list")
    a_length, deflated = header >> 1, header & 1
    stream = bytes(data[at + 1 : at + 1 + a_length])
    if deflated:
        stream = zlib.decompress(stream, wbits=-15)
    folded, _ = read_varint(stream, 0, "posting list")
    return folded >> 1


def read_compact_docs(dbfile, offset: int, length: int, df: int, doc_widths=None):
    """(docnums, counts, `PackedPositions`) of one compact list: the positions stay packed until a phrase needs them.
    `doc_widths`: the field's per-document position widths (`CompactTermsReader.doc_widths`), for lists packed so."""
    data = dbfile.get(offset, length)
    header, at = read_varint(data, 0, "posting list")
    a_length, deflated = header >> 1, header & 1
    if at >= len(data):
        raise ValueError("corrupt posting list: no position width")
    width = data[at]
    at += 1
    stream = data[at : at + a_length]
    numbers = decode_varints(np.frombuffer(zlib.decompress(stream, wbits=-15) if deflated else stream, np.uint8))
    if numbers.size < df:
        raise ValueError(f"corrupt posting list: {numbers.size} numbers where the term info says {df} postings")
    folded = numbers[:df]
    multiple = (folded & 1).astype(bool)
    counts = np.ones(df, dtype=np.int64)
    extras = numbers[df:]
    if extras.size != np.count_nonzero(multiple):
        raise ValueError("corrupt posting list: counts do not match the documents")
    counts[multiple] = extras + 2
    docs = np.cumsum(folded >> 1)
    occurrences = int(counts.sum())
    packed = bytes(data[at + a_length :])  # a copy: cached lists must not pin the segment's mmap
    if width == BY_DOCUMENT:
        if doc_widths is None or (docs.size and docs[-1] >= doc_widths.size):
            raise ValueError("corrupt posting list: positions packed by document, without the documents' widths")
        widths = doc_widths[np.repeat(docs, counts)].astype(np.int64)
        bits = int(widths.sum())
    else:
        widths, bits = width, occurrences * width
    if len(packed) != (bits + 7) // 8:
        raise ValueError("corrupt posting list: positions do not match the counts")
    return docs, counts, PackedPositions(packed, widths, occurrences)


def read_compact_documents(dbfile, df: np.ndarray, offset: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The documents of many compact lists (given by their terms' df, offset and length), concatenated: each list's
    document stream is cut out (and inflated) on its own, and all of them decoded in one pass. Counts and positions
    are not read."""
    if df.size == 0:
        return np.empty(0, np.int64)
    streams = []
    for at, size in zip(offset.tolist(), length.tolist()):
        data = dbfile.get(at, size)
        header, start = read_varint(data, 0, "posting list")
        start += 1  # the position width
        stream = bytes(data[start : start + (header >> 1)])
        streams.append(zlib.decompress(stream, wbits=-15) if header & 1 else stream)
    sizes = np.fromiter(map(len, streams), dtype=np.int64, count=len(streams))
    if not sizes.all():
        raise ValueError("corrupt posting list: an empty document stream")
    buf = np.frombuffer(b"".join(streams), dtype=np.uint8)
    numbers = decode_varints(buf)
    last = buf < 0x80  # the last byte of each varint
    varint_of_byte: np.ndarray = np.cumsum(last) - last
    first = varint_of_byte[np.cumsum(sizes) - sizes]  # each list's first number
    if (np.diff(np.append(first, numbers.size)) < df).any():
        raise ValueError("corrupt posting list: fewer numbers than the term info's postings")
    # each list's first df numbers are its (document gap << 1 | count > 1)
    within = np.arange(int(df.sum())) - np.repeat(np.cumsum(df) - df, df)
    gaps = numbers[np.repeat(first, df) + within] >> 1
    return running_positions(gaps, df)


class PackedPositions:
    """A list's positions, least significant bit first, until decoded: `width` bits each, or (an array) each
    occurrence's own width."""

    __slots__ = ("data", "width", "count")

    def __init__(self, data: bytes, width, count: int):
        self.data, self.width, self.count = data, width, count

    def decode(self) -> np.ndarray:
        return unpack_bits(self.data, self.count, self.width)


def unpack_bits(data: bytes, count: int, width) -> np.ndarray:
    """`count` unsigned numbers packed least significant bit first → int64; `width` (≤ 56) is every number's bits,
    or an array of each one's."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    mask: np.ndarray | np.uint64  # each number's own mask, or one for all
    if isinstance(width, np.ndarray):
        widest = int(width.max())
        bit = np.cumsum(width) - width
        mask = (np.uint64(1) << width.astype(np.uint64)) - np.uint64(1)
    else:
        widest = width
        bit = np.arange(count, dtype=np.int64) * width
        mask = np.uint64((1 << width) - 1)
    if widest == 0:
        return np.zeros(count, dtype=np.int64)
    buf = np.frombuffer(bytes(data) + bytes(8), dtype=np.uint8)
    at = bit >> 3
    value = np.zeros(count, dtype=np.uint64)
    for k in range((widest + 14) // 8):  # the bytes a number can touch: its width plus up to 7 bits of offset
        value |= buf[at + k].astype(np.uint64) << np.uint64(8 * k)
    return ((value >> (bit & 7).astype(np.uint64)) & mask).astype(np.int64)


def running_positions(gaps: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Absolute positions from gaps that restart (from 0) at each posting (`CompactPositions` values)."""
    if gaps.size == 0:
        return gaps
    running = np.cumsum(gaps)
    begin = np.cumsum(counts) - counts
    return running - np.repeat(running[begin] - gaps[begin], counts)


# --- writing ----------------------------------------------------------------------------------------------------
def pack_bits(values: np.ndarray, bit_offsets: np.ndarray, size: int, max_width: int) -> np.ndarray:
    """`size` bytes holding each value (< 2**max_width) at its bit offset, least significant bit first. The values'
    bit ranges must not overlap."""
    out = np.zeros(size + 8, dtype=np.float64)
    shifted = values.astype(np.uint64) << (bit_offsets & 7).astype(np.uint64)
    at = bit_offsets >> 3
    for k in range((max_width + 14) // 8):
        part = (shifted >> np.uint64(8 * k)) & np.uint64(0xFF)
        # disjoint bits: adding them is OR-ing them (and bincount adds fast, exactly, in float64)
        out += np.bincount(at + k, weights=part.astype(np.float64), minlength=out.size)
    return out[:size].astype(np.uint8)


def bit_widths(values: np.ndarray) -> np.ndarray:
    """int.bit_length() of non-negative int64 values, elementwise."""
    widths = np.zeros(values.size, dtype=np.int64)
    for bit in range(63):
        above = values >= (1 << bit)
        if not above.any():
            break
        widths += above
    return widths


def _copy_ranges(dst: np.ndarray, dst_starts, src: np.ndarray, src_starts, lengths) -> None:
    """dst[dst_starts[i]:+lengths[i]] = src[src_starts[i]:+lengths[i]] for every i, at once."""
    total = int(lengths.sum())
    if total == 0:
        return
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    dst[np.repeat(dst_starts, lengths) + within] = src[np.repeat(src_starts, lengths) + within]


def compact_lists(
    term_of: np.ndarray,
    docs: np.ndarray,
    counts: np.ndarray,
    positions: np.ndarray,
    doc_widths: np.ndarray | None = None,
):
    """Encode every term of a field at once.

    Input: one row per posting — term rank, docnum, count — sorted by (term, doc), and every occurrence's position
    in posting order (ascending within a posting). Returns the blob (one list per term), the terms' byte ranges in
    it (k + 1 offsets), the index of each term's first posting, and each term's df. A list is:

        varint (length of the document stream << 1 | deflated) · position width (1 byte) · document stream ·
        positions

    The document stream holds varints: per posting (document gap << 1 | count > 1) — the first gap from 0 — then
    count − 2 of each posting that has more than one occurrence; deflated (raw, level 9) when that is shorter.
    Positions are absolute, `width` bits each, the width of the term's largest: about 11 bits where varint gaps took
    two bytes, and no count byte for the usual single occurrence. With `doc_widths` (the bit width of each
    document's largest position in the field) a list whose positions take fewer bits at their own document's width
    is packed so, its width byte BY_DOCUMENT."""
    n = term_of.size
    new_term = np.ones(n, dtype=bool)
    new_term[1:] = term_of[1:] != term_of[:-1]
    starts = np.flatnonzero(new_term)
    df = np.diff(np.append(starts, n))
    term_index = np.cumsum(new_term) - 1
    docs = docs.astype(np.int64)
    counts = counts.astype(np.int64)

    # document streams
    gaps = docs.copy()
    gaps[1:] -= np.where(new_term[1:], 0, docs[:-1])
    multiple = counts > 1
    extras = np.add.reduceat(multiple.astype(np.int64), starts) if n else np.empty(0, np.int64)
    stream_at = np.concatenate(([0], np.cumsum(df + extras)))
    stream = np.empty(int(stream_at[-1]), dtype=np.int64)
    stream[stream_at[:-1][term_index] + np.arange(n) - np.repeat(starts, df)] = gaps * 2 + multiple
    several = np.flatnonzero(multiple)
    owner = term_index[several]
    rank = np.arange(several.size) - np.concatenate(([0], np.cumsum(extras)))[:-1][owner]
    stream[stream_at[:-1][owner] + df[owner] + rank] = counts[several] - 2
    del gaps, several, owner, rank
    stream_bytes, stream_offsets = encode_varints(stream)
    a_start = stream_offsets[stream_at[:-1]]
    a_length = stream_offsets[stream_at[1:]] - a_start
    deflated = np.zeros(starts.size, dtype=bool)
    squeezed = []
    for t in np.flatnonzero(a_length > _DEFLATE_MIN).tolist():
        raw = stream_bytes[a_start[t] : a_start[t] + a_length[t]].tobytes()
        packed = zlib.compress(raw, 9, wbits=-15)
        if len(packed) < len(raw):
            deflated[t] = True
            a_length[t] = len(packed)
            squeezed.append(packed)

    # positions: at the term's width, or each at its document's when that is shorter
    occurrences = np.add.reduceat(counts, starts) if n else np.empty(0, np.int64)
    occ_at = np.concatenate(([0], np.cumsum(occurrences)))
    width = bit_widths(np.maximum.reduceat(positions, occ_at[:-1])) if n else np.empty(0, np.int64)
    occ_width = np.repeat(width, occurrences)
    if doc_widths is not None and n:
        own = doc_widths[np.repeat(docs, counts)].astype(np.int64)
        by_document = np.add.reduceat(own, occ_at[:-1]) < occurrences * width
        occ_width = np.where(np.repeat(by_document, occurrences), own, occ_width)
        del own
        width = np.where(by_document, BY_DOCUMENT, width)
    bit_sum = np.add.reduceat(occ_width, occ_at[:-1]) if n else np.empty(0, np.int64)
    b_length = (bit_sum + 7) // 8
    b_at = np.concatenate(([0], np.cumsum(b_length)))
    running = np.cumsum(occ_width) - occ_width  # bits before each occurrence, from the field's first
    bit_offsets = running + np.repeat(8 * b_at[:-1] - running[occ_at[:-1]] if n else b_at[:0], occurrences)
    bits = pack_bits(positions, bit_offsets, int(b_at[-1]), int(occ_width.max()) if n else 0)
    del occ_width, bit_offsets, running

    # the lists: header, width, document stream, positions
    header_bytes, header_offsets = encode_varints(a_length * 2 + deflated)
    h_length = np.diff(header_offsets)
    at = np.concatenate(([0], np.cumsum(h_length + 1 + a_length + b_length)))
    blob = np.empty(int(at[-1]), dtype=np.uint8)
    _copy_ranges(blob, at[:-1], header_bytes, header_offsets[:-1], h_length)
    blob[at[:-1] + h_length] = width
    a_at = at[:-1] + h_length + 1
    plain = ~deflated
    _copy_ranges(blob, a_at[plain], stream_bytes, a_start[plain], a_length[plain])
    if squeezed:
        pool = np.frombuffer(b"".join(squeezed), dtype=np.uint8)
        pool_length = a_length[deflated]
        _copy_ranges(blob, a_at[deflated], pool, np.cumsum(pool_length) - pool_length, pool_length)
    _copy_ranges(blob, a_at + a_length, bits, b_at[:-1], b_length)
    return blob, at, starts, df


# The stored name (see search/codec.py): pickled segments and schemas must not depend on where the code lives.
CompactCodec.__module__ = "search.codec"
