"""Stored fields (search/index/codec/stored.py): exactly what went in comes out, in any order, smaller than W3 kept them."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import pytest
from conftest import SEEDS

from search.index.codec.stored import BLOCK_DOCS, STORED, deserialize, serialize


class _File:
    """An in-memory file with the write/get a column sees."""

    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        self.data += b

    def get(self, offset, length):
        return bytes(self.data[offset : offset + length])


def _column(docs: dict[int, object], doccount: int):
    f = _File()
    writer = STORED.writer(f)
    for docnum in sorted(docs):
        writer.fill(docnum)
        writer.add(docnum, docs[docnum])
    writer.finish(doccount)
    return f, STORED.reader(f, 0, len(f.data), doccount)


MIXED = {
    "id": "a1",
    "headline": "株洲：“红色引擎”激活基层治理",
    "body": "正文 𠀀𠮷 emoji 🙂 Ünïcödé\tand\nlines",
    "empty": "",
    "ordinal": 12,
    "big": 2**70,
    "ratio": 0.25,
    "none": None,
}


@pytest.mark.parametrize("doccount", [1, BLOCK_DOCS, BLOCK_DOCS + 1, 3 * BLOCK_DOCS + 5])
def test_round_trip_in_any_order(doccount):
    docs = {d: dict(MIXED, id=f"doc{d}", ordinal=d) for d in range(doccount) if d % 5 != 3}  # some have none
    _, reader = _column(docs, doccount)
    order = list(range(doccount))
    for docnum in order[::-1] + order[::3] + order:
        assert reader[docnum] == docs.get(docnum)
    assert list(reader) == [docs.get(d) for d in range(doccount)]
    with pytest.raises(IndexError):
        reader[doccount]


def test_values_json_cannot_keep_are_kept_exactly():
    odd = {"tuple": (1, "二"), "bytes": b"\x00\xff", "flag": True, 3: "int key", "nan": float("nan")}
    assert serialize(odd)[:1] == b"p"
    back = deserialize(serialize(odd))
    assert back["tuple"] == (1, "二") and back["bytes"] == b"\x00\xff" and back["flag"] is True
    assert back[3] == "int key" and back["nan"] != back["nan"]
    assert serialize({"flag": False})[:1] == b"p"  # bool: JSON would keep it, but not as the int isinstance says
    lone = {"body": "broken \ud800 surrogate"}  # GB18030 cannot encode it: UTF-8 with surrogates passed through
    assert serialize(lone)[:1] == b"u" and deserialize(serialize(lone)) == lone
    assert serialize(MIXED)[:1] == b"g" and deserialize(serialize(MIXED)) == MIXED


def test_large_document_and_damage_are_errors_not_empty_dicts():
    big = {"body": "长" * 50_000}
    f, reader = _column({0: big, 1: {"id": "x"}}, 2)
    assert reader[0] == big and reader[1] == {"id": "x"}
    damaged = bytearray(f.data)
    damaged[-20] ^= 0xFF
    f.data = damaged
    with pytest.raises(ValueError, match="corrupt stored fields"):
        STORED.reader(f, 0, len(f.data), 2)[0]
    with pytest.raises(ValueError, match="corrupt stored fields"):
        STORED.reader(f, 0, len(f.data), 3)  # the column holds 2 documents, not 3
    with pytest.raises(ValueError, match="corrupt stored fields"):
        deserialize(b"?whatever")


def test_index_stores_the_seeds_exactly_and_smaller_than_w3(tmp_path):
    from search.index.schema import to_document
    from search.index.store import create_index
    from search.index.writer import build_segments, commit_segments
    from search.ingest import read_file

    documents = [to_document(a) for f in sorted(Path(SEEDS).iterdir()) for a in read_file(f).articles]
    ix = create_index(tmp_path / "ix")
    commit_segments(ix.writer(), build_segments(ix, documents))
    with ix.reader() as reader:
        stored = list(reader.all_stored_fields())
        assert len(stored) == len(documents)
        expected = [{k: v for k, v in d.items() if ix.schema[k].stored} for d in documents]
        assert stored == expected
        assert reader.stored_fields(len(documents) - 1) == expected[-1]
        segment = reader.segment()
        files = segment.open_compound_file(ix.storage)
        size = files.file_length(next(n for n in files.list() if n.endswith("_stored.col")))
    w3 = sum(len(zlib.compress(pickle.dumps(d, 2), 3)) for d in expected)  # what W3's column holds
    text = sum(len((d.get("headline", "") + d.get("body", "")).encode("utf-8")) for d in expected)
    # measured on the seeds: 0.66 of W3's and 0.46 of the text (a few blocks; on a benchmark segment of 15,000
    # articles: 0.48 of W3's, 0.40 of the text)
    assert size < 0.72 * w3
    assert size < 0.5 * text
