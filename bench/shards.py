#!/usr/bin/env python3
"""A sharded index on a local Ray instance against one index over the same corpus, measured in one run.

  .venv/bin/python bench/shards.py --size 100k --shards 4              # build both, search both
  .venv/bin/python bench/shards.py --size 100k --shards 4 --skip-index # search the indexes built before

Figures (bench/README.md says what each means): the build of the sharded index (`newsearch index --shards N`) and
of one index, in wall and CPU time, with the memory of the Ray processes; the query mix of bench/run.py (queries.py,
pages 1 and 5 with region and date facets and highlighted hits) on one index and fanned out to the shards, cold and
warm, each answer checked to be the one index's; the fan-out's own cost (a round of calls that do nothing, a query
that matches nothing); and the memory of the Ray runtime serving the shards. Writes bench/out/shards-<size>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import corpus as corpora  # noqa: E402
from procmem import _pss, run_measured, tree_memory  # noqa: E402
from run import PAGES, PER_PAGE, index_dir, machine, now, summary, versions  # noqa: E402

OUT = BENCH / "out"


def sharded_dir(size: str, shards: int) -> Path:
    return BENCH / "data" / f"index-shards{shards}-{size}"


def ray_processes() -> list[int]:
    """The processes of this machine's Ray runtime: its GCS server, raylet, log monitor, workers and actors."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        if b"ray::" in cmd or b"/ray/" in cmd or b"raylet" in cmd or b"gcs_server" in cmd:
            found.append(int(entry))
    return found


