"""Writing one index: new segments built in bulk (by a pool of worker processes for big batches) and committed
together with the batch's deletions. `IndexStore` is what a sync reads from and writes into an index."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from search.index.columns import seq_numbers
from search.index.reprints import tracker_rows
from search.index.store import open_writer


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
    numbers = seq_numbers(reader)
    return int(numbers.max()) if numbers.size else 0


class IndexStore:
    """One index's side of a sync: what the run reads from the index and writes into it. A sharded index has one
    per shard, driven by one `_Sync` through search/cluster/layout.py."""

    def __init__(self, ix, index_dir: Path, parallel: bool = True):
        self.ix, self.index_dir = ix, index_dir
        self.writer = open_writer(ix, index_dir)
        self.searcher = ix.searcher()
        # segment-building worker processes, started at the first batch big enough to build in parallel (a shard
        # builds in its own process: the shards are the parallelism)
        self.builders = SegmentBuilders() if parallel else None
        self._deletes: list[str] = []  # files whose articles go with the next batch
        # the batch in flight: (its segments, or their pending result; deletions; final)
        self._building: tuple[Any, list[str], bool] | None = None

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
        return [
            key
            for key in reader.field_terms("file")
            if (roots is None or _under(key, roots))
            and next(iter(self.searcher.document_numbers(file=key)), None) is not None
        ]

    def commit(self, documents: list[dict], final: bool = False) -> None:
        """Write `documents` as new segments and commit them with the deletions asked for since the last batch."""
        self.start_commit(documents, final)
        self.finish_commit()

    def start_commit(self, documents: list[dict], final: bool = False) -> None:
        """Start building the segments of a batch — in the worker processes, while the caller reads the next one —
        with the deletions asked for since the last batch. `finish_commit` commits it."""
        deletes, self._deletes = self._deletes, []
        self._building = (
            build_segments(self.ix, documents, self.builders, parallel=self.builders is not None, wait=False),
            deletes,
            final,
        )

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
            self.writer = open_writer(self.ix, self.index_dir)
            self.searcher = self.ix.searcher()

    def cancel(self) -> None:
        self._building = None
        self.close()  # stops a build in flight
        self.writer.cancel()
        self.searcher.close()

    def close(self) -> None:
        if self.builders is not None:
            self.builders.close()


def build_segments(
    ix, documents: list[dict], builders: SegmentBuilders | None = None, parallel: bool = True, wait: bool = True
):
    """New segments holding `documents`: built here for a small batch (or when not `parallel`), else by one worker
    process per core (those of `builders` when given, else processes started for this call). With `wait` False
    and `builders`, the workers' pending result (`.get()` gives the segments) is returned at once."""
    from search.index.segments import build_segment, worker_count

    if not documents:
        return []
    workers = min(worker_count(), max(1, len(documents) // PARALLEL_MIN)) if parallel else 1
    if workers == 1:
        return [build_segment(ix.storage, ix.indexname, ix.schema, documents)]
    size = -(-len(documents) // workers)
    tasks = [(str(ix.storage.folder), ix.indexname, documents[i : i + size]) for i in range(0, len(documents), size)]
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

            from search.processes import die_with_parent

            # a builder dies with the run: a killed `newsearch index` leaves no worker holding the index's locks
            self._pool = multiprocessing.get_context("fork").Pool(processes, die_with_parent, (os.getpid(),))
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

    from search.index.segments import build_segment

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


def _under(key: str, roots: list[str]) -> bool:
    return any(key == root or key.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
