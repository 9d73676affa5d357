"""A compact term dictionary for newsearch's segments.

Whoosh's W3 terms file is an on-disk hash table: per term a record (8 bytes of lengths, the key, a 35-byte term
info), two 12-byte hash slots and an index entry — about 118 bytes a term, as much as all the postings of a news
index. This table keeps the same sorted (key → term info) pairs in zlib-compressed blocks of BLOCK terms, each key
front-coded against the previous one, with the first key of every block in a small index read at open: about 20
bytes a term. A lookup is a binary search of the index, one block decompressed (recent blocks are cached), and a
binary search in the block.

The writer has the interface Whoosh's field writer expects of its `OrderedHashWriter` (`add`, `extras`, `close`);
the reader has what the W3 terms reader uses (lookups, ordered iteration from a key). Values are opaque bytes.
"""
from __future__ import annotations

import pickle
import struct
import zlib
from bisect import bisect_left, bisect_right
from collections import OrderedDict

MAGIC = b"NSTT"
BLOCK = 64  # terms per block: small enough to decode in microseconds, big enough for zlib to find repeats
_FOOTER = struct.Struct("!qq")  # offset of the block index, offset of the extras
_CACHED_BLOCKS = 256


def _varint(n: int, out: bytearray) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, at
        shift += 7


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
            self._keys.extend(keys[at:at + room])
            self._values.extend(values[at:at + room])
            at += room
            if len(self._keys) >= BLOCK:
                self._write_block()
        self.lastkey = keys[-1]

    def _write_block(self) -> None:
        out = bytearray()
        previous = b""
        for key, value in zip(self._keys, self._values):
            shared = 0
            limit = min(len(key), len(previous))
            while shared < limit and key[shared] == previous[shared]:
                shared += 1
            _varint(shared, out)
            _varint(len(key) - shared, out)
            out += key[shared:]
            _varint(len(value), out)
            out += value
            previous = key
        self._index.append((self._keys[0], self.dbfile.tell()))
        data = zlib.compress(bytes(out), 6)
        self.dbfile.write(struct.pack("!ii", len(self._keys), len(data)) + data)
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
            raise ValueError("not a newsearch term table")
        index_at, extras_at = _FOOTER.unpack(dbfile.get(length - _FOOTER.size, _FOOTER.size))
        self._firsts, self._offsets = pickle.loads(dbfile.get(index_at, extras_at - index_at))
        self.extras = pickle.loads(dbfile.get(extras_at, length - _FOOTER.size - extras_at))
        self._blocks: OrderedDict[int, tuple[list[bytes], list[bytes]]] = OrderedDict()
        self.is_closed = False

    # --- blocks ------------------------------------------------------------------------------------------------
    def _block(self, number: int) -> tuple[list[bytes], list[bytes]]:
        cached = self._blocks.get(number)
        if cached is not None:
            self._blocks.move_to_end(number)
            return cached
        offset = self._offsets[number]
        count, size = struct.unpack("!ii", self.dbfile.get(offset, 8))
        data = zlib.decompress(self.dbfile.get(offset + 8, size))
        keys, values = [], []
        previous = b""
        at = 0
        for _ in range(count):
            shared, at = _read_varint(data, at)
            rest, at = _read_varint(data, at)
            key = previous[:shared] + data[at:at + rest]
            at += rest
            size, at = _read_varint(data, at)
            keys.append(key)
            values.append(data[at:at + size])
            at += size
            previous = key
        self._blocks[number] = (keys, values)
        if len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return keys, values

    def _locate(self, key: bytes) -> tuple[int, int]:
        """(block, position in it) of the first key >= `key` (block == number of blocks when there is none)."""
        number = max(0, bisect_right(self._firsts, key) - 1)
        if number >= len(self._firsts):
            return len(self._firsts), 0
        keys, _ = self._block(number)
        at = bisect_left(keys, key)
        if at == len(keys):
            return number + 1, 0
        return number, at

    # --- lookups -----------------------------------------------------------------------------------------------
    def get(self, key: bytes, default=None):
        if not self._firsts:
            return default
        number, at = self._locate(key)
        if number < len(self._firsts):
            keys, values = self._block(number)
            if keys[at] == key:
                return values[at]
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
        number, at = self._locate(key)
        while number < len(self._firsts):
            keys, values = self._block(number)
            yield from zip(keys[at:], values[at:])
            number, at = number + 1, 0

    def items(self):
        return self.items_from(b"")

    def keys_from(self, key: bytes):
        return (k for k, _ in self.items_from(key))

    def keys(self):
        return self.keys_from(b"")

    def close(self) -> None:
        self._blocks.clear()
        self.dbfile.close()
        self.is_closed = True
