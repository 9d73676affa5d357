"""Opening, creating and filling the index, and keeping it in step with the archive it was built from.

`index_paths` is a sync: a page file whose size, modification time and catalogue entry are what the manifest
recorded is skipped unread; a changed file's articles are replaced (deleted by `file`, then added); with `prune`,
the articles of files that are gone from the given directories are removed. Work is committed in batches, each
followed by an atomic manifest write, so a killed run keeps every batch committed before the kill and the
manifest never claims a file whose articles were not committed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from search.index.manifest import FileRecord, Manifest, file_key
from search.index.reprints import DuplicateTracker
from search.index.schema import to_document
from search.index.store import open_index, open_or_create, open_writer, run_lock
from search.index.writer import IndexStore
from search.ingest.limits import DEFAULT_LIMITS, Limits

BATCH_SIZE = 30000  # articles per commit: a killed run loses at most this much work


@dataclass
class IndexSummary:
    """What a run did, counted in articles (files: page files looked at; failed: files, or catalogues, that could
    not be read, and lines of a bulk file that were rejected)."""

    files: int = 0
    added: int = 0  # articles new to the index
    replaced: int = 0  # articles of changed files (or changed catalogue entries) written again under the same id
    removed: int = 0  # articles gone from changed files, of pruned files, or deleted by id
    unchanged: int = 0  # articles of files skipped because nothing about them changed
    duplicates: int = 0  # articles not added because another article already has their id
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Articles that were already indexed: unchanged, or duplicates of an indexed article."""
        return self.unchanged + self.duplicates

    @property
    def ok(self) -> bool:
        return not self.errors

    def line(self) -> str:
        return (
            f"{self.files} files: {self.added} articles added, {self.replaced} replaced, {self.removed} removed, "
            f"{self.unchanged} unchanged, {self.failed} failed"
        )

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "added": self.added,
            "replaced": self.replaced,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "failed": self.failed,
            "errors": self.errors,
        }


# A file modified this close to the run could change again within the same mtime tick unseen: record it so that
# the next run compares its content instead of trusting size and mtime.
_RACY_NS = 2_000_000_000


@dataclass
class _FileProgress:
    old: set[str]  # the ids of the file's committed articles before this run
    added: set[str] = field(default_factory=set)
    cross_file_duplicate: bool = False


_PROGRESS_STEP = 1 << 20  # a streamed file reports its progress every MiB


