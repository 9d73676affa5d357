"""Building Whoosh segments in bulk.

Whoosh's writer handles every posting several times in Python (a tuple into a pool, a sort, a per-posting loop with
order checks and length look-ups); with two analyses of every text that is most of the indexing time. Here a batch of
documents is analysed once per text, its postings are gathered per term in compact arrays, and the segment is written
term by term through the same codec writers Whoosh uses — so the files are ordinary Whoosh segments, read by the
ordinary searcher, and identical in content to what `IndexWriter.add_document` would have produced (a test checks).

Segments are built in worker processes and committed by the parent, which holds the index lock.
"""
from __future__ import annotations

import os
from array import array
from collections.abc import Sequence

from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import W3Codec
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.analysis import NgramTokenizer, WordTokenizer, ngram_positions, normalize_text, word_spans


class _Postings:
    """One term's postings in a segment under construction."""

    __slots__ = ("docs", "weights", "values")

    def __init__(self):
        self.docs = array("I")
        self.weights = array("f")
        self.values: list[bytes] = []


def _text_items(field, positions: dict[str, list[int]]):
    """(term bytes, frequency, weight, encoded value) per distinct term, as the field's format would make them."""
    fmt = field.format
    boost = fmt.field_boost
    encode = fmt.encode
    single = _single_position_values(fmt)  # most terms occur once in a document: their encodings repeat
    out = []
    for term, found in positions.items():
        if len(found) == 1:
            pos = found[0]
            value = single.get(pos)
            if value is None:
                value = single[pos] = encode(found)
            out.append((term.encode("utf-8"), 1, boost, value))
        else:
            out.append((term.encode("utf-8"), len(found), len(found) * boost, encode(found)))
    return out


_SINGLES: dict[type, dict[int, bytes]] = {}


def _single_position_values(fmt) -> dict[int, bytes]:
    return _SINGLES.setdefault(type(fmt), {})


def analyse(field, value: str, cache: dict):
    """The postings of one field value: the fast path for newsearch's own analyzers, Whoosh's for the rest."""
    analyzer = getattr(field, "analyzer", None)
    if isinstance(analyzer, (WordTokenizer, NgramTokenizer)) and isinstance(value, str):
        text = cache.get(value)
        if text is None:
            text = cache[value] = normalize_text(value)
        if isinstance(analyzer, NgramTokenizer):
            return _text_items(field, ngram_positions(text))
        positions: dict[str, list[int]] = {}
        for pos, i, j, _ in word_spans(text):
            positions.setdefault(text[i:j], []).append(pos)
        return _text_items(field, positions)
    return list(field.index(value))


def build_segment(storage, indexname: str, schema, docs: Sequence[dict]):
    """Write `docs` (dicts as for `IndexWriter.add_document`) as one new segment in `storage`; return the segment,
    ready to be listed in a table of contents."""
    codec = default_codec()
    if not isinstance(codec, W3Codec):  # pragma: no cover - the pinned whoosh3 writes W3 segments
        raise RuntimeError("bulk segments need Whoosh's W3 codec")
    segment = codec.new_segment(storage, indexname)
    perdoc = codec.per_document_writer(storage, segment)
    postings: dict[str, dict[bytes, _Postings]] = {}
    lengths: dict[str, array] = {}
    for docnum, fields in enumerate(docs):
        perdoc.start_doc(docnum)
        cache: dict = {}
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                table = postings.setdefault(fieldname, {})
                for tbytes, freq, weight, vbytes in analyse(field, value, cache):
                    if field.scorable:
                        length += freq
                    entry = table.get(tbytes)
                    if entry is None:
                        entry = table[tbytes] = _Postings()
                    entry.docs.append(docnum)
                    entry.weights.append(weight)
                    if vbytes:
                        entry.values.append(vbytes)
            if length:
                field_lengths = lengths.get(fieldname)
                if field_lengths is None:
                    field_lengths = lengths[fieldname] = array("I", bytes(4 * len(docs)))
                # what a reader will see: lengths are stored as one lossy byte
                field_lengths[docnum] = byte_to_length(length_to_byte(length))
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column is not None:
                perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        perdoc.finish_doc()
    perdoc.close()

    writer = codec.field_writer(storage, segment)
    for fieldname in sorted(postings):
        writer.start_field(fieldname, schema[fieldname])
        field_lengths = lengths.get(fieldname)
        table = postings[fieldname]
        for tbytes in sorted(table):
            writer.start_term(tbytes)
            _write_term(writer._postwriter, table[tbytes], field_lengths)
            writer.finish_term()
        writer.finish_field()
    writer.close()
    segment.set_doc_count(len(docs))
    if segment.should_assemble():
        segment.create_compound_file(storage)
        segment.compound = True
    return segment


def _write_term(postwriter, entry: _Postings, field_lengths: array | None) -> None:
    """Fill the codec's block buffer a block at a time (the per-posting `add_posting` does the same one by one)."""
    limit = postwriter._blocklimit
    n = len(entry.docs)
    has_values = bool(entry.values)
    for start in range(0, n, limit):
        end = min(n, start + limit)
        if start:
            postwriter._write_block()
        ids = entry.docs[start:end]
        weights = entry.weights[start:end]
        postwriter._ids = ids
        postwriter._weights = weights
        postwriter._values = entry.values[start:end] if has_values else []
        postwriter._maxweight = max(weights)
        if field_lengths is not None:
            block_lengths = [field_lengths[d] for d in ids if field_lengths[d]]
            if block_lengths:
                postwriter._minlength = min(block_lengths)
                postwriter._maxlength = max(block_lengths)


def worker_count() -> int:
    """Processes for building segments: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)

