"""Stored fields, compressed a block of documents at a time with a dictionary drawn from the segment itself.

W3 keeps each document's stored fields as its own zlib-3 pickle: about 0.8 bytes a byte of (UTF-8) text on Chinese
news, a third of a compact index. Here a segment's documents are serialized as JSON in GB18030 (two bytes a Chinese
character where UTF-8 takes three; it round-trips every code point but lone surrogates), then deflated (level 9)
BLOCK_DOCS at a time with a preset dictionary sampled from the segment's own documents — bylines, sources, file
paths, the payload's keys and the boilerplate of news text recur across documents, and a block alone is too short
for deflate to learn them: about 0.4 bytes a byte of text. Reading one document inflates its block (tens of KB,
well under a millisecond); the last block read is kept, so walking every document inflates each block once.

A dict JSON cannot hold exactly (tuples, bytes, non-string keys…) is pickled instead; a value GB18030 cannot encode
is written in UTF-8 with surrogates passed through. The column layout (from the column's start):

    MAGIC · document count (u32) · BLOCK_DOCS (u16) · dictionary length (u32) · dictionary (zlib) · block count
    + 1 offsets (u64, from the column's start) · blocks

and a block, inflated: per document a varint length, then the documents, each a tag byte and its bytes.
"""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from array import array

from whoosh.codec.whoosh3 import W3PerDocReader, W3PerDocWriter
from whoosh.columns import Column, ColumnReader, ColumnWriter

from search.index.codec.varints import read_varint, varints

MAGIC = b"NSS1"
BLOCK_DOCS = 16  # documents deflated together: 0.39 bytes a byte of text (4: 0.41); a read inflates ~30 KB
DICTIONARY_BYTES = 32 << 10  # deflate's window: a longer dictionary would not be seen
_SAMPLE_BYTES = 400  # from each sampled document: its start holds the fields that repeat
_HEAD = struct.Struct("<4sIHI")
_NONE, _GB18030, _UTF8, _PICKLE = b"n", b"g", b"u", b"p"


def serialize(fields) -> bytes:
    """A tag byte and the bytes of one document's stored fields (None: no stored fields)."""
    if fields is None:
        return _NONE
    if not _json_exact(fields):
        return _PICKLE + pickle.dumps(fields, 4)
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    try:
        return _GB18030 + text.encode("gb18030")
    except UnicodeEncodeError:  # lone surrogates
        return _UTF8 + text.encode("utf-8", "surrogatepass")


def deserialize(data: bytes):
    tag, body = data[:1], data[1:]
    if tag == _GB18030:
        return json.loads(body.decode("gb18030"))
    if tag == _UTF8:
        return json.loads(body.decode("utf-8", "surrogatepass"))
    if tag == _PICKLE:
        return pickle.loads(body)
    if tag == _NONE:
        return None
    raise ValueError(f"corrupt stored fields: unknown tag {tag!r}")


def _json_exact(fields) -> bool:
    """Whether JSON gives `fields` back as they are: a dict of str keys and str/int/float/None values (not bool,
    which is an int to isinstance but comes back as bool anyway; floats that are not finite do not round-trip)."""
    if type(fields) is not dict:
        return False
    for key, value in fields.items():
        if type(key) is not str:
            return False
        kind = type(value)
        if kind is float:
            if value != value or value in (float("inf"), float("-inf")):
                return False
        elif kind not in (str, int) and value is not None:
            return False
    return True


class StoredColumn(Column):
    """The `_stored` column of newsearch's segments (see the module docstring)."""

    def writer(self, dbfile):
        return _Writer(dbfile)

    def reader(self, dbfile, basepos, length, doccount):
        return _Reader(dbfile, basepos, length, doccount)


STORED = StoredColumn()


