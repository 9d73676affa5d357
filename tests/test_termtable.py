"""The compact term dictionary answers lookups and ordered walks exactly as a sorted dict would, across blocks."""

from __future__ import annotations

import random

import pytest
from whoosh.filedb.filestore import RamStorage

from search.index.codec.termtable import TermTableReader, TermTableWriter


@pytest.fixture()
def table(monkeypatch):
    monkeypatch.setattr("search.index.codec.termtable.BLOCK", 7)  # many blocks, so walks and lookups cross block edges
    rng = random.Random(2)
    words = sorted(
        {"".join(rng.choice("株洲市复工产疫情ab") for _ in range(rng.randint(1, 5))).encode() for _ in range(600)}
    )
    pairs = {w: rng.randbytes(rng.randint(0, 40)) for w in words}
    storage = RamStorage()
    writer = TermTableWriter(storage.create_file("t"))
    keys = list(pairs)
    for k in keys[:100]:
        writer.add(k, pairs[k])
    writer.add_many(keys[100:], [pairs[k] for k in keys[100:]])
    writer.extras["fieldmap"] = {"body": 0}
    writer.close()
    return TermTableReader(storage.open_file("t"), storage.file_length("t")), pairs


def test_lookups_and_walks_match_a_sorted_dict(table):
    reader, pairs = table
    keys = sorted(pairs)
    assert reader.extras == {"fieldmap": {"body": 0}}
    assert list(reader.items()) == sorted(pairs.items())
    for key in keys[::13]:
        assert reader[key] == pairs[key] and key in reader
        assert list(reader.keys_from(key)) == keys[keys.index(key) :]
    for probe in (b"", b"a", "株洲".encode(), b"\xff", keys[5] + b"\x00"):
        expected = [k for k in keys if k >= probe]
        assert list(reader.keys_from(probe)) == expected
        assert (probe in reader) == (probe in pairs)
    with pytest.raises(KeyError):
        reader[b"\xff\xff"]


def test_keys_must_increase():
    writer = TermTableWriter(RamStorage().create_file("t"))
    writer.add(b"b", b"")
    with pytest.raises(ValueError):
        writer.add(b"a", b"")
    with pytest.raises(ValueError):
        writer.add_many([b"b"], [b""])


def test_a_segment_cursor_walks_the_fields_terms(engine):
    reader = engine.searcher().reader()
    leaf = reader.leaf_readers()[0][0] if hasattr(reader, "leaf_readers") else reader
    terms = list(leaf.field_terms("headline"))
    cursor = leaf.cursor("headline")
    walked = [cursor.text()]
    while cursor.next() is not None:
        walked.append(cursor.text())
    assert walked == terms and len(terms) > 100
    assert cursor.find(terms[10]) == terms[10] and cursor.term_info().doc_frequency() >= 1
