"""Where an index lives and who may write it: open (checked to be one this version reads), create, clear, and the
locks that keep to one writer at a time."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import FileIndex, LockError
from whoosh.writing import IndexWriter

from search.errors import IndexLocked, IndexUnavailable
from search.index.manifest import MANIFEST_FILE
from search.index.schema import SCHEMA_VERSION, build_schema

META_FILE = "newsearch.json"
ANALYZERS = ("search.analysis.WordTokenizer", "search.analysis.NgramTokenizer", "rjieba-0.2.2")


def index_exists(index_dir: str | Path) -> bool:
    return Path(index_dir).is_dir() and whoosh_index.exists_in(str(index_dir))


def open_index(index_dir: str | Path) -> FileIndex:
    """The index at `index_dir`, checked to be one this version of newsearch can read."""
    index_dir = Path(index_dir)
    if not index_exists(index_dir):
        raise IndexUnavailable(f"no index at {index_dir}: run `newsearch index` to build one")
    meta_path = index_dir / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise IndexUnavailable(
            f"the index at {index_dir} was built by another version of newsearch "
            f"(schema {meta.get('schema_version', 'unknown')}, this version reads {SCHEMA_VERSION}): "
            "run `newsearch index --rebuild` to rebuild it"
        )
    try:
        return whoosh_index.open_dir(str(index_dir))
    except Exception as exc:  # a damaged or foreign index: say so instead of a traceback
        raise IndexUnavailable(
            f"cannot open the index at {index_dir}: {exc}; run `newsearch index --rebuild` to rebuild it"
        ) from exc


def create_index(index_dir: str | Path) -> FileIndex:
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    (index_dir / MANIFEST_FILE).unlink(missing_ok=True)  # a manifest describes only the index it came with
    # The version stamp first: a run killed between the two leaves no index (created afresh next run) rather than
    # an index without a stamp (which would be refused as "built by another version").
    meta = {"schema_version": SCHEMA_VERSION, "analyzers": list(ANALYZERS)}
    (index_dir / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return whoosh_index.create_in(str(index_dir), build_schema())


def clear_index(index_dir: str | Path) -> None:
    """Remove the index files (and only those) from `index_dir`."""
    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        return
    for entry in index_dir.iterdir():
        if entry.name.startswith(".") or entry.name == "README.md":
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def open_or_create(index_dir: str | Path, rebuild: bool = False) -> FileIndex:
    if rebuild:
        check_unlocked(index_dir)
        clear_index(index_dir)
    if index_exists(index_dir):
        return open_index(index_dir)
    return create_index(index_dir)


def check_unlocked(index_dir: str | Path) -> None:
    if index_exists(index_dir):
        try:
            ix = whoosh_index.open_dir(str(index_dir))
        except Exception:
            return  # unreadable: rebuilding is what the user asked for
        with run_lock(ix, index_dir):
            writer = open_writer(ix, index_dir)
            writer.cancel()


def open_writer(ix: FileIndex, index_dir: str | Path) -> IndexWriter:
    try:
        return ix.writer(limitmb=256)
    except LockError:
        raise IndexLocked(
            f"the index at {index_dir} is locked by another writer (another `newsearch index` is "
            "running); wait for it to finish"
        ) from None


@contextmanager
def run_lock(ix: FileIndex, index_dir: str | Path) -> Iterator[None]:
    """Held for a whole sync or delete (whoosh's own write lock is let go at each batch commit), so a second writer
    is refused at once instead of slipping in between batches."""
    lock = ix.lock("SYNC")
    if not lock.acquire(blocking=False):
        raise IndexLocked(
            f"the index at {index_dir} is locked by another writer (another `newsearch index` is "
            "running); wait for it to finish"
        )
    try:
        yield
    finally:
        lock.release()
