"""A compact term dictionary for newsearch's segments.

Whoosh's W3 terms file is an on-disk hash table: per term a record (8 bytes of lengths, the key, a 35-byte term
info), two 12-byte hash slots and an index entry — about 118 bytes a term, as much as all the postings of a news
index. This table keeps the same sorted (key → term info) pairs in zlib-compressed blocks of BLOCK terms, with the
first key of every block in a small index read at open: about 25 bytes a term. A block holds its keys and values
whole, after a table of their offsets, so a lookup is a binary search of the index, one block decompressed (recent
blocks are cached, by bytes, for the whole process) and a binary search inside it — no per-term decoding, which is
what made a page of related articles (thousands of lookups) slow with front-coded keys.

The writer has the interface Whoosh's field writer expects of its `OrderedHashWriter` (`add`, `extras`, `close`);
the reader has what the W3 terms reader uses (lookups, ordered iteration from a key). Values are opaque bytes.
"""

from __future__ import annotations

import itertools
import pickle
import struct
import sys
import threading
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict

MAGIC = b"NST2"
BLOCK = 64  # terms per block: small enough to search in microseconds, big enough for zlib to find repeats
_FOOTER = struct.Struct("!qq")  # offset of the block index, offset of the extras
_HEADER = struct.Struct("!ii")  # a block's term count and compressed size
_BIG_ENDIAN = sys.byteorder == "big"  # block offsets are stored little-endian
CACHE_BYTES = 64 << 20  # decompressed blocks kept, over every table the process has open


class _BlockCache:
    """Decompressed blocks by (table, block number), least recently used out first, bounded in bytes."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self._blocks: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # the web server's threads share readers

    def get(self, key):
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
            return block

    def put(self, key, block, size: int) -> None:
        with self._lock:
            if key not in self._blocks:
                self._blocks[key] = block
                self.used += size
            while self.used > self.budget and self._blocks:
                _, (data, _, _) = self._blocks.popitem(last=False)
                self.used -= len(data)


_CACHE = _BlockCache(CACHE_BYTES)
_TABLES = itertools.count()  # a cache key per open table (ids of closed objects get reused)


class TermTableWriter:
    def __init__(self, dbfile):
        self.dbfile = dbfile
        self.extras: dict = {}
        self.lastkey = b""
        self._keys: list[bytes] = []
        self._values: list[bytes] = []
        self._index: list[tuple[bytes, int]] = []  # first key and file offset of each block
        dbfile.write(MAGIC)

    def add(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        self._keys.append(key)
        self._values.append(value)
        self.lastkey = key
        if len(self._keys) >= BLOCK:
            self._write_block()

    def add_many(self, keys: list[bytes], values: list[bytes]) -> None:
        """`add` for many increasing keys."""
        if not keys:
            return
        if keys[0] <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{keys[0]!r}")
        at = 0
        while at < len(keys):
            room = BLOCK - len(self._keys)
            self._keys.extend(keys[at : at + room])
            self._values.extend(values[at : at + room])
            at += room
            if len(self._keys) >= BLOCK:
                self._write_block()
        self.lastkey = keys[-1]

    def _write_block(self) -> None:
        # layout: key offsets (n + 1), value offsets (n + 1), as little-endian u32 from the block's start, then the
        # keys, then the values
        n = len(self._keys)
        head = 4 * (2 * n + 2)
        ends = list(itertools.accumulate(map(len, self._keys), initial=head))
        value_ends = list(itertools.accumulate(map(len, self._values), initial=ends[-1]))
        offsets = array("I", ends + value_ends)
        if offsets.itemsize != 4:  # pragma: no cover - every platform CPython runs on has a 4-byte "I"
            raise RuntimeError("array('I') is not 32 bits here")
        if _BIG_ENDIAN:  # pragma: no cover
            offsets.byteswap()
        self._index.append((self._keys[0], self.dbfile.tell()))
        data = zlib.compress(offsets.tobytes() + b"".join(self._keys) + b"".join(self._values), 6)
        self.dbfile.write(_HEADER.pack(n, len(data)) + data)
        self._keys, self._values = [], []

    def close(self) -> None:
        if self._keys:
            self._write_block()
        index_at = self.dbfile.tell()
        firsts = [k for k, _ in self._index]
        offsets = [o for _, o in self._index]
        self.dbfile.write(pickle.dumps((firsts, offsets), 4))
        extras_at = self.dbfile.tell()
        self.dbfile.write(pickle.dumps(self.extras, 4))
        self.dbfile.write(_FOOTER.pack(index_at, extras_at))
        self.dbfile.close()


class TermTableReader:
    def __init__(self, dbfile, length: int):
        self.dbfile = dbfile
        if dbfile.get(0, 4) != MAGIC:
            raise ValueError("not a newsearch term table (an index from an older version: rebuild it)")
        index_at, extras_at = _FOOTER.unpack(dbfile.get(length - _FOOTER.size, _FOOTER.size))
        self._firsts, self._offsets = pickle.loads(dbfile.get(index_at, extras_at - index_at))
        self.extras = pickle.loads(dbfile.get(extras_at, length - _FOOTER.size - extras_at))
        self._token = next(_TABLES)
        self.is_closed = False

    # --- blocks ------------------------------------------------------------------------------------------------
    def _block(self, number: int) -> tuple[bytes, array, int]:
        """(decompressed block, its offsets, its term count)."""
        key = (self._token, number)
        block = _CACHE.get(key)
        if block is None:
            offset = self._offsets[number]
            count, size = _HEADER.unpack(self.dbfile.get(offset, _HEADER.size))
            data = zlib.decompress(self.dbfile.get(offset + _HEADER.size, size))
            offsets = array("I")
            offsets.frombytes(data[: 4 * (2 * count + 2)])
            if _BIG_ENDIAN:  # pragma: no cover
                offsets.byteswap()
            block = (data, offsets, count)
            _CACHE.put(key, block, len(data))
        return block

    def _search(self, key: bytes) -> tuple[int, int]:
        """(block, position in it) of the first key >= `key` (block == number of blocks when there is none)."""
        number = max(0, bisect_right(self._firsts, key) - 1)
        data, offsets, count = self._block(number)
        lo, hi = 0, count
        while lo < hi:
            mid = (lo + hi) // 2
            if data[offsets[mid] : offsets[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        return (number + 1, 0) if lo == count else (number, lo)

    # --- lookups -----------------------------------------------------------------------------------------------
    def get(self, key: bytes, default=None):
        if not self._firsts:
            return default
        number, at = self._search(key)
        if number < len(self._firsts):
            data, offsets, count = self._block(number)
            if data[offsets[at] : offsets[at + 1]] == key:
                return data[offsets[count + 1 + at] : offsets[count + 2 + at]]
        return default

    def __getitem__(self, key: bytes) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: bytes) -> bool:
        return self.get(key) is not None

    def items_from(self, key: bytes):
        if not self._firsts:
            return
        number, at = self._search(key)
        while number < len(self._firsts):
            data, offsets, count = self._block(number)
            for i in range(at, count):
                yield (data[offsets[i] : offsets[i + 1]], data[offsets[count + 1 + i] : offsets[count + 2 + i]])
            number, at = number + 1, 0

    def items(self):
        return self.items_from(b"")

    def keys_from(self, key: bytes):
        return (k for k, _ in self.items_from(key))

    def keys(self):
        return self.keys_from(b"")

    def close(self) -> None:
        self.dbfile.close()
        self.is_closed = True