class _Sync:
    """One run's batch and manifest bookkeeping, over the `IndexStore` of one index or the shards of a sharded
    one."""

    def __init__(self, store, manifest_dir: Path, summary: IndexSummary):
        self.store, self.summary = store, summary
        self.manifest = Manifest.load(manifest_dir)
        self.next_seq = store.last_seq() + 1  # the indexing order continues where it stopped
        self.records: dict[str, FileRecord | None] = {}  # manifest changes waiting for the next commit
        self.documents: list[dict] = []  # analysed into new segments at the next commit
        self.pending = 0
        self.started_ns = time.time_ns()
        self.current: _FileProgress | None = None  # the file whose articles are being replaced
        self._in_flight: dict[str, FileRecord | None] | None = None  # manifest changes of the batch being built
        self.on_bytes: Callable[[int], None] | None = None
        self.bytes_reported = 0  # of the current file

    # Read on first use: a sync that changes nothing (most re-runs) never needs them, and on a large index they
    # are most of its time (every MinHash band's postings). First use comes before this run's first commit, so
    # they are the index as the run found it.
    @cached_property
    def known(self) -> set[str]:
        """The ids in the index, as this run leaves it."""
        return self.store.live_ids()

    @cached_property
    def tracker(self) -> DuplicateTracker:
        """The near-duplicate clusters."""
        return DuplicateTracker.from_rows(self.store.tracker_rows())

    def report_bytes(self, count: int) -> None:
        self.bytes_reported += count
        if self.on_bytes and count > 0:
            self.on_bytes(count)

    def replace(self, key: str, articles, record: FileRecord | None) -> None:
        self.begin_file(key)
        for article in articles:
            self.add(article)
        self.end_file(key, record)

    def begin_file(self, key: str) -> None:
        """Start replacing file `key`'s articles: its committed ones are deleted (with the next commit)."""
        old = self.store.ids_of(key)
        if old:
            self.store.delete_file(key)
            self.known -= old
            self.tracker.forget_file(key)
            self.pending += len(old)
        self.current = _FileProgress(old)

    def add(self, article) -> None:
        """One article of the file being replaced: clustered, analysed into the pending batch."""
        progress = self.current
        assert progress is not None, "add() outside begin_file()/end_file()"
        if article.id in self.known:
            self.summary.duplicates += 1
            progress.cross_file_duplicate |= article.id not in progress.added
            return
        self.known.add(article.id)
        progress.added.add(article.id)
        article.cluster = self.tracker.assign(article)
        article.seq, self.next_seq = self.next_seq, self.next_seq + 1
        self.documents.append(to_document(article))
        self.pending += 1

    def end_file(self, key: str, record: FileRecord | None) -> None:
        progress, self.current = self.current, None
        assert progress is not None, "end_file() without begin_file()"
        old, added = progress.old, progress.added
        self.summary.added += len(added - old)
        self.summary.replaced += len(added & old)
        self.summary.removed += len(old - added)
        if record is not None:
            record.articles = len(added)
        # A file that lost an article to another file's id is read again next run, in case that file goes away.
        self.records[key] = None if progress.cross_file_duplicate else record

    def remove(self, key: str) -> None:
        old = self.store.ids_of(key)
        if old:
            self.store.delete_file(key)
            self.known -= old
            self.tracker.forget_file(key)
            self.summary.removed += len(old)
            self.pending += len(old)
        self.records[key] = None

    def touched(self, key: str, stat: os.stat_result, sha1: str, catalog: str, before: FileRecord | None) -> bool:
        """Whether a file whose size or mtime changed still has the content and catalogue entry it was indexed
        with; if so it is recorded again (new stat) and counted unchanged."""
        if before is None or before.sha1 != sha1 or before.catalog != catalog:
            return False
        record = self.record(key, stat, sha1, catalog)
        record.articles = before.articles
        self.records[key] = record
        self.summary.unchanged += before.articles
        return True

    def record(self, key: str, stat: os.stat_result, sha1: str, catalog: str) -> FileRecord:
        mtime = stat.st_mtime_ns if stat.st_mtime_ns < self.started_ns - _RACY_NS else -1
        return FileRecord(size=stat.st_size, mtime_ns=mtime, sha1=sha1, catalog=catalog)

    def commit(self, final: bool = False) -> None:
        """Send the pending documents and this batch's deletions to be built and committed. The batch before this
        one is committed first and its files recorded in the manifest, so one batch builds while the next is read
        (the manifest never names a file before its articles are committed); the final batch is waited for."""
        documents, self.documents = self.documents, []
        records, self.records = self.records, {}
        self._finish()
        self.store.start_commit(documents, final)
        self._in_flight = records
        self.pending = 0
        if final:
            self._finish()

    def _finish(self) -> None:
        """Commit the batch in flight, then record its files."""
        records, self._in_flight = self._in_flight, None
        if records is None:
            return
        self.store.finish_commit()
        for key, record in records.items():
            if record is None:
                self.manifest.files.pop(key, None)
            else:
                self.manifest.files[key] = record
        self.manifest.save()

    def cancel(self) -> None:
        """After an error or an interrupt: the batch in flight — files read whole — is still committed and
        recorded (when that fails too, it is read again next run); what was read since is dropped."""
        try:
            self._finish()
        except Exception:  # noqa: BLE001 - the error being handled is the one to report
            pass
        finally:
            self.store.cancel()


