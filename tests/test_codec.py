"""Compact posting lists (search/codec.py) decode to exactly what was encoded, and say so when they are damaged."""
from __future__ import annotations

import numpy as np
import pytest

from search.codec import bit_widths, compact_lists, pack_bits, read_compact, unpack_bits


class _Bytes:
    """The `get(offset, length)` a segment file offers."""

    def __init__(self, data: bytes):
        self.data = data

    def get(self, offset: int, length: int):
        return memoryview(self.data)[offset:offset + length]


def _random_postings(rng, terms: int, docs: int):
    rows = []
    for term in range(terms):
        df = int(rng.choice([1, 2, 5, 40, 300]))
        for doc in np.sort(rng.choice(docs, size=min(df, docs), replace=False)):
            count = int(rng.choice([1, 1, 1, 2, 3, 200]))
            positions = np.sort(rng.choice(70000 if term % 7 == 0 else 900, size=count, replace=False))
            rows.append((term, int(doc), positions))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lists_round_trip(seed):
    rng = np.random.default_rng(seed)
    rows = _random_postings(rng, 60, 5000)
    rows.append((60, 0, np.array([0])))  # a list whose positions take no bits at all
    term_of = np.array([r[0] for r in rows])
    docs = np.array([r[1] for r in rows])
    counts = np.array([r[2].size for r in rows])
    positions = np.concatenate([r[2] for r in rows])
    blob, ranges, first, df = compact_lists(term_of, docs, counts, positions)
    assert ranges.size == 62 and first.tolist() == np.flatnonzero(np.diff(term_of, prepend=-1)).tolist()
    data = _Bytes(blob.tobytes())
    deflated = 0
    for t in range(61):
        got_docs, got_counts, got_positions = read_compact(data, int(ranges[t]), int(ranges[t + 1] - ranges[t]),
                                                           int(df[t]))
        mine = [r for r in rows if r[0] == t]
        assert got_docs.tolist() == [r[1] for r in mine]
        assert got_counts.tolist() == [r[2].size for r in mine]
        assert got_positions.tolist() == np.concatenate([r[2] for r in mine]).tolist()
        deflated += blob[ranges[t]] & 1  # the header's low bit (every stream here is under 64 bytes or deflated)
    assert deflated > 0  # the long document streams were deflated
    assert data.get(int(ranges[60]), int(ranges[61] - ranges[60])).tobytes()[1] == 0  # width 0: no position bits


def test_damaged_lists_are_errors():
    blob, ranges, _, df = compact_lists(np.array([0, 0, 0]), np.array([3, 9, 4000]), np.array([1, 2, 1]),
                                        np.array([5, 7, 900, 12]))
    good = blob.tobytes()
    assert read_compact(_Bytes(good), 0, len(good), 3)[0].tolist() == [3, 9, 4000]
    with pytest.raises(ValueError, match="corrupt"):
        read_compact(_Bytes(good), 0, len(good), 4)  # the term info promises a posting the list lacks
    with pytest.raises(ValueError, match="corrupt"):
        read_compact(_Bytes(good[:-1]), 0, len(good) - 1, 3)  # positions cut short
    with pytest.raises(ValueError, match="corrupt"):
        read_compact(_Bytes(b"\x80"), 0, 1, 1)  # a header that never ends


def test_bits_pack_and_unpack():
    rng = np.random.default_rng(7)
    for width in (1, 3, 8, 11, 17, 31, 32):
        values = rng.integers(0, 1 << width, size=1000)
        values[0] = (1 << width) - 1
        packed = pack_bits(values, np.arange(1000) * width, (1000 * width + 7) // 8, width)
        assert packed.size == (1000 * width + 7) // 8
        assert unpack_bits(packed.tobytes(), 1000, width).tolist() == values.tolist()
    assert bit_widths(np.array([0, 1, 2, 3, 4, 255, 256, 2**31 - 1, 2**31])).tolist() == [0, 1, 2, 2, 3, 8, 9, 31, 32]
