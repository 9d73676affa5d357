"""Term statistics of a compact list, in a few varints instead of W3's 35-byte record.

W3's term info packs flags, two floats, the df, two length bytes, the first and last document and a 12-byte extent
into 35 bytes; on a news segment (300,000 bigram terms, most in a document or two) that is most of the term table.
A compact list's info here is a marker byte (high bit set, which W3's flags byte never has), then varints:

    one posting:   count · length byte · offset · list length
    more:          df · total count · largest count · min/max length bytes · offset · list length

Weights are counts × the field's boost, as Whoosh's writer computes them; when the float32 sum Whoosh would store
differs from total count × boost (rounding), it follows as 4 bytes. The first and last document (which W3 keeps and
no search reads) come from the list itself when asked. Readers get a `W3TermInfo`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.util.numeric import byte_to_length

from search.index.codec.varints import decode_varints, encode_varints, read_varint

_COMPACT, _SINGLE, _WEIGHT = 0x80, 0x01, 0x02
_FLOAT = struct.Struct("!f")


def pack_infos(
    df, total_count, max_count, weight_sum, boost: float, min_length_byte, max_length_byte, offset, length
) -> list[bytes]:
    """The infos of many terms at once (numpy arrays, one entry a term)."""
    single = df == 1
    exact = _float32(total_count * boost) == _float32(weight_sum)
    numbers = np.where(
        single[:, None],
        np.stack([max_count, min_length_byte, offset, length, *[np.zeros_like(df)] * 3], 1),
        np.stack([df, total_count, max_count, min_length_byte, max_length_byte, offset, length], 1),
    )
    width = np.where(single, 4, 7)
    keep = np.arange(7)[None, :] < width[:, None]
    data, at = encode_varints(numbers[keep])
    ends = at[np.cumsum(width)].tolist()
    starts = [0] + ends[:-1]
    blob = data.tobytes()
    markers = (_COMPACT | np.where(single, _SINGLE, 0) | np.where(exact, 0, _WEIGHT)).tolist()
    infos = [bytes((m,)) + blob[a:b] for m, a, b in zip(markers, starts, ends)]
    for i in np.flatnonzero(~exact).tolist():
        infos[i] += _FLOAT.pack(weight_sum[i])
    return infos


def _float32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def unpack_info(info: bytes, boost: float, postings=None) -> W3TermInfo:
    """A compact list's info as the W3TermInfo the rest of Whoosh expects (a W3 info is read as W3 reads it).
    `postings(offset, length, df)` → the list's documents, for `min_id`/`max_id`."""
    if not info[0] & _COMPACT:
        return W3TermInfo.from_bytes(info)
    numbers, at = _varints(info, 4 if info[0] & _SINGLE else 7)
    terminfo = CompactTermInfo()
    if info[0] & _SINGLE:
        count, length_byte, offset, size = numbers
        df, total, largest, min_byte, max_byte = 1, count, count, length_byte, length_byte
    else:
        df, total, largest, min_byte, max_byte, offset, size = numbers
    weight = _FLOAT.unpack_from(info, at)[0] if info[0] & _WEIGHT else float(np.float32(total * boost))
    terminfo._weight = weight
    terminfo._df = df
    terminfo._minlength = byte_to_length(min_byte)
    terminfo._maxlength = byte_to_length(max_byte)
    terminfo._maxweight = float(np.float32(largest * boost))
    terminfo._offset, terminfo._length = offset, -size
    terminfo._minid = terminfo._maxid = None  # read from the list when asked
    terminfo._postings = postings
    return terminfo


class CompactTermInfo(W3TermInfo):
    """A W3TermInfo whose first and last document are read from the posting list when asked."""

    # (offset, length, df) → the list's documents; set by unpack_info
    _postings: Callable[[int, int, int], Sequence[int]] | None

    def documents(self) -> Sequence[int]:
        """The list's document numbers, without its counts or positions."""
        if self._postings is None:
            raise ValueError("this term info was read without its posting list")
        return self._postings(self._offset, -self._length, self._df)

    def _documents(self):
        docs = self.documents()
        self._minid, self._maxid = int(docs[0]), int(docs[-1])

    def min_id(self):
        if self._minid is None:
            self._documents()
        return self._minid

    def max_id(self):
        if self._maxid is None:
            self._documents()
        return self._maxid


def info_weight(info: bytes, boost: float) -> float:
    if not info[0] & _COMPACT:
        return _FLOAT.unpack_from(info, 1)[0]  # W3: flags, then the weight
    return unpack_info(info, boost)._weight


def info_doc_frequency(info: bytes) -> int:
    if not info[0] & _COMPACT:
        return struct.unpack_from("!I", info, 5)[0]  # W3: flags, weight, then the df
    return 1 if info[0] & _SINGLE else _varints(info, 1)[0][0]


def _varints(data: bytes, count: int) -> tuple[list[int], int]:
    out, at = [], 1
    for _ in range(count):
        value, at = read_varint(data, at, "term info")
        out.append(value)
    return out, at


def is_compact_info(info: bytes) -> bool:
    return bool(info[0] & _COMPACT)


def compact_extents(infos: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(df, offset, list length) of many compact infos at once, their varints decoded in one pass (a prefix over a
    bigram field reads thousands: one at a time, that was most of a one-character word's cost)."""
    if not infos:
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    single = np.fromiter((info[0] & _SINGLE for info in infos), dtype=bool, count=len(infos))
    # the varints only: a trailing float32 weight would read as varint bytes
    body = b"".join(info[1:-4] if info[0] & _WEIGHT else info[1:] for info in infos)
    numbers = decode_varints(np.frombuffer(body, dtype=np.uint8))
    width = np.where(single, 4, 7)
    if numbers.size != int(width.sum()):
        raise ValueError("corrupt term info: the wrong number of statistics")
    first = np.cumsum(width) - width
    df = np.where(single, 1, numbers[first])
    # offset and length are the last two numbers of either layout
    return df, numbers[first + width - 2], numbers[first + width - 1]
