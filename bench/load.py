"""A bounded load test on loopback: `newsearch serve` on a generated index, hammered by client threads for a fixed
time with a realistic mix of requests; throughput, latency percentiles and errors go to bench/RESULTS-load.md.

    python bench/load.py --articles 10000                      # bench/data/synth-10k.jsonl → bench/data/index-10k
    python bench/load.py --articles 100000 --duration 60       # the issue's target size (generates the corpus)

The corpus is bench/data/synth-<N>.jsonl (made with ../shared/corpus/synth.py when missing), the index
bench/data/index-<N> (built with `newsearch index` when missing). Target: >= 100 requests/s, p99 < 500 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
SYNTH = ROOT.parent / "shared" / "corpus" / "synth.py"


def human(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def ensure_corpus(articles: int) -> Path:
    corpus = DATA / f"synth-{human(articles)}.jsonl"
    if not corpus.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(SYNTH), "--n", str(articles), "--out", str(corpus)], check=True)
    return corpus


def ensure_index(corpus: Path, index_dir: Path) -> float | None:
    """Build the index when missing; the seconds it took (None when it existed)."""
    if (index_dir / "manifest.json").exists():
        return None
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "search.cli", "index", "--index", str(index_dir), "-q", str(corpus)],
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - started


def request_mix(corpus: Path, seed: int = 1) -> list[str]:
    """Paths in proportion to what readers do: keyword searches (2–4 characters cut from headlines), two-word
    searches, phrase searches, filtered and sorted searches, a second page, browsing, the API, article pages."""
    rng = random.Random(seed)
    heads, ids, regions = [], [], []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            heads.append(record.get("headline") or record["body"][:20])
            ids.append(record.get("id"))
            if record.get("region"):
                regions.append(record["region"].split("/")[0])
            if len(heads) >= 5000:
                break
    words = []
    for head in heads:
        cjk = "".join(ch for ch in head if "\u4e00" <= ch <= "\u9fff")
        if len(cjk) >= 4:
            at = rng.randrange(0, len(cjk) - 3)
            words.append(cjk[at : at + rng.choice((2, 2, 3, 4))])
    paths = []
    for _ in range(2000):
        kind = rng.random()
        w = rng.choice(words)
        if kind < 0.35:
            paths.append(f"/api/search?q={quote(w)}")
        elif kind < 0.50:
            paths.append(f"/search?q={quote(w)}")
        elif kind < 0.60:
            paths.append(f"/api/search?q={quote(w + ' ' + rng.choice(words))}")
        elif kind < 0.67:
            paths.append(f"/api/search?q={quote(chr(34) + w + chr(34))}")
        elif kind < 0.75:
            paths.append(f"/api/search?q={quote(w)}&region={quote(rng.choice(regions))}&sort=-date")
        elif kind < 0.80:
            paths.append(f"/api/search?q={quote(w)}&page=2")
        elif kind < 0.85:
            paths.append("/api/search?date_from=2020-01&date_to=2020-06")
        elif kind < 0.88:
            paths.append("/")
        elif kind < 0.95:
            paths.append(f"/api/articles/{quote(rng.choice(ids), safe='')}")
        else:
            paths.append(f"/articles/{quote(rng.choice(ids), safe='')}")
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, port: int, threads: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSEARCH_INDEX", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "search.cli",
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(port),
            "--threads",
            str(threads),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/stats")
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            conn.close()
            if response.status == 200:
                return process
            process.terminate()
            raise SystemExit(f"the server answered /api/stats with {response.status}: {body}")
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start within 120 s")


def client(port: int, paths: list[str], start: float, warm_until: float, stop: float, out: dict, seed: int):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors, statuses = [], [], {}
    while True:
        now = time.perf_counter()
        if now >= stop:
            break
        path = rng.choice(paths)
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = f"{type(exc).__name__}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t1 = time.perf_counter()
        if t0 >= warm_until:
            latencies.append(t1 - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200:
                errors.append((path, status))
    conn.close()
    out[seed] = (latencies, errors, statuses)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load average {os.getloadavg()[0]:.1f} before the run (other work on the machine)"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}{load}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="corpus/index size (10000, 100000 …)")
    parser.add_argument("--corpus", type=Path, help="JSONL corpus (default bench/data/synth-<N>.jsonl)")
    parser.add_argument("--index", type=Path, help="index directory (default bench/data/index-<N>)")
    parser.add_argument("--threads", type=int, default=2, help="server (waitress) threads per worker process")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (newsearch serve --workers)")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds (after --warmup)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS-load.md")
    args = parser.parse_args(argv)

    corpus = args.corpus or ensure_corpus(args.articles)
    index_dir = args.index or DATA / f"index-{human(args.articles)}"
    built = ensure_index(corpus, index_dir)
    paths = request_mix(corpus)
    port = free_port()
    log = DATA / "load-server.log"
    server = start_server(index_dir, port, args.threads, args.workers, log)
    try:
        start = time.perf_counter()
        warm_until, stop = start + args.warmup, start + args.warmup + args.duration
        out: dict = {}
        threads = [
            threading.Thread(target=client, args=(port, paths, start, warm_until, stop, out, seed))
            for seed in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = [x for lat, _, _ in out.values() for x in lat]
    errors = [e for _, errs, _ in out.values() for e in errs]
    statuses: dict = {}
    for _, _, st in out.values():
        for k, v in st.items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    figures = {
        "requests": len(latencies),
        "rps": len(latencies) / args.duration,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "errors": len(errors),
        "statuses": statuses,
    }
    met = figures["rps"] >= 100 and figures["p99_ms"] < 500 and not errors
    command = "python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {args.articles:,} articles",
        "",
        f"- command: `{command.strip()}`",
        f"- machine: {machine()}; server `newsearch serve --workers {args.workers} --threads {args.threads}`, "
        f"{args.clients} client threads "
        f"(keep-alive, same machine), {args.warmup:g} s warm-up, {args.duration:g} s measured",
        f"- index: {index_dir.name}" + (f" (built in {built:.0f} s)" if built else ""),
        f"- throughput **{figures['rps']:.1f} requests/s** ({figures['requests']} requests)",
        f"- latency p50 **{figures['p50_ms']:.0f} ms**, p95 **{figures['p95_ms']:.0f} ms**, "
        f"p99 **{figures['p99_ms']:.0f} ms**, max {figures['max_ms']:.0f} ms, mean {figures['mean_ms']:.0f} ms",
        f"- errors **{len(errors)}**; statuses {json.dumps(statuses)}" + (f"; first: {errors[0]}" if errors else ""),
        f"- target (>= 100 requests/s, p99 < 500 ms, 0 errors): **{'met' if met else 'not met'}**",
        "",
    ]
    print("\n".join(section))
    if args.results:
        header = "" if args.results.exists() else "# Load test results\n\nWritten by `bench/load.py`, newest last.\n\n"
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(header + "\n".join(section) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
