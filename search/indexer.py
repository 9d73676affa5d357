"""Opening, creating and filling the index, and keeping it in step with the archive it was built from.

`index_paths` is a sync: a page file whose size, modification time and catalogue entry are what the manifest
recorded is skipped unread; a changed file's articles are replaced (deleted by `file`, then added); with `prune`,
the articles of files that are gone from the given directories are removed. Work is committed in batches, each
followed by an atomic manifest write, so a killed run keeps every batch committed before the kill and the
manifest never claims a file whose articles were not committed.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError

from search.errors import IndexLocked, IndexUnavailable
from search.manifest import MANIFEST_FILE, FileRecord, Manifest, file_key
from search.duplicates import DuplicateTracker, tracker_rows
from search.schema import SCHEMA_VERSION, build_schema, to_document

META_FILE = "newsearch.json"
BATCH_SIZE = 30000  # articles per commit: a killed run loses at most this much work
ANALYZERS = ("search.analysis.WordTokenizer", "search.analysis.NgramTokenizer", "rjieba-0.2.2")


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
        return (f"{self.files} files: {self.added} articles added, {self.replaced} replaced, {self.removed} removed, "
                f"{self.unchanged} unchanged, {self.failed} failed")

    def to_dict(self) -> dict:
        return {"files": self.files, "added": self.added, "replaced": self.replaced, "removed": self.removed,
                "unchanged": self.unchanged, "duplicates": self.duplicates, "skipped": self.skipped,
                "failed": self.failed, "errors": self.errors}


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


def open_or_create(index_dir: str | Path, rebuild: bool = False):
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
            writer = _writer(ix, index_dir)
            writer.cancel()


def _writer(ix, index_dir):
    try:
        return ix.writer(limitmb=256)
    except LockError:
        raise IndexLocked(f"the index at {index_dir} is locked by another writer (another `newsearch index` is "
                          "running); wait for it to finish") from None


@contextmanager
def run_lock(ix, index_dir):
    """Held for a whole sync or delete (whoosh's own write lock is let go at each batch commit), so a second writer
    is refused at once instead of slipping in between batches."""
    lock = ix.lock("SYNC")
    if not lock.acquire(blocking=False):
        raise IndexLocked(f"the index at {index_dir} is locked by another writer (another `newsearch index` is "
                          "running); wait for it to finish")
    try:
        yield
    finally:
        lock.release()


# A file modified this close to the run could change again within the same mtime tick unseen: record it so that
# the next run compares its content instead of trusting size and mtime.
_RACY_NS = 2_000_000_000


@dataclass
class _FileProgress:
    old: set[str]  # the ids of the file's committed articles before this run
    added: set[str] = field(default_factory=set)
    cross_file_duplicate: bool = False


def live_ids(searcher) -> set[str]:
    """The ids of the index's live articles. The term dictionary still lists the ids of deleted documents until
    their segment is merged (a file replaced after a killed run leaves them), and an id taken for indexed would make
    the article's next copy be skipped as a duplicate: lost."""
    reader = searcher.reader()
    ids = set(reader.field_terms("id"))
    if reader.has_deletions():
        for docnum in range(reader.doc_count_all()):
            if reader.is_deleted(docnum):
                article_id = reader.stored_fields(docnum).get("id")
                if article_id in ids and searcher.document_number(id=article_id) is None:
                    ids.discard(article_id)
    return ids


def last_seq(reader) -> int:
    """The highest `seq` an article of the index has had (0 for an empty index)."""
    from search.facets import seq_numbers

    numbers = seq_numbers(reader)
    return int(numbers.max()) if numbers.size else 0


class IndexStore:
    """One index's side of a sync: what the run reads from the index and writes into it. A sharded index has one
    per shard, driven by one `_Sync` through search/sharding.py."""

    def __init__(self, ix, index_dir: Path, parallel: bool = True):
        self.ix, self.index_dir = ix, index_dir
        self.writer = _writer(ix, index_dir)
        self.searcher = ix.searcher()
        # segment-building worker processes, started at the first batch big enough to build in parallel (a shard
        # builds in its own process: the shards are the parallelism)
        self.builders = SegmentBuilders() if parallel else None
        self._deletes: list[str] = []  # files whose articles go with the next batch
        self._building = None  # the batch in flight: (its segments, or their pending result; deletions; final)

    def live_ids(self) -> set[str]:
        return live_ids(self.searcher)

    def tracker_rows(self) -> list:
        return tracker_rows(self.searcher.reader())

    def last_seq(self) -> int:
        return last_seq(self.searcher.reader())

    def ids_of(self, key: str) -> set[str]:
        """The ids of file `key`'s committed articles."""
        return {self.searcher.stored_fields(docnum)["id"] for docnum in self.searcher.document_numbers(file=key)}

    def delete_file(self, key: str) -> None:
        """Delete file `key`'s articles with the next batch."""
        self._deletes.append(key)

    def indexed_files(self, roots: list[str] | None = None) -> list[str]:
        """Files with live articles in the index (those that are one of `roots` or lie under one of them)."""
        reader = self.searcher.reader()
        return [key for key in reader.field_terms("file") if (roots is None or _under(key, roots))
                and next(iter(self.searcher.document_numbers(file=key)), None) is not None]

    def commit(self, documents: list[dict], final: bool = False) -> None:
        """Write `documents` as new segments and commit them with the deletions asked for since the last batch."""
        self.start_commit(documents, final)
        self.finish_commit()

    def start_commit(self, documents: list[dict], final: bool = False) -> None:
        """Start building the segments of a batch — in the worker processes, while the caller reads the next one —
        with the deletions asked for since the last batch. `finish_commit` commits it."""
        deletes, self._deletes = self._deletes, []
        self._building = (build_segments(self.ix, documents, self.builders, parallel=self.builders is not None,
                                         wait=False), deletes, final)

    def finish_commit(self) -> None:
        """Wait for the batch in flight and commit it (a no-op without one)."""
        if self._building is None:
            return
        pending, deletes, final = self._building
        self._building = None
        segments = pending.get() if hasattr(pending, "get") else pending
        for key in deletes:
            self.writer.delete_by_term("file", key)
        commit_segments(self.writer, segments, merge_small=final)
        self.searcher.close()
        if final:
            self.close()
        else:
            self.writer = _writer(self.ix, self.index_dir)
            self.searcher = self.ix.searcher()

    def cancel(self) -> None:
        self._building = None
        self.close()  # stops a build in flight
        self.writer.cancel()
        self.searcher.close()

    def close(self) -> None:
        if self.builders is not None:
            self.builders.close()


class _Sync:
    """One run's batch and manifest bookkeeping, over the `IndexStore` of one index or the shards of a sharded
    one."""

    def __init__(self, store, manifest_dir: Path, summary: IndexSummary):
        self.store, self.summary = store, summary
        self.manifest = Manifest.load(manifest_dir)
        self.known = store.live_ids()  # ids in the index, as this run leaves it
        self.tracker = DuplicateTracker.from_rows(store.tracker_rows())  # near-duplicate clusters
        self.next_seq = store.last_seq() + 1  # the indexing order continues where it stopped
        self.records: dict[str, FileRecord | None] = {}  # manifest changes waiting for the next commit
        self.documents: list[dict] = []  # analysed into new segments at the next commit
        self.pending = 0
        self.started_ns = time.time_ns()
        self.current: _FileProgress | None = None  # the file whose articles are being replaced
        self._in_flight: dict[str, FileRecord | None] | None = None  # manifest changes of the batch being built

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


def build_segments(ix, documents: list[dict], builders: SegmentBuilders | None = None, parallel: bool = True,
                   wait: bool = True):
    """New segments holding `documents`: built here for a small batch (or when not `parallel`), else by one worker
    process per core (those of `builders` when given, else processes started for this call). With `wait` False
    and `builders`, the workers' pending result (`.get()` gives the segments) is returned at once."""
    from search.segments import build_segment, worker_count

    if not documents:
        return []
    workers = min(worker_count(), max(1, len(documents) // PARALLEL_MIN)) if parallel else 1
    if workers == 1:
        return [build_segment(ix.storage, ix.indexname, ix.schema, documents)]
    size = -(-len(documents) // workers)
    tasks = [(str(ix.storage.folder), ix.indexname, documents[i:i + size]) for i in range(0, len(documents), size)]
    if builders is not None:
        pool = builders.pool(worker_count())
        return pool.starmap(_build_in_worker, tasks) if wait else pool.starmap_async(_build_in_worker, tasks)
    with SegmentBuilders() as own:
        return own.pool(len(tasks)).starmap(_build_in_worker, tasks)


class SegmentBuilders:
    """The worker processes of one indexing run, forked once and reused for every batch: a worker forked per batch
    started from the parent as it had grown by then (a long run got slower batch by batch: 42 s per 20,000 articles
    at the start of a million, 70 s after 380,000), and with cold caches (word kinds, the user dictionary)."""

    def __init__(self):
        self._pool = None

    def pool(self, processes: int):
        if self._pool is None:
            import multiprocessing

            self._pool = multiprocessing.get_context("fork").Pool(processes)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> SegmentBuilders:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


PARALLEL_MIN = 1000  # below this many documents per worker, starting processes costs more than it saves


def _build_in_worker(folder: str, indexname: str, documents: list[dict]):
    import random

    from search.segments import build_segment

    random.seed()  # forked workers share the parent's random state, and Whoosh names new segments with it
    ix = whoosh_index.open_dir(folder, indexname=indexname)
    return build_segment(ix.storage, indexname, ix.schema, documents)


def commit_segments(writer, segments: list, merge_small: bool = False) -> None:
    """Commit `writer`'s deletions together with bulk-built `segments` (Whoosh's own commit would only know the
    documents added through the writer). With `merge_small`, many small segments (left by small syncs) are merged
    into one through the writer, so a nightly sync does not leave the index in ever more pieces."""
    try:
        kept = writer._merge_segments(_merge_small_segments if merge_small else None, False, False)
        if writer._added:  # small segments were merged into the writer's own segment
            kept.append(writer._finalize_segment())
        else:
            writer._close_segment()
        writer._commit_toc(kept + segments)
    except BaseException:
        writer._cleanup_on_error()
        raise
    writer._finish()


SMALL_SEGMENT = 5000  # documents


def _merge_small_segments(writer, segments):
    """Whoosh's merge of the segments under SMALL_SEGMENT documents, when there are more than a few of them."""
    from whoosh.reading import SegmentReader

    small = [seg for seg in segments if seg.doc_count_all() < SMALL_SEGMENT]
    if len(small) < 4:
        return segments
    for seg in small:
        with SegmentReader(writer.storage, writer.schema, seg) as reader:
            writer.add_reader(reader)
    return [seg for seg in segments if seg not in small]


def index_paths(index_dir: str | Path, paths: Iterable[str | Path], rebuild: bool = False, prune: bool = False,
                on_file: Callable[[str], None] | None = None) -> IndexSummary:
    """Bring the index at `index_dir` in step with `paths` (page files or directories of them, with their
    catalogues). With `prune`, articles of indexed files under the given directories (or given files) that no
    longer exist there are removed."""
    index_dir = Path(index_dir)
    plan = SyncPlan.of(paths, prune)
    ix = open_or_create(index_dir, rebuild=rebuild)
    with run_lock(ix, index_dir):
        return run_sync(IndexStore(ix, index_dir), index_dir, plan, on_file)


@dataclass
class SyncPlan:
    """What a sync was asked to do: the given paths, the page files under them (in order), whether to prune."""

    given: list[Path]
    files: list[str]
    prune: bool
    summary: IndexSummary

    @classmethod
    def of(cls, paths: Iterable[str | Path], prune: bool) -> SyncPlan:
        from search.ingest import iter_files

        given = [Path(p) for p in paths]
        summary = IndexSummary()
        files = list(dict.fromkeys(file_key(p) for p in iter_files(p for p in given if p.exists())))
        for p in given:
            if not p.exists() and not prune:
                summary.errors.append(f"{p}: no such file or directory")
                summary.failed += 1
        return cls(given, files, prune, summary)


def run_sync(store, manifest_dir: Path, plan: SyncPlan, on_file: Callable[[str], None] | None = None) -> IndexSummary:
    """The sync of `plan` into `store` (one index, or the shards of a sharded one), the manifest in `manifest_dir`."""
    from search.catalog import CatalogSet
    from search.ingest import read_file

    summary = plan.summary
    catalogs = CatalogSet()
    sync = _Sync(store, manifest_dir, summary)
    try:
        for key in plan.files:
            _sync_file(sync, key, catalogs, read_file)
            if sync.pending >= BATCH_SIZE:
                sync.commit()
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


def _sync_file(sync: _Sync, key: str, catalogs, read_file) -> None:
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
        return
    before = sync.manifest.files.get(key)
    if sync.manifest.unchanged(key, stat, catalog):
        summary.unchanged += before.articles
        return
    if is_large_bulk(key, stat.st_size):
        _sync_bulk_file(sync, key, entry, catalog, stat, before)
        return
    result = read_file(key, entry)
    if result.error:
        summary.failed += 1
        summary.errors.append(result.error)
        if not result.articles:
            return  # keep what the index has; the file is tried again next run
    if not result.error and sync.touched(key, stat, result.digest, catalog, before):
        return
    # A file read with errors (bulk lines rejected) is not recorded, so it is read and reported again next run.
    sync.replace(key, result.articles, None if result.error else sync.record(key, stat, result.digest, catalog))


def _sync_bulk_file(sync: _Sync, key: str, entry, catalog: str, stat, before) -> None:
    """A large bulk file, streamed: its articles go into batches as they are read, and batches are committed in the
    middle of the file, so memory stays bounded whatever the file's size. The file is recorded in the manifest only
    once all of it is committed: after a kill, the next run reads it again and replaces what was committed."""
    from search.ingest import open_bulk

    summary = sync.summary
    bulk = open_bulk(key, entry)
    if getattr(bulk, "error", None):
        summary.failed += 1
        summary.errors.append(bulk.error)
        return
    if sync.touched(key, stat, bulk.digest, catalog, before):
        return
    sync.begin_file(key)
    for article in bulk.articles():
        sync.add(article)
        if sync.pending >= BATCH_SIZE:
            sync.commit()
    if bulk.errors:
        summary.failed += 1
        summary.errors.append("; ".join(bulk.errors[:20]) + (f"; … {len(bulk.errors) - 20} more bad lines"
                                                              if len(bulk.errors) > 20 else ""))
    sync.end_file(key, None if bulk.errors else sync.record(key, stat, bulk.digest, catalog))


def _indexed_under(store, given: list[Path]) -> list[str]:
    """Indexed files (with live articles) that are one of the given paths or lie under one of them."""
    return store.indexed_files([file_key(p) for p in given])


def _under(key: str, roots: list[str]) -> bool:
    return any(key == root or key.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def delete_articles(index_dir: str | Path, ids: Iterable[str],
                    manifest_dir: str | Path | None = None) -> tuple[list[str], list[str]]:
    """Remove the articles with these ids: (removed ids, unknown ids). A page file whose article was deleted stays
    recorded as indexed, so the article does not come back until that file changes. (`manifest_dir`: where the
    manifest is, when not in the index — a shard's is its sharded index's.)"""
    index_dir = Path(index_dir)
    ix = open_index(index_dir)
    removed, unknown = [], []
    with run_lock(ix, index_dir):
        manifest = Manifest.load(Path(manifest_dir) if manifest_dir else index_dir)
        writer = _writer(ix, index_dir)
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
