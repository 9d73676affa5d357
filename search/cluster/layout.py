"""Sharded indexes: one archive split over N ordinary newsearch indexes (`shard-00`, `shard-01`, …) under one root.

An article goes to the shard of a stable hash of its cluster id — its own id, unless it is a near-duplicate of an
article indexed before it, whose shard it then joins — so a reprint cluster never spans shards and folding it is
exact. The sync is the single index's (search/index/sync.py: manifest, replaced files, prune, batches), run by one
driver that reads, dates and clusters every article once, against a tracker and an id set loaded from every
shard; only the writing is fanned out: each shard's `ShardWriter` (a Ray actor, search/cluster/actors.py) deletes, builds
and commits its share of each batch, all shards in parallel. The root holds the layout (`shards.json`) and the one
manifest, which is saved after every shard has committed a batch: a run killed in between leaves files unrecorded,
and the next run replaces their articles in every shard.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from search.errors import IndexLocked, IndexUnavailable, ShardingError
from search.index.manifest import MANIFEST_FILE
from search.index.schema import SCHEMA_VERSION
from search.index.store import check_unlocked, clear_index, index_exists, open_or_create
from search.index.sync import IndexSummary, SyncPlan, run_sync
from search.index.writer import IndexStore
from search.ingest.limits import DEFAULT_LIMITS, Limits

LAYOUT_FILE = "shards.json"
MAX_SHARDS = 256


def shard_name(number: int) -> str:
    return f"shard-{number:02d}"


def shard_of(cluster_id: str, shards: int) -> int:
    """The shard of an article whose cluster id is `cluster_id`: the same on every machine and in every run."""
    digest = hashlib.blake2b(cluster_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass
class Layout:
    root: Path
    shards: int

    @property
    def dirs(self) -> list[Path]:
        return [self.root / shard_name(k) for k in range(self.shards)]

    @classmethod
    def read(cls, root: str | Path) -> Layout | None:
        """The layout of the sharded index at `root`, or None when `root` holds none."""
        root = Path(root)
        try:
            meta = json.loads((root / LAYOUT_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"cannot read {root / LAYOUT_FILE}: {exc}") from None
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise IndexUnavailable(
                f"the sharded index at {root} was built by another version of newsearch (schema "
                f"{meta.get('schema_version', 'unknown')}, this version reads {SCHEMA_VERSION}): "
                "run `newsearch index --rebuild --shards N` to rebuild it"
            )
        shards = meta.get("shards")
        if not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
            raise IndexUnavailable(f"{root / LAYOUT_FILE} names no valid shard count: {shards!r}")
        return cls(root, shards)

    def write(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "shards": self.shards,
            "partition": "blake2b-64 of the cluster id, modulo shards",
        }
        (self.root / LAYOUT_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def is_sharded(root: str | Path) -> bool:
    return (Path(root) / LAYOUT_FILE).is_file()


def open_layout(root: str | Path) -> Layout:
    """The layout of an existing sharded index, every shard present."""
    layout = Layout.read(root)
    if layout is None:
        raise IndexUnavailable(
            f"no sharded index at {root}: build one with `newsearch index --shards N --index {root} PATHS`"
        )
    missing = [d.name for d in layout.dirs if not index_exists(d)]
    if missing:
        raise IndexUnavailable(
            f"the sharded index at {root} lacks {', '.join(missing)}: run `newsearch index "
            f"--index {root}` to finish building it, or --rebuild"
        )
    return layout


def plan_layout(root: Path, shards: int | None, rebuild: bool) -> Layout:
    """The layout an indexing run writes: the existing one (a different shard count needs --rebuild), or a new
    one of `shards` shards."""
    if shards is not None and not 1 <= shards <= MAX_SHARDS:
        raise ShardingError(f"--shards: {shards} is out of range (1–{MAX_SHARDS})")
    if rebuild and shards is None:
        shards = _recorded_shards(root)  # rebuilt with the count it had, whatever version wrote it
    existing = None if rebuild else Layout.read(root)
    if existing is not None:
        if shards is not None and shards != existing.shards:
            raise ShardingError(
                f"the index at {root} has {existing.shards} shards, not {shards}: re-sharding "
                "rebuilds it (add --rebuild)"
            )
        return existing
    if shards is None:
        raise ShardingError(f"no sharded index at {root} yet: say how many shards with --shards N")
    if not rebuild and index_exists(root):
        raise ShardingError(f"{root} holds an unsharded index: add --rebuild to replace it with {shards} shards")
    return Layout(root, shards)


def _recorded_shards(root: Path) -> int | None:
    try:
        shards = json.loads((root / LAYOUT_FILE).read_text(encoding="utf-8")).get("shards")
    except (OSError, ValueError, AttributeError):
        return None
    return shards if isinstance(shards, int) and 1 <= shards <= MAX_SHARDS else None


@contextmanager
def root_lock(root: Path):
    """Held by a sharded sync for its whole run: a second one on the same root is refused at once."""
    from whoosh.filedb.filestore import FileStorage

    root.mkdir(parents=True, exist_ok=True)
    lock = FileStorage(str(root)).lock("newsearch_SHARDS")
    if not lock.acquire(blocking=False):
        raise IndexLocked(
            f"the sharded index at {root} is locked by another writer (another `newsearch index` is "
            "running); wait for it to finish"
        )
    try:
        yield
    finally:
        lock.release()


def clear_sharded(root: Path) -> None:
    """Remove a sharded index (its shards, layout and manifest) from `root`, each shard checked to be unlocked."""
    check_unlocked(root)  # an unsharded index being replaced by shards
    for directory in sorted(root.glob("shard-*")):  # whatever layout (or version) wrote them
        check_unlocked(directory)
    clear_index(root)


# --- one shard's writer ------------------------------------------------------------------------------------------
class ShardWriter:
    """One shard's side of a sharded sync, for the run's whole length (in a Ray actor, or in this process): the
    shard's `IndexStore`, its write lock held from start to the final commit."""

    def __init__(self, index_dir: str):
        self.index_dir = Path(index_dir)
        ix = open_or_create(self.index_dir)
        self._lock = ix.lock("SYNC")
        if not self._lock.acquire(blocking=False):
            raise IndexLocked(f"the shard {self.index_dir} is locked by another writer; wait for it to finish")
        try:
            # one process per shard: the shards, not worker processes, are the parallelism
            self.store = IndexStore(ix, self.index_dir, parallel=False)
        except BaseException:
            self._lock.release()
            raise

    def files(self) -> list[str]:
        """Every file key with articles in this shard."""
        return self.store.indexed_files()

    def live_ids(self) -> set[str]:
        return self.store.live_ids()

    def tracker_rows(self) -> list:
        return self.store.tracker_rows()

    def last_seq(self) -> int:
        return self.store.last_seq()

    def ids_of(self, key: str) -> set[str]:
        return self.store.ids_of(key)

    def delete_file(self, key: str) -> None:
        self.store.delete_file(key)

    def indexed_files(self, roots: list[str]) -> list[str]:
        return self.store.indexed_files(roots)

    def commit(self, documents: list[dict], final: bool) -> int:
        self.store.commit(documents, final)
        if final:
            self._lock.release()
        return len(documents)

    def cancel(self) -> None:
        try:
            self.store.cancel()
        finally:
            self._lock.release()


