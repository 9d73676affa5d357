"""What the index keeps per document and per segment, read straight from Whoosh's segment files: columns (`seq`),
deletions, segment identity, and a field's document frequencies from the term table. The reaches into Whoosh's
private reader attributes for these live here, so an upgrade of Whoosh is checked in one place."""

from __future__ import annotations

import numpy as np

from search.index.codec.terminfo import CompactTermInfo, info_doc_frequency


def seq_numbers(reader) -> np.ndarray:
    """Every document's `seq` (its place in the archive's indexing order; 0 where none was written), read from
    each segment's column at once instead of value by value."""
    out = np.zeros(reader.doc_count_all(), dtype=np.int64)
    if "seq" not in reader.schema:
        return out
    for leaf, offset in reader.leaf_readers():
        if not hasattr(leaf, "_perdoc") or not leaf._perdoc.has_column("seq"):  # an empty index's reader has none
            continue
        column = leaf._perdoc.column_reader("seq", reader.schema["seq"].column_type)
        count = min(column._count, leaf.doc_count_all())
        if count:
            raw = column._dbfile.get(column._basepos, count * column._fixedlen)
            out[offset : offset + count] = np.frombuffer(raw, dtype=">u8")
    return out


def segment_identity(leaf) -> object:
    # Segments never change once written (deletions are kept apart), so their postings can be cached by segment id.
    segment = leaf.segment()
    return segment.segment_id() if segment is not None else id(leaf)


def segment_version(leaf) -> tuple | None:
    """A segment and its deletions; None for a reader that is not one segment's."""
    segment = leaf.segment()
    return None if segment is None else (segment.segment_id(), segment.deleted_count())


def deleted_docs(leaf):
    found = getattr(leaf, "deleted_docs_set", None)
    if found is not None:
        return found
    return (d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d))


def doc_frequencies(leaf, fieldname: str) -> list[tuple[bytes, int]]:
    """(term, document frequency) of one segment's field, read straight from its term table when it has one (the
    term infos themselves are not needed)."""
    terms = getattr(leaf, "_terms", None)
    table = getattr(terms, "_tindex", None)
    if terms is None or table is None or not hasattr(terms, "_keycoder") or not hasattr(table, "items_from"):
        return [(term, info.doc_frequency()) for term, info in leaf.iter_field(fieldname)]
    prefix = terms._keycoder(fieldname, b"")
    out = []
    for key, value in table.items_from(prefix):
        if not key.startswith(prefix):
            break
        out.append((key[len(prefix) :], info_doc_frequency(value)))
    return out


def field_documents(reader, fieldname: str):
    """(term, document numbers) of every term of `fieldname`, segment by segment (numbers are the whole reader's).
    A segment's terms are walked in order and each compact list's documents decoded alone: a matcher per term
    (what `reader.postings` builds) made reading the ids of a 36k-article index take a minute."""
    for leaf, offset in reader.leaf_readers():
        terms = getattr(leaf, "_terms", None)
        if terms is None or not hasattr(terms, "items_from"):
            for term in leaf.field_terms(fieldname):
                yield term, [d + offset for d in leaf.postings(fieldname, term).all_ids()]
            continue
        for (field, term), info in terms.items_from(fieldname, b""):
            if field != fieldname:
                break
            if isinstance(info, CompactTermInfo):
                docs = info.documents()
            else:  # a list Whoosh wrote in its own format
                docs = list(leaf.postings(fieldname, term).all_ids())
            yield term, [int(d) + offset for d in docs]
