"""Reading a segment's files in place from the memory-mapped compound file, instead of copying each into memory.

whoosh3 3.54.0 opens a file inside a compound segment as `BufferFile(memoryview of the mmap)`, and `BufferFile` wraps
its buffer in `BytesIO(buf)` — which copies a memoryview. Every segment reader therefore held a private copy of its
postings, stored fields and term table: a searcher on a 100k-article index took about as much memory as the index
(per server worker, none of it shared), and the indexer grew by every segment it committed, since it reopens a
searcher after each commit. `ViewFile` gives `BufferFile` the file interface it needs (read, seek, tell) over the
memoryview itself, so pages come from the page cache, shared between processes.

`install()` is called when search.index.codec.postings is imported, which every reader of a newsearch index does (the index names
its codec by import path).
"""

from __future__ import annotations

import io

from whoosh.filedb import structfile


class ViewFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview, without copying it."""

    def __init__(self, view: memoryview):
        super().__init__()
        self._view = view
        self._at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        end = min(len(self._view), self._at + len(buffer))
        n = max(0, end - self._at)
        buffer[:n] = self._view[self._at : end]
        self._at += n
        return n

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._at + size)
        data = bytes(self._view[self._at : end]) if end > self._at else b""
        self._at = max(self._at, end)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._at = base + offset
        return self._at

    def tell(self) -> int:
        return self._at

    def close(self) -> None:
        self._view = memoryview(b"")  # drop the reference, so the mmap's view can be released
        super().close()


_original_init = structfile.BufferFile.__init__


def _buffer_file_init(self, buf, name=None, onclose=None):
    _original_init(self, b"" if isinstance(buf, memoryview) else buf, name=name, onclose=onclose)
    if isinstance(buf, memoryview):
        self._buf = buf
        self.file = ViewFile(buf)


def install() -> None:
    """Make `BufferFile` read memoryviews in place (idempotent)."""
    if structfile.BufferFile.__init__ is not _buffer_file_init:
        structfile.BufferFile.__init__ = _buffer_file_init  # type: ignore[method-assign]  # patching Whoosh on purpose
