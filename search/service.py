"""The one place an engine is chosen and opened, for the CLI and the web app alike.

An index directory holds one index or a sharded one (search/cluster/layout.py). `open_engine` reads which, and
returns an object with the `Engine` interface either way: a `SearchEngine` over one index, or a `ShardedEngine`
whose shards are searched in this process (a CLI command) or by Ray actors (`on_ray`, what `serve --shards` uses).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from search.query.request import SearchRequest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Engine(Protocol):
    """What the CLI and the web app ask of an engine; every answer is plain data (dicts of str, numbers, lists)."""

    index_dir: Path

    def search(self, req: SearchRequest) -> dict: ...

    def ranking(self, req: SearchRequest) -> list[tuple[str, float | None]]: ...

    def article(self, article_id: str, q: str | None = None) -> dict: ...

    def source_page(self, article_id: str) -> dict: ...

    def source_file(self, article_id: str) -> str: ...

    def related(self, article_id: str, limit: int = 5) -> list[dict]: ...

    def iter_matches(self, req: SearchRequest, limit: int) -> Iterator[dict]: ...

    def stats(self) -> dict: ...

    def warm_up(self) -> object: ...

    def close(self) -> None: ...


def default_index_dir() -> str:
    """`NEWSEARCH_INDEX`, else `index/` of the project checkout (or of the working directory when installed)."""
    if os.environ.get("NEWSEARCH_INDEX"):
        return os.environ["NEWSEARCH_INDEX"]
    root = PROJECT_ROOT if (PROJECT_ROOT / "seeds").is_dir() else Path.cwd()
    return str(root / "index")


def default_seeds_dir() -> Path | None:
    """The bundled seed corpus: `seeds/` of the checkout, else of the working directory; None when neither has it."""
    for root in (PROJECT_ROOT, Path.cwd()):
        if (root / "seeds").is_dir():
            return root / "seeds"
    return None


def open_engine(
    index_dir: str | Path,
    *,
    on_ray: bool = False,
    cluster: str | None = None,
    replicas: int = 1,
    time_limit: float | None = None,
    posting_cache_mb: int = 512,
) -> Engine:
    """The engine over `index_dir`. A sharded index is searched shard by shard in this process, or with `on_ray` by
    `replicas` Ray actors per shard on the cluster at `cluster` (default: a local instance). Raises a SearchError
    (IndexUnavailable, ShardingError, ClusterUnavailable) when it cannot be opened."""
    from search.cluster.layout import is_sharded

    if on_ray or is_sharded(index_dir):
        return _sharded_engine(index_dir, on_ray, cluster, replicas)
    from search.query.engine import SearchEngine

    return SearchEngine(index_dir, time_limit=time_limit, posting_cache_mb=posting_cache_mb)


def _sharded_engine(root: str | Path, on_ray: bool, cluster: str | None, replicas: int) -> Engine:
    from search.cluster.actors import InProcessShards, start_shards
    from search.cluster.fanout import ShardedEngine
    from search.cluster.layout import open_layout
    from search.cluster.shard import ShardService

    layout = open_layout(root)
    if not on_ray:  # one command: no Ray needed, and no warm-up for a single search
        return ShardedEngine(root, InProcessShards([ShardService(str(d), warm=False) for d in layout.dirs]))
    shards = start_shards(
        ShardService,
        [str(d) for d in layout.dirs],
        cluster=cluster,
        role="search",
        replicas=replicas,
        max_restarts=-1,
        root=str(root),
    )
    return ShardedEngine(root, shards)