class ShardedStore:
    """The `IndexStore` interface over every shard's `ShardWriter`: what the sync reads is gathered from all
    shards, what it writes goes to the shards that hold (or will hold) the articles."""

    def __init__(self, writers):
        self.writers = writers  # search.cluster.Shards of ShardWriter objects
        self.count = writers.count
        self._in_flight = None  # the batch the shards are committing
        self.holders: dict[str, set[int]] = {}  # file key → the shards with articles from it
        for shard, keys in writers.run("files").items():
            for key in keys:
                self.holders.setdefault(key, set()).add(shard)

    def live_ids(self) -> set[str]:
        return set().union(*self.writers.run("live_ids").values())

    def tracker_rows(self) -> list:
        return [row for rows in self.writers.run("tracker_rows").values() for row in rows]

    def last_seq(self) -> int:
        return max(self.writers.run("last_seq").values(), default=0)

    def ids_of(self, key: str) -> set[str]:
        holders = self.holders.get(key)
        if not holders:
            return set()
        return set().union(*self.writers.run("ids_of", (key,), shards=sorted(holders)).values())

    def delete_file(self, key: str) -> None:
        if self.holders.get(key):
            self.writers.run("delete_file", (key,), shards=sorted(self.holders[key]))

    def indexed_files(self, roots: list[str]) -> list[str]:
        return sorted(set().union(*self.writers.run("indexed_files", (roots,)).values()))

    def start_commit(self, documents: list[dict], final: bool = False) -> None:
        """Send each shard its share of the batch; the shards build and commit while the driver reads on (a shard
        answers the driver's next calls after its commit: Ray runs one caller's calls to an actor in order)."""
        batches: dict[int, list[dict]] = {shard: [] for shard in range(self.count)}
        for doc in documents:
            shard = shard_of(doc["cluster"], self.count)
            batches[shard].append(doc)
            self.holders.setdefault(doc["file"], set()).add(shard)
        # every shard commits, with or without documents: its deletions go with it, and the final one lets go
        self._in_flight = self.writers.submit("commit", {shard: (docs, final) for shard, docs in batches.items()})

    def finish_commit(self) -> None:
        pending, self._in_flight = self._in_flight, None
        if pending is not None:
            self.writers.collect(pending)

    def cancel(self) -> None:
        self.writers.run("cancel", tolerate=True)