class _Writer(ColumnWriter):
    def __init__(self, dbfile):
        super().__init__(dbfile)
        self._docs: dict[int, bytes] = {}

    def fill(self, docnum: int) -> None:
        pass  # documents without stored fields are written as such at the end

    def add(self, docnum: int, value) -> None:
        self._docs[docnum] = serialize(value)  # now: the per-document writer clears the dict it passed

    def finish(self, doccount: int) -> None:
        docs = [self._docs.get(d, _NONE) for d in range(doccount)]
        self._docs = {}
        dictionary = _dictionary(docs)
        blocks = []
        for start in range(0, doccount, BLOCK_DOCS):
            part = docs[start : start + BLOCK_DOCS]
            raw = varints([len(d) for d in part]) + b"".join(part)
            deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, dictionary)
            blocks.append(deflate.compress(raw) + deflate.flush())
        packed = zlib.compress(dictionary, 9)
        head = _HEAD.pack(MAGIC, doccount, BLOCK_DOCS, len(packed)) + packed
        offsets = array("Q", [len(head) + 8 * (len(blocks) + 1)])
        for block in blocks:
            offsets.append(offsets[-1] + len(block))
        if offsets.itemsize != 8:  # pragma: no cover - every platform CPython runs on has an 8-byte "Q"
            raise RuntimeError("array('Q') is not 64 bits here")
        self._dbfile.write(head + _little(offsets).tobytes() + b"".join(blocks))


def _dictionary(docs: list[bytes]) -> bytes:
    """The starts of documents spread over the segment (deterministic: every k-th), up to DICTIONARY_BYTES and to
    an eighth of the documents' bytes (a small segment would pay more for it than it saves)."""
    present = [d for d in docs if len(d) > 1]
    size = min(DICTIONARY_BYTES, sum(map(len, present)) // 8)
    if not size:
        return b""
    step = max(1, len(present) * _SAMPLE_BYTES // size)
    return b"".join(d[1 : _SAMPLE_BYTES + 1] for d in present[::step])[-size:]


def _little(values: array) -> array:
    import sys

    if sys.byteorder == "big":  # pragma: no cover
        values = array(values.typecode, values)
        values.byteswap()
    return values


class _Reader(ColumnReader):
    def __init__(self, dbfile, basepos, length, doccount):
        super().__init__(dbfile, basepos, length, doccount)
        if length < _HEAD.size:
            raise ValueError("corrupt stored fields: column too short")
        magic, count, self._block_docs, dict_length = _HEAD.unpack(dbfile.get(basepos, _HEAD.size))
        if magic != MAGIC or count != doccount or not self._block_docs:
            raise ValueError("corrupt stored fields: not a newsearch stored-fields column (rebuild the index)")
        at = basepos + _HEAD.size
        try:
            self._dictionary = zlib.decompress(dbfile.get(at, dict_length))
        except zlib.error:
            raise ValueError("corrupt stored fields: bad dictionary") from None
        blocks = -(-count // self._block_docs)
        self._offsets = _little(array("Q", bytes(dbfile.get(at + dict_length, 8 * (blocks + 1)))))
        if self._offsets[-1] != length:
            raise ValueError("corrupt stored fields: block offsets do not span the column")
        self._last = (-1, ())  # (block number, its documents): one attribute, replaced whole (threads share it)

    def __getitem__(self, docnum: int):
        if not 0 <= docnum < self._doccount:
            raise IndexError(f"document {docnum} of {self._doccount}")
        number = docnum // self._block_docs
        cached, docs = self._last
        if cached != number:
            docs = self._inflate(number)
            self._last = (number, docs)
        return deserialize(docs[docnum % self._block_docs])

    def _inflate(self, number: int) -> tuple[bytes, ...]:
        start, end = self._offsets[number], self._offsets[number + 1]
        try:
            raw = zlib.decompressobj(-15, zdict=self._dictionary).decompress(
                self._dbfile.get(self._basepos + start, end - start)
            )
        except zlib.error as e:
            raise ValueError(f"corrupt stored fields: block {number}: {e}") from None
        count = min(self._block_docs, self._doccount - number * self._block_docs)
        lengths, at = [], 0
        for _ in range(count):
            value, at = read_varint(raw, at, f"stored fields: block {number}")
            lengths.append(value)
        if at + sum(lengths) != len(raw):
            raise ValueError(f"corrupt stored fields: block {number} does not hold its documents")
        docs = []
        for size in lengths:
            docs.append(raw[at : at + size])
            at += size
        return tuple(docs)


class StoredPerDocWriter(W3PerDocWriter):
    """W3's per-document writer with the `_stored` column above."""

    def _create_column(self, fieldname, column):
        super()._create_column(fieldname, STORED if fieldname == "_stored" else column)


class StoredPerDocReader(W3PerDocReader):
    """W3's per-document reader with the `_stored` column above."""

    def stored_fields(self, docnum):
        reader = self._cached_reader("_stored", STORED)
        value = reader[docnum] if reader is not None else None
        return {} if value is None else value
