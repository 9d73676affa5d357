"""Segment files are read in place from the compound file's mmap, with the file interface Whoosh expects."""

from __future__ import annotations

import io

import pytest
from whoosh import index as whoosh_index

from search.index.codec.mapped import ViewFile


def test_a_view_file_reads_and_seeks_as_bytesio_does():
    data = bytes(range(256)) * 40
    view, copy = ViewFile(memoryview(data)[100:9000]), io.BytesIO(data[100:9000])
    steps = [
        ("read", 10),
        ("seek", (500, io.SEEK_SET)),
        ("read", 3),
        ("seek", (-20, io.SEEK_END)),
        ("read", 50),
        ("read", 5),
        ("seek", (-30, io.SEEK_CUR)),
        ("read", None),
        ("seek", (10_000, io.SEEK_SET)),
        ("read", 4),
        ("seek", (7, io.SEEK_SET)),
        ("read", -1),
    ]
    for op, arg in steps:
        if op == "read":
            assert view.read(arg) == copy.read(arg)
        else:
            assert view.seek(*arg) == copy.seek(*arg)
        assert view.tell() == copy.tell()
    buffer, expected = bytearray(16), bytearray(16)
    view.seek(40), copy.seek(40)
    assert view.readinto(buffer) == copy.readinto(expected) and buffer == expected
    with pytest.raises(ValueError):
        view.seek(-1)


def test_an_open_segment_holds_no_copy_of_its_files(seed_index):
    ix = whoosh_index.open_dir(str(seed_index))
    with ix.reader() as reader:
        leaf = reader.leaf_readers()[0][0]
        postings = leaf._terms._postfile
        assert isinstance(postings.file, ViewFile)
        assert isinstance(postings._buf, memoryview)  # the mmap itself, not bytes
        first = postings.get(0, 16)
        postings.seek(0)
        assert postings.read(16) == first
