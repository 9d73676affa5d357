"""Compact posting lists (search/index/codec/postings.py) decode to exactly what was encoded, and say so when they are damaged."""

from __future__ import annotations

import numpy as np
import pytest

from search.index.codec.postings import (
    BY_DOCUMENT,
    bit_widths,
    compact_lists,
    pack_bits,
    read_compact,
    read_compact_documents,
    unpack_bits,
)


class _Bytes:
    """The `get(offset, length)` a segment file offers."""

    def __init__(self, data: bytes):
        self.data = data

    def get(self, offset: int, length: int):
        return memoryview(self.data)[offset : offset + length]


def _random_postings(rng, terms: int, docs: int):
    rows = []
    for term in range(terms):
        df = int(rng.choice([1, 2, 5, 40, 300]))
        for doc in np.sort(rng.choice(docs, size=min(df, docs), replace=False)):
            count = int(rng.choice([1, 1, 1, 2, 3, 200]))
            positions = np.sort(rng.choice(70000 if term % 7 == 0 else 900, size=count, replace=False))
            rows.append((term, int(doc), positions))
    return rows


@pytest.mark.parametrize("seed,by_document", [(0, False), (1, False), (2, True), (3, True)])
def test_lists_round_trip(seed, by_document):
    rng = np.random.default_rng(seed)
    rows = _random_postings(rng, 60, 5000)
    rows.append((60, 0, np.array([0])))  # a list whose positions take no bits at all
    term_of = np.array([r[0] for r in rows])
    docs = np.array([r[1] for r in rows])
    counts = np.array([r[2].size for r in rows])
    positions = np.concatenate([r[2] for r in rows])
    doc_widths = None
    if by_document:  # each document's positions at the width of its largest (in any term)
        largest = np.zeros(5000, dtype=np.int64)
        np.maximum.at(largest, np.repeat(docs, counts), positions)
        doc_widths = bit_widths(largest).astype(np.uint8)
    blob, ranges, first, df = compact_lists(term_of, docs, counts, positions, doc_widths)
    assert ranges.size == 62 and first.tolist() == np.flatnonzero(np.diff(term_of, prepend=-1)).tolist()
    data = _Bytes(blob.tobytes())
    deflated = 0
    for t in range(61):
        got_docs, got_counts, got_positions = read_compact(
            data, int(ranges[t]), int(ranges[t + 1] - ranges[t]), int(df[t]), doc_widths
        )
        mine = [r for r in rows if r[0] == t]
        assert got_docs.tolist() == [r[1] for r in mine]
        assert got_counts.tolist() == [r[2].size for r in mine]
        assert got_positions.tolist() == np.concatenate([r[2] for r in mine]).tolist()
        deflated += blob[ranges[t]] & 1  # the header's low bit (every stream here is under 64 bytes or deflated)
    assert deflated > 0  # the long document streams were deflated
    widths = [blob[ranges[t] + 1 + (blob[ranges[t]] >= 0x80)] for t in range(61)]  # after a 1- or 2-byte header
    assert (BY_DOCUMENT in widths) == by_document  # lists of few-position documents take their documents' widths
    if by_document:
        t = widths.index(BY_DOCUMENT)
        with pytest.raises(ValueError, match="corrupt"):
            read_compact(data, int(ranges[t]), int(ranges[t + 1] - ranges[t]), int(df[t]))  # the widths are needed
    assert data.get(int(ranges[60]), int(ranges[61] - ranges[60])).tobytes()[1] == 0  # width 0: no position bits


def test_many_lists_documents_read_at_once():
    """A prefix's lists read together (one-character words) give each list's documents, deflated streams too."""
    rng = np.random.default_rng(5)
    rows = _random_postings(rng, 80, 5000)
    term_of = np.array([r[0] for r in rows])
    docs = np.array([r[1] for r in rows])
    counts = np.array([r[2].size for r in rows])
    blob, ranges, _, df = compact_lists(term_of, docs, counts, np.concatenate([r[2] for r in rows]))
    data = _Bytes(blob.tobytes())
    picked = np.array([0, 3, 4, 17, 40, 41, 79])
    assert any(blob[ranges[t]] & 1 for t in picked) and not all(blob[ranges[t]] & 1 for t in picked)
    got = read_compact_documents(data, df[picked], ranges[picked], ranges[picked + 1] - ranges[picked])
    assert got.tolist() == [r[1] for t in picked.tolist() for r in rows if r[0] == t]
    with pytest.raises(ValueError, match="corrupt"):  # a term info promising more postings than its list holds
        read_compact_documents(data, df[picked] + 1000, ranges[picked], ranges[picked + 1] - ranges[picked])


def test_damaged_lists_are_errors():
    blob, ranges, _, df = compact_lists(
        np.array([0, 0, 0]), np.array([3, 9, 4000]), np.array([1, 2, 1]), np.array([5, 7, 900, 12])
    )
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


def test_term_infos_round_trip_as_w3_reads_them():
    from whoosh.codec.whoosh3 import W3TermInfo
    from whoosh.util.numeric import byte_to_length

    from search.index.codec.terminfo import compact_extents, info_doc_frequency, info_weight, pack_infos, unpack_info

    arr = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    infos = pack_infos(
        df=arr(1, 40, 3),
        total_count=arr(2, 75, 3),
        max_count=arr(2, 9, 1),
        weight_sum=np.array([3.0, 112.5, 1.25]),
        boost=1.5,
        min_length_byte=arr(20, 3, 7),
        max_length_byte=arr(20, 90, 8),
        offset=arr(0, 12, 70000),
        length=arr(12, 69988, 5),
    )
    assert len(infos[0]) < 7 and len(infos[1]) < 12  # W3's record: 35 bytes
    lists = {0: np.array([7]), 12: np.array([0, 55, 9000])}  # what the posting lists hold (first and last matter)
    single, many, odd = (unpack_info(i, 1.5, lambda offset, length, df: lists[offset]) for i in infos)
    assert (single.doc_frequency(), single.weight(), single.max_weight(), single.min_id(), single.max_id()) == (
        1,
        3.0,
        3.0,
        7,
        7,
    )
    assert single.min_length() == single.max_length() == byte_to_length(20)
    assert single.extent() == (0, -12)
    assert (many.doc_frequency(), many.weight(), many.max_weight(), many.min_id(), many.max_id()) == (
        40,
        112.5,
        13.5,
        0,
        9000,
    )
    assert (many.min_length(), many.max_length(), many.extent()) == (
        byte_to_length(3),
        byte_to_length(90),
        (12, -69988),
    )
    assert odd.weight() == 1.25  # a weight sum that is not count × boost is kept as it was
    with pytest.raises(ValueError, match="without its posting list"):
        unpack_info(infos[2], 1.5).min_id()
    assert [info_doc_frequency(i) for i in infos] == [1, 40, 3]
    # many infos' extents at once, for a prefix's lists (one of them carries its own weight after the varints)
    df, offset, length = compact_extents(infos)
    assert (df.tolist(), offset.tolist(), length.tolist()) == ([1, 40, 3], [0, 12, 70000], [12, 69988, 5])
    assert [info_weight(i, 1.5) for i in infos] == [3.0, 112.5, 1.25]

    w3 = W3TermInfo(weight=2.0, df=2, minlength=3, maxlength=4, maxweight=1.0, minid=5, maxid=9)
    w3.set_extent(100, 20)
    packed = w3.to_bytes()
    assert info_doc_frequency(packed) == 2 and info_weight(packed, 1.5) == 2.0
    assert unpack_info(packed, 1.5).extent()[0] == 100  # W3 infos (lists Whoosh's writer merged) read as before
