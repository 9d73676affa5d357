"""Bulk-built segments hold exactly what Whoosh's own writer would have written for the same documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS

from search.index.schema import to_document
from search.index.store import create_index
from search.index.writer import build_segments, commit_segments
from search.ingest import read_file


def postings(reader, fieldname, term):
    matcher = reader.postings(fieldname, term)
    out = []
    while matcher.is_active():
        out.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return out


def term_stats(reader, fieldname, term):
    info = reader.term_info(fieldname, term)
    return (
        info.weight(),
        info.doc_frequency(),
        info.min_length(),
        info.max_length(),
        info.max_weight(),
        info.min_id(),
        info.max_id(),
    )


# 7 documents a chunk, 50 postings a slice: every list merged from many chunks, every field encoded in many slices
@pytest.mark.parametrize("chunk,slice_postings", [(1000, 1 << 20), (7, 50)])
def test_bulk_segment_equals_whooshs_writer(tmp_path, monkeypatch, chunk, slice_postings):
    monkeypatch.setattr("search.index.segments.CHUNK_DOCS", chunk)
    monkeypatch.setattr("search.index.segments.SLICE_POSTINGS", slice_postings)
    documents = [to_document(a) for f in sorted(Path(SEEDS).iterdir()) for a in read_file(f).articles]
    slow, fast = create_index(tmp_path / "slow"), create_index(tmp_path / "fast")
    with slow.writer() as writer:
        for doc in documents:
            writer.add_document(**doc)
    commit_segments(fast.writer(), build_segments(fast, documents))

    with slow.reader() as a, fast.reader() as b:
        assert a.doc_count() == b.doc_count() == len(documents)
        assert list(a.all_stored_fields()) == list(b.all_stored_fields())
        assert sorted(a.indexed_field_names()) == sorted(b.indexed_field_names())
        compared = 0
        for fieldname in a.indexed_field_names():
            terms = list(a.field_terms(fieldname))
            assert terms == list(b.field_terms(fieldname)), fieldname
            for term in terms:
                assert postings(a, fieldname, term) == postings(b, fieldname, term), (fieldname, term)
                assert term_stats(a, fieldname, term) == term_stats(b, fieldname, term), (fieldname, term)
                compared += 1
            assert a.field_length(fieldname) == b.field_length(fieldname)
            for docnum in range(len(documents)):
                assert a.doc_field_length(docnum, fieldname) == b.doc_field_length(docnum, fieldname)
        assert compared > 10_000


def test_parallel_workers_write_distinct_segments(tmp_path, monkeypatch):
    """Forked workers must not reuse the parent's random state for segment names (they would overwrite each other)."""
    import search.index.writer as writer

    monkeypatch.setattr(writer, "PARALLEL_MIN", 5)
    monkeypatch.setattr("search.index.segments.worker_count", lambda: 2)
    documents = [to_document(a) for f in sorted(Path(SEEDS).iterdir()) for a in read_file(f).articles]
    ix = create_index(tmp_path / "ix")
    segments = build_segments(ix, documents)
    assert len(segments) == 2 and len({s.segment_id() for s in segments}) == 2
    commit_segments(ix.writer(), segments)
    with ix.searcher() as searcher:
        assert searcher.doc_count() == len(documents)
        assert {d["id"] for d in searcher.all_stored_fields()} == {d["id"] for d in documents}


def test_compact_positions_round_trip_and_phrases_match():
    from search.index.codec.formats import CompactPositions

    fmt = CompactPositions(field_boost=2.0)
    for positions in ([0], [5], [127, 128], [3, 200, 70000, 70001], list(range(0, 3000, 7))):
        value = fmt.encode(positions)
        assert fmt.decode_positions(value) == positions
        assert fmt.decode_frequency(value) == len(positions)
        assert fmt.decode_weight(value) == 2.0 * len(positions)
    assert len(fmt.encode([5])) == 2  # count and one gap: two bytes where a pickled list takes ten
