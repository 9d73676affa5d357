"""Shards as Ray actors: starting them, calling every shard at once, and living with the ones that die.

A sharded index (search/cluster/layout.py) is worked on through one object per shard — a `ShardWriter` while indexing, a
`ShardService` while serving — each in a long-lived Ray actor: on a local Ray instance started here, or on an
existing cluster (`ray start --head` / `ray start --address=…`) whose nodes all see the index directory. Ray is an
optional dependency (`pip install 'newsearch[cluster]'`), imported only here; `InProcessShards` runs the same
objects in this process (the CLI's `search` and `stats` on a sharded index, and tests).

`Shards.run(method, args)` calls the method on every shard (or the given ones) concurrently and returns each shard's
answer. A serving shard may have several replicas: a call that finds its actor dead or restarting (Ray restarts it,
`max_restarts`) is retried on the shard's next replica, then once more on the first after a pause; a shard none of
whose replicas answers is reported as `ShardDown` instead of silently giving fewer hits.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from search.errors import ClusterUnavailable, SearchError, ShardUnavailable

NAMESPACE = "newsearch"
RETRY_PAUSE = 0.5  # seconds before the last try of a shard whose replicas all failed (a restart takes ~1–2 s)
CALL_TIMEOUT = 60.0  # seconds a shard may take to answer one call before it counts as down for that call


@dataclass
class ShardDown:
    """A shard that did not answer: every replica dead, restarting or too slow."""

    shard: int
    reason: str


class InProcessShards:
    """One object per shard, in this process; calls run one shard after another (under a lock: the objects are
    not made for concurrent use)."""

    def __init__(self, objects: list):
        self.objects = objects
        self.count = len(objects)
        self.replicas = 1
        self._lock = threading.Lock()

    def submit(self, method: str, args=(), shards=None) -> dict:
        """`run`, to be collected later (in this process it runs now)."""
        return self.run(method, args, shards)

    def collect(self, answers: dict) -> dict:
        return answers

    def run(self, method: str, args=(), shards=None, tolerate: bool = False, report_down: bool = False) -> dict:
        out = {}
        with self._lock:
            for shard in range(self.count) if shards is None else shards:
                try:
                    out[shard] = getattr(self.objects[shard], method)(
                        *(args[shard] if isinstance(args, dict) else args)
                    )
                except Exception:
                    if not tolerate:
                        raise
        return out

    def status(self) -> list[dict]:
        return [dict(self.objects[shard].ping(), shard=shard, replica=0, alive=True) for shard in range(self.count)]

    def close(self) -> None:
        self.objects = []


class RayShards:
    """Each shard's replicas (Ray actor handles); calls go to one replica of every shard at once, round robin."""

    def __init__(self, replicas: list[list], timeout: float | None = CALL_TIMEOUT, retry: bool = True):
        self.handles = replicas
        self.count = len(replicas)
        self.replicas = max((len(r) for r in replicas), default=1)
        self.timeout = timeout  # None: wait as long as it takes (a writer's commit)
        self.retry = retry  # False: a failed call is not made again (a writer's calls are not idempotent)
        self._turn = [0] * self.count
        self._lock = threading.Lock()

    def run(self, method: str, args=(), shards=None, tolerate: bool = False, report_down: bool = False) -> dict:
        """Each shard's answer; an exception raised by the shard's method is raised here (the first, by shard
        number), unless `tolerate`. A shard that cannot answer raises `ShardUnavailable`, or with `report_down` is
        answered by a `ShardDown`."""
        return self.collect(self.submit(method, args, shards), tolerate, report_down)

    def submit(self, method: str, args=(), shards=None):
        """The calls of `run`, started: `collect` waits for them."""
        shards = list(range(self.count)) if shards is None else list(shards)
        started = {
            shard: self._submit(shard, method, args[shard] if isinstance(args, dict) else args, []) for shard in shards
        }
        return method, args, shards, started

    def collect(self, pending, tolerate: bool = False, report_down: bool = False) -> dict:
        import ray

        method, args, shards, started = pending
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:  # every shard answering is the common case: one wait for all of them
            return dict(zip(shards, ray.get([started[shard][0] for shard in shards], timeout=self.timeout)))
        except (ray.exceptions.RayError, TimeoutError):
            pass  # see which shard failed, and why, one by one
        out, failure = {}, None
        for shard in shards:
            ref, replica, tried = started[shard]
            while True:
                try:
                    out[shard] = ray.get(
                        ref,
                        timeout=self.timeout if tried or deadline is None else max(0.0, deadline - time.monotonic()),
                    )
                    break
                except ray.exceptions.RayTaskError as exc:  # the method raised: the shard is fine
                    failure = failure or _cause(exc)
                    break
                except (
                    ray.exceptions.RayActorError,
                    ray.exceptions.GetTimeoutError,
                    ray.exceptions.ObjectLostError,
                ) as exc:
                    tried.append(replica)
                    retry = self._next_replica(shard, tried) if self.retry else None
                    if retry is None and self.retry and tried.count(tried[0]) < 2:
                        time.sleep(RETRY_PAUSE)  # a lone replica is likely restarting: one more try
                        retry = tried[0]
                    if retry is None:
                        down = ShardDown(shard, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                        if report_down:
                            out[shard] = down
                        elif not tolerate:
                            failure = failure or ShardUnavailable(down)
                        break
                    replica = retry
                    ref = self._call(shard, replica, method, args[shard] if isinstance(args, dict) else args)
        if failure is not None and not tolerate:
            raise failure
        return out

    def _submit(self, shard: int, method: str, args: tuple, tried: list):
        with self._lock:
            replica = self._turn[shard] % len(self.handles[shard])
            self._turn[shard] += 1
        return self._call(shard, replica, method, args), replica, tried

    def _call(self, shard: int, replica: int, method: str, args: tuple):
        return getattr(self.handles[shard][replica], method).remote(*args)

    def _next_replica(self, shard: int, tried: list[int]) -> int | None:
        for replica in range(len(self.handles[shard])):
            if replica not in tried:
                return replica
        return None

    def status(self) -> list[dict]:
        """Every replica's `ping` (documents, generation, process, memory), or why it did not answer."""
        return replica_status(
            [
                (shard, replica, handle)
                for shard, replicas in enumerate(self.handles)
                for replica, handle in enumerate(replicas)
            ]
        )

    def close(self) -> None:
        import ray

        for replicas in self.handles:
            for handle in replicas:
                try:
                    ray.kill(handle, no_restart=True)
                except Exception:  # noqa: BLE001 - already gone
                    pass
        self.handles = []


def _cause(exc) -> BaseException:
    """The exception a shard's method raised, as it was raised (Ray wraps it)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


# --- Ray ---------------------------------------------------------------------------------------------------------
def connect(address: str | None = None):
    """The `ray` module, connected: to the cluster at `address`, or to a local instance started now."""
    try:
        import ray
    except ImportError:
        raise ClusterUnavailable(
            "sharded indexes run on Ray, which is not installed: pip install 'newsearch[cluster]'"
        ) from None
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {
        "namespace": NAMESPACE,
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
    }
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise ClusterUnavailable(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A HOST:PORT that nothing answers on is said at once (Ray itself retries its GCS for minutes)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", ray://…: Ray's own business
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterUnavailable(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc} (start its head "
            "with `ray start --head`, and pass the address it prints)"
        ) from None


LOCAL_OBJECT_STORE = 512 << 20
_pools = itertools.count(
    1
)  # actor sets started by this process  # bytes: batches of documents and shard answers pass through it


def actor_cpus(address: str | None) -> float:
    """CPUs each shard actor reserves: on a cluster, one (a shard searches or builds on one core, and Ray then
    spreads shards over nodes by their cores); on a local instance none, so any number of shards start on a
    small machine."""
    configured = os.environ.get("NEWSEARCH_ACTOR_CPUS")
    if configured:
        return float(configured)
    return 1.0 if address else 0.0


def actor_prefix(root: str) -> str:
    """Names of one index's actors: several servers (or indexes) can share a cluster."""
    return "newsearch-" + hashlib.blake2b(os.path.abspath(root).encode(), digest_size=4).hexdigest()


@contextmanager
def shard_objects(
    cls,
    dirs: list[str],
    cluster: str | None = None,
    in_process: bool = False,
    role: str = "writer",
    replicas: int = 1,
    max_restarts: int = 0,
    root: str | None = None,
    ready_timeout: float = 300.0,
    **kwargs,
):
    """`Shards` of `cls(dir, **kwargs)`, one per directory (× `replicas`), for the length of the block."""
    shards = start_shards(cls, dirs, cluster, in_process, role, replicas, max_restarts, root, ready_timeout, **kwargs)
    try:
        yield shards
    finally:
        shards.close()


def start_shards(
    cls,
    dirs: list[str],
    cluster: str | None = None,
    in_process: bool = False,
    role: str = "writer",
    replicas: int = 1,
    max_restarts: int = 0,
    root: str | None = None,
    ready_timeout: float = 300.0,
    call_timeout: float = CALL_TIMEOUT,
    **kwargs,
):
    """One `cls(dir, **kwargs)` per directory (× `replicas`): Ray actors restarted up to `max_restarts` times
    (-1: always), each call waited for at most `call_timeout` seconds; or objects in this process."""
    if in_process:
        return InProcessShards([cls(d, **kwargs) for d in dirs])
    ray = connect(cluster)
    actor = ray.remote(cls)
    # named, so `newsearch cluster status` can find them: index, role, the process that started them, shard, replica
    prefix = f"{actor_prefix(root or (os.path.dirname(dirs[0]) if dirs else ''))}-{role}-{os.getpid()}-{next(_pools)}"
    handles = []
    for shard, directory in enumerate(dirs):
        handles.append(
            [
                actor.options(
                    name=f"{prefix}-{shard:02d}-r{r}",
                    namespace=NAMESPACE,
                    max_restarts=max_restarts,
                    max_task_retries=0,
                    num_cpus=actor_cpus(cluster),
                    scheduling_strategy="SPREAD",
                    get_if_exists=False,
                ).remote(directory, **kwargs)
                for r in range(replicas)
            ]
        )
    # a writer's calls change its shard: waited for however long a commit takes, never repeated
    writing = role == "writer"
    shards = RayShards(handles, timeout=None if writing else call_timeout, retry=not writing)
    _wait_ready(ray, shards, ready_timeout)
    return shards


def _wait_ready(ray, shards: RayShards, timeout: float) -> None:
    """Every actor constructed (its index opened), or the reason it was not: a shard's error (a locked or missing
    index) is raised as it was; actors the cluster cannot place are reported after `timeout`."""
    refs = [
        (shard, handle.__ray_ready__.remote()) for shard, replicas in enumerate(shards.handles) for handle in replicas
    ]
    deadline = time.monotonic() + timeout
    try:
        for shard, ref in refs:
            try:
                ray.get(ref, timeout=max(0.1, deadline - time.monotonic()))
            except ray.exceptions.GetTimeoutError:
                raise ClusterUnavailable(
                    f"shard {shard}'s actor was not placed within {timeout:g} s: the cluster has "
                    "too few free CPUs (see `ray status`), or NEWSEARCH_ACTOR_CPUS is too "
                    "high"
                ) from None
            except ray.exceptions.RayActorError as exc:
                raise _creation_error(exc, shard) from None
    except BaseException:
        shards.close()
        raise


def _creation_error(exc, shard: int) -> BaseException:
    cause = getattr(exc, "cause", None) or getattr(getattr(exc, "error_context", None), "cause", None)
    inner = getattr(cause, "cause", cause)
    if isinstance(inner, SearchError):
        return inner
    return ClusterUnavailable(f"shard {shard}'s actor failed to start: {str(exc).splitlines()[0][:300]}")


def replica_status(replicas: list[tuple[int, int, Any]], timeout: float = 10.0) -> list[dict]:
    import ray

    refs = [(shard, replica, handle.ping.remote()) for shard, replica, handle in replicas]
    out = []
    for shard, replica, ref in refs:
        try:
            out.append(dict(ray.get(ref, timeout=timeout), shard=shard, replica=replica, alive=True))
        except Exception as exc:  # noqa: BLE001 - dead, restarting or too slow: said so
            out.append(
                {
                    "shard": shard,
                    "replica": replica,
                    "alive": False,
                    "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                }
            )
    return out


def running_replicas(root: str, cluster: str | None) -> list[tuple[int, int, object]]:
    """(shard, replica, handle) of the search actors a `newsearch serve --shards ROOT` runs on the cluster (or on
    the local Ray instance it started)."""
    ray = connect(cluster or "auto")
    prefix = actor_prefix(root) + "-search-"
    found = []
    for entry in ray.util.list_named_actors(all_namespaces=True):
        name, namespace = entry["name"], entry["namespace"]
        if namespace != NAMESPACE or not name.startswith(prefix):
            continue
        try:
            shard, replica = name.rsplit("-", 2)[1:]
            handle = ray.get_actor(name, namespace=NAMESPACE)
        except (ValueError, IndexError):
            continue
        found.append((int(shard), int(replica.lstrip("r")), handle))
    return sorted(found, key=lambda item: item[:2])


def actor_restarted() -> bool:
    """Whether this is a Ray actor brought back after its process died."""
    try:
        import ray

        return ray.is_initialized() and ray.get_runtime_context().was_current_actor_reconstructed
    except Exception:  # noqa: BLE001 - not in a Ray worker
        return False


def actor_node() -> str:
    try:
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""
    except Exception:  # noqa: BLE001 - not in a Ray worker
        return ""