def ray_pss() -> int:
    return sum(_pss(pid) for pid in ray_processes())


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class PeakSampler:
    """Peak PSS of the Ray processes plus a process tree, and the CPU time Ray's processes spent, sampled every
    `interval` seconds (actors are not children of the command that starts them: their time is not in its
    rusage)."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_ray, self.peak_total = interval, 0, 0
        self._cpu_start = {pid: cpu_seconds(pid) for pid in ray_processes()}
        self._cpu_last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def ray_cpu_seconds(self) -> float:
        return round(sum(t - self._cpu_start.get(pid, 0.0) for pid, t in self._cpu_last.items()), 2)

    def _run(self):
        while not self._done.is_set():
            pids = ray_processes()
            ray_part = sum(_pss(pid) for pid in pids)
            for pid in pids:
                self._cpu_last[pid] = max(self._cpu_last.get(pid, 0.0), cpu_seconds(pid))
            self.peak_ray = max(self.peak_ray, ray_part)
            self.peak_total = max(self.peak_total, ray_part + tree_memory(os.getpid())[1])
            self._done.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def build(size: str, shards: int, corpus: Path) -> dict:
    newsearch = str(Path(sys.executable).with_name("newsearch"))
    figures = {}
    for name, target, extra in (
        ("single", index_dir("newsearch", size), []),
        ("sharded", sharded_dir(size, shards), ["--shards", str(shards)]),
    ):
        if target.exists():
            shutil.rmtree(target)
        cmd = [newsearch, "index", "--rebuild", "--quiet", "--index", str(target), *extra, str(corpus)]
        print(f"[{name}] {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        with PeakSampler() as peak:
            m = run_measured(cmd, cwd=str(ROOT))
        if m["returncode"] != 0:
            raise SystemExit(f"[{name}] indexing failed:\n{m['stderr'][-3000:]}")
        # the shards' writers are Ray actors, not children of the command: their CPU time is not in cpu_seconds
        figures[name] = {
            "seconds": m["seconds"],
            "driver_cpu_seconds": m["cpu_seconds"],
            "ray_cpu_seconds": peak.ray_cpu_seconds,
            "peak_pss_bytes_with_ray": peak.peak_total,
            "peak_ray_pss_bytes": peak.peak_ray,
            "loadavg_after": os.getloadavg(),
            "index_bytes": sum(p.stat().st_size for p in target.rglob("*") if p.is_file()),
        }
        print(f"[{name}] {m['seconds']:.1f} s", file=sys.stderr, flush=True)
    return figures


def requests(queries: list[dict]) -> list:
    from search.query.request import SearchRequest

    out = []
    for q in queries:
        for page in PAGES:
            params = {"q": q["q"], "per_page": str(PER_PAGE), "page": str(page)}
            params.update({k: q[k] for k in ("region", "date_from", "date_to") if q.get(k)})
            out.append(SearchRequest.from_params(params))
    return out


def timed(engine, reqs) -> tuple[list[float], list]:
    lat, answers = [], []
    for req in reqs:
        t = time.perf_counter()
        result = engine.search(req)
        lat.append(round((time.perf_counter() - t) * 1000, 3))
        answers.append(result)
    return lat, answers


def comparable(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("took_ms", "partial", "missing_shards")}


def search(size: str, shards: int, corpus: Path) -> dict:
    import queries as query_mix

    from search.cluster.actors import connect, start_shards
    from search.cluster.fanout import ShardedEngine
    from search.cluster.layout import open_layout
    from search.cluster.shard import ShardService
    from search.query.engine import SearchEngine
    from search.query.request import SearchRequest

    mix = query_mix.build(corpus)
    reqs = requests(mix)
    out: dict = {"requests": len(reqs)}
    before = ray_pss()
    connect()
    out["ray_runtime_pss_bytes_idle"] = ray_pss() - before
    root = sharded_dir(size, shards)
    t = time.perf_counter()
    pool = start_shards(
        ShardService, [str(d) for d in open_layout(root).dirs], role="search", max_restarts=-1, root=str(root)
    )
    out["actors_ready_ms"] = round((time.perf_counter() - t) * 1000, 1)
    sharded = ShardedEngine(root, pool)
    out["ray_pss_bytes_serving"] = ray_pss()
    out["actor_rss_bytes"] = [s["rss_bytes"] for s in sharded.status()]
    t = time.perf_counter()
    single = SearchEngine(index_dir("newsearch", size))
    single.search(SearchRequest())  # facet arrays, as the shards build theirs at start
    out["single_open_ms"] = round((time.perf_counter() - t) * 1000, 1)
    for name, engine in (("single", single), ("sharded", sharded)):
        for phase in ("cold", "warm"):
            lat, answers = timed(engine, reqs)
            out[f"{name}_{phase}"] = {"latency_ms": lat, "summary": summary(lat)}
            if name == "single" and phase == "warm":
                expected = [comparable(a) for a in answers]
            if name == "sharded" and phase == "warm":
                out["identical_answers"] = sum(comparable(a) == e for a, e in zip(answers, expected))
    # the fan-out's own cost
    rounds = []
    for _ in range(200):
        t = time.perf_counter()
        pool.run("ping")
        rounds.append((time.perf_counter() - t) * 1000)
    out["ping_round_ms"] = summary(rounds)
    # an empty query (a browse: no statistics round, every shard matches and sorts by date, one fetches) and one
    # that matches nothing (two rounds, then did-you-mean's rounds)
    for label, req in (
        ("empty_query", SearchRequest.from_params({"q": "", "per_page": "1"})),
        ("zero_hit", SearchRequest.from_params({"q": "无此词汇组合甲乙"})),
    ):
        for name, engine in (("single", single), ("sharded", sharded)):
            engine.search(req)
            lat, _ = timed(engine, [req] * 100)
            out[f"{label}_{name}_ms"] = summary(lat)
    out["ray_pss_bytes_after"] = ray_pss()
    sharded.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", required=True, choices=list(corpora.SIZES))
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--skip-index", action="store_true")
    args = ap.parse_args()
    corpus = corpora.ensure(args.size)
    doc = {
        "size": args.size,
        "shards": args.shards,
        "started": now(),
        "machine": machine(),
        "versions": versions(),
        "argv": sys.argv,
    }
    if not args.skip_index:
        doc["build"] = build(args.size, args.shards, corpus)
    doc["search"] = search(args.size, args.shards, corpus)
    doc["finished"] = now()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"shards-{args.size}-{doc['started'].replace(':', '')}.json"
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    s = doc["search"]
    print(json.dumps({k: v for k, v in s.items() if not isinstance(v, dict) or "summary" not in v}, indent=1))
    for key in ("single_cold", "single_warm", "sharded_cold", "sharded_warm"):
        print(key, s[key]["summary"])
    if "build" in doc:
        print(json.dumps(doc["build"], indent=1))
    print(f"raw figures: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
