"""Opening, creating and filling the index.

Articles are written in batches, each its own commit, so a killed run keeps every batch committed before the kill;
an article whose id is already in the index is skipped, which makes re-running the same files a no-op.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError

from search.errors import IndexLocked, IndexUnavailable
from search.schema import SCHEMA_VERSION, build_schema, to_document

META_FILE = "newsearch.json"
BATCH_SIZE = 2000
ANALYZERS = ("search.analysis.WordTokenizer", "search.analysis.NgramTokenizer")


@dataclass
class IndexSummary:
    files: int = 0
    added: int = 0
    skipped: int = 0
    failed: int = 0  # files that could not be read (or lines of a bulk file that were rejected)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"files": self.files, "added": self.added, "skipped": self.skipped, "failed": self.failed,
                "errors": self.errors}


def index_exists(index_dir: str | Path) -> bool:
    return Path(index_dir).is_dir() and whoosh_index.exists_in(str(index_dir))


def open_index(index_dir: str | Path):
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
            "run `newsearch index --rebuild` to rebuild it")
    try:
        return whoosh_index.open_dir(str(index_dir))
    except Exception as exc:  # a damaged or foreign index: say so instead of a traceback
        raise IndexUnavailable(f"cannot open the index at {index_dir}: {exc}; "
                               "run `newsearch index --rebuild` to rebuild it") from exc


def create_index(index_dir: str | Path):
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), build_schema())
    meta = {"schema_version": SCHEMA_VERSION, "analyzers": list(ANALYZERS)}
    (index_dir / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return ix


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


def open_or_create(index_dir: str | Path, rebuild: bool = False):
    if rebuild:
        _check_unlocked(index_dir)
        clear_index(index_dir)
    if index_exists(index_dir):
        return open_index(index_dir)
    return create_index(index_dir)


def _check_unlocked(index_dir: str | Path) -> None:
    if index_exists(index_dir):
        try:
            ix = whoosh_index.open_dir(str(index_dir))
        except Exception:
            return  # unreadable: rebuilding is what the user asked for
        writer = _writer(ix, index_dir)
        writer.cancel()


def _writer(ix, index_dir):
    try:
        return ix.writer(limitmb=256)
    except LockError:
        raise IndexLocked(f"the index at {index_dir} is locked by another writer (another `newsearch index` is "
                          "running); wait for it to finish") from None


def index_paths(index_dir: str | Path, paths: Iterable[str | Path], rebuild: bool = False,
                on_file: Callable[[str], None] | None = None) -> IndexSummary:
    """Read `paths` (files or directories) and add their articles to the index at `index_dir`."""
    from search.ingest import iter_files, read_file

    files = list(iter_files(paths))
    summary = IndexSummary()
    ix = open_or_create(index_dir, rebuild=rebuild)
    with ix.reader() as reader:
        known = set(reader.field_terms("id"))
    writer = _writer(ix, index_dir)
    pending = 0
    try:
        for path in files:
            result = read_file(path)
            summary.files += 1
            if result.error:
                summary.failed += 1
                summary.errors.append(result.error)
            for article in result.articles:
                if article.id in known:
                    summary.skipped += 1
                    continue
                known.add(article.id)
                writer.add_document(**to_document(article))
                summary.added += 1
                pending += 1
            if pending >= BATCH_SIZE:
                writer.commit()
                writer = _writer(ix, index_dir)
                pending = 0
            if on_file:
                on_file(str(path))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return summary