def index_sharded(
    root: str | Path,
    paths: Iterable[str | Path],
    shards: int | None = None,
    cluster: str | None = None,
    rebuild: bool = False,
    prune: bool = False,
    on_file: Callable[[str], None] | None = None,
    in_process: bool = False,
    on_bytes: Callable[[int], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> IndexSummary:
    """`index_paths` for a sharded index at `root`: created with `shards` shards, or the existing layout synced.
    The shards' writers run as Ray actors (a local Ray instance, or the cluster at `cluster`), or in this process
    with `in_process`."""
    from search.cluster.actors import connect, shard_objects

    root = Path(root)
    layout = plan_layout(root, shards, rebuild)
    plan = SyncPlan.of(paths, prune, limits)
    if not in_process:
        connect(cluster)  # before anything is written: without Ray (or its cluster) nothing is half made
    with root_lock(root):
        if rebuild:
            clear_sharded(root)
        layout.write()
        with shard_objects(
            ShardWriter, [str(d) for d in layout.dirs], cluster=cluster, in_process=in_process, role="writer"
        ) as writers:
            return run_sync(ShardedStore(writers), root, plan, on_file, on_bytes)


def delete_sharded(root: str | Path, ids: Iterable[str]) -> tuple[list[str], list[str]]:
    """`delete_articles` over every shard of the sharded index at `root`: (removed ids, unknown ids)."""
    from search.index.sync import delete_articles

    root = Path(root)
    layout = open_layout(root)
    wanted = list(dict.fromkeys(ids))
    removed: list[str] = []
    with root_lock(root):
        for directory in layout.dirs:
            left = [i for i in wanted if i not in removed]
            if left:
                removed += delete_articles(directory, left, manifest_dir=root)[0]
    return [i for i in wanted if i in removed], [i for i in wanted if i not in removed]


__all__ = [
    "LAYOUT_FILE",
    "MANIFEST_FILE",
    "Layout",
    "ShardWriter",
    "ShardedStore",
    "delete_sharded",
    "index_sharded",
    "is_sharded",
    "open_layout",
    "shard_of",
]