def index_paths(
    index_dir: str | Path,
    paths: Iterable[str | Path],
    rebuild: bool = False,
    prune: bool = False,
    on_file: Callable[[str], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> IndexSummary:
    """Bring the index at `index_dir` in step with `paths` (page files or directories of them, with their
    catalogues). With `prune`, articles of indexed files under the given directories (or given files) that no
    longer exist there are removed. A file or article over `limits` is reported, and the rest indexed. `on_file`
    is called with each file's key once it is read, `on_bytes` with each stretch of bytes read (a large bulk file
    reports as it streams, so a progress bar moves within it)."""
    index_dir = Path(index_dir)
    plan = SyncPlan.of(paths, prune, limits)
    ix = open_or_create(index_dir, rebuild=rebuild)
    with run_lock(ix, index_dir):
        return run_sync(IndexStore(ix, index_dir), index_dir, plan, on_file, on_bytes)


@dataclass
class SyncPlan:
    """What a sync was asked to do: the given paths, the page files under them (in order), whether to prune, and
    how large a file or an article may be."""

    given: list[Path]
    files: list[str]
    prune: bool
    summary: IndexSummary
    limits: Limits = DEFAULT_LIMITS

    @classmethod
    def of(cls, paths: Iterable[str | Path], prune: bool, limits: Limits = DEFAULT_LIMITS) -> SyncPlan:
        from search.ingest import iter_files

        given = [Path(p) for p in paths]
        summary = IndexSummary()
        listing_errors: list[str] = []
        keys: dict[str, None] = {}
        for p in iter_files((p for p in given if p.exists()), errors=listing_errors):
            problem = _unusable_name(p)
            if problem:
                listing_errors.append(f"{os.fsdecode(p).encode('utf-8', 'backslashreplace').decode()}: {problem}")
            else:
                keys[file_key(p)] = None
        files = list(keys)
        summary.errors += listing_errors
        summary.failed += len(listing_errors)
        for p in given:
            if not p.exists() and not prune:
                summary.errors.append(f"{p}: no such file or directory")
                summary.failed += 1
        return cls(given, files, prune, summary, limits)


def _unusable_name(path: Path) -> str:
    """Why a listed file cannot be indexed under its name ("" when it can): the index names files in UTF-8, and a
    link must lead somewhere."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8 (rename the file)"
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # Python 3.11 raises RuntimeError for a loop
            loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == 40
            return "a symbolic link loop" if loop else "a symbolic link to nothing (its target is gone)"
    return ""


def run_sync(
    store,
    manifest_dir: Path,
    plan: SyncPlan,
    on_file: Callable[[str], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> IndexSummary:
    """The sync of `plan` into `store` (one index, or the shards of a sharded one), the manifest in `manifest_dir`."""
    from search.ingest import read_file
    from search.ingest.catalog import CatalogSet

    summary = plan.summary
    catalogs = CatalogSet()
    sync = _Sync(store, manifest_dir, summary)
    sync.on_bytes = on_bytes
    try:
        for key in plan.files:
            sync.bytes_reported = 0
            size = _sync_file(sync, key, catalogs, read_file, plan.limits)
            if sync.pending >= BATCH_SIZE:
                sync.commit()
            sync.report_bytes(size - sync.bytes_reported)  # the rest of the file, or all of it when read whole
            if on_file:
                on_file(key)
        if plan.prune:
            present = set(plan.files)
            for key in _indexed_under(store, plan.given):
                if key not in present:
                    sync.remove(key)
        for error in catalogs.errors:
            summary.failed += 1
            summary.errors.append(error)
    except BaseException:
        sync.cancel()
        raise
    sync.commit(final=True)
    return summary


def _sync_file(sync: _Sync, key: str, catalogs, read_file, limits: Limits) -> int:
    """Sync one file; its size in bytes (0 when it cannot be read)."""
    from search.ingest import is_large_bulk

    summary = sync.summary
    summary.files += 1
    entry = catalogs.entry_for(key)
    catalog = entry.fingerprint() if entry else ""
    try:
        stat = os.stat(key)
    except OSError as e:
        summary.failed += 1
        summary.errors.append(f"{key}: cannot read ({e.strerror or e})")
        return 0
    before = sync.manifest.files.get(key)
    if sync.manifest.unchanged(key, stat, catalog):
        assert before is not None  # unchanged() means the manifest has a record of the file
        summary.unchanged += before.articles
        return stat.st_size
    if is_large_bulk(key, stat.st_size):
        _sync_bulk_file(sync, key, entry, catalog, stat, before, limits)
        return stat.st_size
    result = read_file(key, entry, limits)
    if result.error:
        summary.failed += 1
        summary.errors.append(result.error)
        if not result.articles:
            return stat.st_size  # keep what the index has; the file is tried again next run
    if not result.error and sync.touched(key, stat, result.digest, catalog, before):
        return stat.st_size
    # A file read with errors (bulk lines rejected) is not recorded, so it is read and reported again next run.
    sync.replace(key, result.articles, None if result.error else sync.record(key, stat, result.digest, catalog))
    return stat.st_size


def _sync_bulk_file(sync: _Sync, key: str, entry, catalog: str, stat, before, limits: Limits) -> None:
    """A large bulk file, streamed: its articles go into batches as they are read, and batches are committed in the
    middle of the file, so memory stays bounded whatever the file's size. The file is recorded in the manifest only
    once all of it is committed: after a kill, the next run reads it again and replaces what was committed."""
    from search.ingest import FileResult, open_bulk

    summary = sync.summary
    bulk = open_bulk(key, entry, limits)
    if isinstance(bulk, FileResult):  # the file could not be read: open_bulk says why in .error
        summary.failed += 1
        summary.errors.append(bulk.error or f"{key}: cannot read")
        return
    if sync.touched(key, stat, bulk.digest, catalog, before):
        return
    sync.begin_file(key)
    for article in bulk.articles():
        sync.add(article)
        if sync.pending >= BATCH_SIZE:
            sync.commit()
        if bulk.bytes_read - sync.bytes_reported >= _PROGRESS_STEP:
            sync.report_bytes(bulk.bytes_read - sync.bytes_reported)
    if bulk.errors:
        summary.failed += 1
        summary.errors.append(
            "; ".join(bulk.errors[:20])
            + (f"; … {len(bulk.errors) - 20} more bad lines" if len(bulk.errors) > 20 else "")
        )
    sync.end_file(key, None if bulk.errors else sync.record(key, stat, bulk.digest, catalog))


def _indexed_under(store, given: list[Path]) -> list[str]:
    """Indexed files (with live articles) that are one of the given paths or lie under one of them."""
    return store.indexed_files([file_key(p) for p in given])


def delete_articles(
    index_dir: str | Path, ids: Iterable[str], manifest_dir: str | Path | None = None
) -> tuple[list[str], list[str]]:
    """Remove the articles with these ids: (removed ids, unknown ids). A page file whose article was deleted stays
    recorded as indexed, so the article does not come back until that file changes. (`manifest_dir`: where the
    manifest is, when not in the index — a shard's is its sharded index's.)"""
    index_dir = Path(index_dir)
    ix = open_index(index_dir)
    removed, unknown = [], []
    with run_lock(ix, index_dir):
        manifest = Manifest.load(Path(manifest_dir) if manifest_dir else index_dir)
        writer = open_writer(ix, index_dir)
        try:
            with ix.searcher() as searcher:
                for article_id in dict.fromkeys(ids):
                    docnum = searcher.document_number(id=article_id)
                    if docnum is None:
                        unknown.append(article_id)
                        continue
                    key = searcher.stored_fields(docnum).get("file", "")
                    writer.delete_by_term("id", article_id)
                    removed.append(article_id)
                    if key in manifest.files:
                        manifest.files[key].articles = max(0, manifest.files[key].articles - 1)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        if removed:
            manifest.save()
    return removed, unknown
