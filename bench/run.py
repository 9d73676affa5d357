#!/usr/bin/env python3
"""newsearch against the naive jieba + Whoosh recipe (bench/naive.py), measured in one run.

  .venv/bin/python bench/run.py --size 10k                       # build corpus + both indexes, search, HTTP
  .venv/bin/python bench/run.py --size 10k --skip-index          # reuse the indexes (and their indexing figures)
  .venv/bin/python bench/run.py --size 100k --systems newsearch  # one system only (no ratios then)
  .venv/bin/python bench/run.py --size xwlb                      # the real CCTV set (~36k items)

Writes bench/out/<size>-<UTC time>.json (raw figures: every latency, every total) and prints a Markdown table.
Indexes live in bench/data/index-<system>-<size>/. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import corpus as corpora  # noqa: E402
from procmem import run_measured  # noqa: E402

DATA, OUT = BENCH / "data", BENCH / "out"
SYSTEMS = ("newsearch", "naive")
PAGES = (1, 5)
PER_PAGE = 10


def index_dir(system: str, size: str) -> Path:
    return DATA / f"index-{system}-{size}"


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def text_figures(path: Path) -> dict:
    """Articles and UTF-8 bytes of headline + body (what both systems index as text)."""
    n = text = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                n += 1
                text += len((a.get("headline") or "").encode()) + len(a["body"].encode())
    return {"articles": n, "text_bytes": text, "file_bytes": path.stat().st_size}


def newsearch_bin() -> str:
    exe = Path(sys.executable).with_name("newsearch")
    return str(exe) if exe.exists() else "newsearch"


# --- indexing ---------------------------------------------------------------------------------------------------
def measure_index(system: str, size: str, corpus: Path, text: dict) -> dict:
    target = index_dir(system, size)
    if target.exists():
        shutil.rmtree(target)
    if system == "newsearch":
        cmd = [newsearch_bin(), "index", "--rebuild", "--quiet", "--index", str(target), str(corpus)]
    else:
        cmd = [sys.executable, str(BENCH / "naive.py"), "index", str(corpus), str(target)]
    print(f"[{system}] indexing {corpus.name} → {target.relative_to(ROOT)}", file=sys.stderr, flush=True)
    load_before = os.getloadavg()
    m = run_measured(cmd, cwd=str(ROOT))
    if m["returncode"] != 0:
        raise SystemExit(f"[{system}] indexing failed ({m['returncode']}):\n{m['stderr'][-3000:]}")
    size_bytes = dir_bytes(target)
    fig = {
        "system": system,
        "size": size,
        "command": cmd,
        "seconds": m["seconds"],
        "articles_per_s": round(text["articles"] / m["seconds"], 1),
        "text_MB_per_s": round(text["text_bytes"] / 1e6 / m["seconds"], 3),
        "cpu_seconds": m["cpu_seconds"],
        "articles_per_cpu_s": round(text["articles"] / m["cpu_seconds"], 1) if m["cpu_seconds"] else None,
        "index_bytes": size_bytes,
        "index_to_text": round(size_bytes / text["text_bytes"], 2),
        "peak_tree_rss_bytes": m["peak_tree_rss_bytes"],
        "peak_tree_pss_bytes": m["peak_tree_pss_bytes"],
        "ru_maxrss_bytes": m["ru_maxrss_bytes"],
        "stdout_tail": m["stdout"][-500:],
        "stderr_tail": m["stderr"][-500:],
        "measured_at": now(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"index-{system}-{size}.json").write_text(json.dumps(fig, ensure_ascii=False, indent=1) + "\n")
    print(f"[{system}] {m['seconds']:.1f} s, peak RSS {m['peak_tree_rss_bytes'] / 2**20:.0f} MiB", file=sys.stderr)
    return fig


def recorded_index(system: str, size: str) -> dict | None:
    path = OUT / f"index-{system}-{size}.json"
    return json.loads(path.read_text()) if path.exists() else None


# --- searching in a fresh process -------------------------------------------------------------------------------
def _requests(queries: list[dict]) -> list[dict]:
    return [dict(q, page=page) for q in queries for page in PAGES]


def search_child(system: str, index: str, queries_file: str) -> None:
    """In a fresh process: open the index, run every request twice (cold, then warm); JSON on stdout."""
    import contextlib
    import io

    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    reqs = _requests(queries)
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        if system == "newsearch":
            from search.query.engine import SearchEngine
            from search.query.request import SearchRequest

            engine = SearchEngine(index)

            def run(r):
                params = {"q": r["q"], "per_page": str(PER_PAGE), "page": str(r["page"])}
                params.update({k: r[k] for k in ("region", "date_from", "date_to") if r.get(k)})
                res = engine.search(SearchRequest.from_params(params))
                return res["total"], len(res["hits"])
        else:
            import naive

            s = naive.NaiveSearcher(index)

            def run(r):
                res = s.search(r["q"], r.get("region"), r.get("date_from"), r.get("date_to"), r["page"], PER_PAGE)
                return res["total"], len(res["hits"])

    opened = time.perf_counter() - t0
    passes = []
    for _ in ("cold", "warm"):
        lat, totals, errors = [], [], 0
        for r in reqs:
            t = time.perf_counter()
            try:
                total, _ = run(r)
            except Exception as exc:  # a failing query is recorded, not fatal
                total, errors = f"error: {type(exc).__name__}: {exc}"[:200], errors + 1
            lat.append(round((time.perf_counter() - t) * 1000, 3))
            totals.append(total)
        passes.append({"latency_ms": lat, "totals": totals, "errors": errors})
    json.dump({"open_ms": round(opened * 1000, 1), "cold": passes[0], "warm": passes[1]}, sys.stdout)


def measure_search(system: str, size: str, queries_file: Path) -> dict:
    print(f"[{system}] searching (fresh process: cold pass, warm pass)", file=sys.stderr, flush=True)
    cmd = [sys.executable, str(Path(__file__)), "--_search", system, str(index_dir(system, size)), str(queries_file)]
    m = run_measured(cmd, cwd=str(ROOT))
    if m["returncode"] != 0:
        raise SystemExit(f"[{system}] search failed:\n{m['stderr'][-3000:]}")
    out = json.loads(m["stdout"])
    out["peak_rss_bytes"] = m["peak_tree_rss_bytes"]
    out["loadavg_after"] = os.getloadavg()
    return out


# --- the HTTP API -----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_http(size: str, queries: list[dict]) -> dict:
    port = free_port()
    # `python -m search.cli serve` from the project root rather than the `newsearch` console script: in this
    # virtualenv the editable install's finder resolves `web` as a namespace package when the working directory is
    # not on sys.path, and `newsearch serve` fails with "cannot import name 'create_app' from 'web'".
    # One worker process: this pass measures one request at a time, and "warm" must mean the process answering has
    # seen the query (with several workers the second pass lands on either). Throughput under concurrency, with
    # several workers, is bench/load.py's.
    cmd = [
        sys.executable,
        "-m",
        "search.cli",
        "serve",
        "--index",
        str(index_dir("newsearch", size)),
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    print(f"[newsearch] HTTP API on port {port}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/search"
    try:
        while True:  # ready when the port answers; the index is opened at app creation, before serving
            if server.poll() is not None:
                raise SystemExit(f"newsearch serve exited with {server.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        ready_ms = round((time.perf_counter() - started) * 1000, 1)
        passes = {}
        for name in ("cold", "warm"):
            lat, totals, errors = [], [], 0
            for r in _requests(queries):
                params = [("q", r["q"]), ("per_page", PER_PAGE), ("page", r["page"])]
                params += [(k, r[k]) for k in ("region", "date_from", "date_to") if r.get(k)]
                url = base + "?" + urllib.parse.urlencode(params)
                t = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=120) as resp:
                        body = resp.read()
                    total = json.loads(body)["total"]
                except Exception as exc:
                    total, errors = f"error: {exc}"[:200], errors + 1
                lat.append(round((time.perf_counter() - t) * 1000, 3))
                totals.append(total)
            passes[name] = {"latency_ms": lat, "totals": totals, "errors": errors}
        return {"ready_ms": ready_ms, **passes}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- figures and the table --------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


def summary(lat: list[float]) -> dict:
    return {"p50": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat), "mean": round(sum(lat) / len(lat), 3)}


def totals_by_class(queries: list[dict], results: dict) -> dict:
    """Per query class: sum of page-1 totals per system, and in how many queries newsearch ≥ naive."""
    reqs = _requests(queries)
    out: dict[str, dict] = {}
    for i, r in enumerate(reqs):
        if r["page"] != 1:
            continue
        row = out.setdefault(r["cls"], {"queries": 0, "ns_ge_naive": 0, "zero_hits": {}})
        row["queries"] += 1
        vals = {}
        for system, res in results.items():
            t = res["warm"]["totals"][i]
            vals[system] = t if isinstance(t, int) else 0
            row[f"{system}_total"] = row.get(f"{system}_total", 0) + vals[system]
            row["zero_hits"][system] = row["zero_hits"].get(system, 0) + (vals[system] == 0)
        if "newsearch" in vals and "naive" in vals and vals["newsearch"] >= vals["naive"]:
            row["ns_ge_naive"] += 1
    return out


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free_h": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("newsearch", "whoosh3", "jieba", "numpy", "flask", "waitress"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    try:
        out["git"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "search"], capture_output=True, text=True
        ).stdout
        out["search_dirty_files"] = [line[3:] for line in dirty.splitlines()]
    except OSError:
        pass
    return out


def mib(b: int) -> str:
    return f"{b / 2**20:,.0f} MiB"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "—"


def table(doc: dict) -> str:
    idx, srch, http = doc["index"], doc["search"], doc.get("http")
    systems = [s for s in SYSTEMS if s in idx or s in srch]
    both = "newsearch" in systems and "naive" in systems
    head = "| figure | " + " | ".join(systems) + (" | newsearch / naive |" if both else " |")
    lines = [head, "|" + "---|" * (len(systems) + 1 + both)]

    def row(label, values, fmt, r=None):
        cells = [fmt(values[s]) if values.get(s) is not None else "—" for s in systems]
        if both:
            a, b = values.get("newsearch"), values.get("naive")
            cells.append(r if r is not None else (ratio(a, b) if a is not None and b else "—"))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    get = lambda d, *k: {s: _dig(d.get(s), *k) for s in systems}  # noqa: E731
    row("indexing time (s)", get(idx, "seconds"), lambda v: f"{v:,.1f}")
    row("indexing articles/s", get(idx, "articles_per_s"), lambda v: f"{v:,.0f}")
    row("indexing MB/s (headline+body UTF-8)", get(idx, "text_MB_per_s"), lambda v: f"{v:.3f}")
    row("indexing CPU time, user+sys (s)", get(idx, "cpu_seconds"), lambda v: f"{v:,.1f}")
    row("indexing articles per CPU-second", get(idx, "articles_per_cpu_s"), lambda v: f"{v:,.0f}")
    row("index size on disk", get(idx, "index_bytes"), mib)
    row("index size / text size", get(idx, "index_to_text"), lambda v: f"{v:.2f}")
    row("peak RSS while indexing (process tree, sampled)", get(idx, "peak_tree_rss_bytes"), mib)
    row("peak PSS while indexing (process tree, sampled)", get(idx, "peak_tree_pss_bytes"), mib)
    row("ru_maxrss of the indexing process", get(idx, "ru_maxrss_bytes"), mib)
    row("load average (1 min) after indexing", get(idx, "loadavg_after"), lambda v: f"{v[0]:.1f}", r="")
    row("imports + open index in a fresh process (ms)", get(srch, "open_ms"), lambda v: f"{v:,.0f}")
    for p in ("cold", "warm"):
        for stat in ("p50", "p95", "max"):
            row(f"search {p} {stat} (ms)", get(srch, p, "summary", stat), lambda v: f"{v:,.1f}")
    if http:
        for p in ("cold", "warm"):
            for stat in ("p50", "p95", "max"):
                v = http[p]["summary"][stat]
                lines.append(f"| HTTP API {p} {stat} (ms) | {v:,.1f} |" + (" — | — |" if both else ""))
    out = "\n".join(lines)
    tb = doc.get("totals_by_class")
    if tb:
        out += "\n\nTotals per query class (page-1 requests, summed; warm pass):\n\n"
        out += (
            "| class | queries | "
            + " | ".join(f"{s} total" for s in systems)
            + " | "
            + " | ".join(f"{s} zero-hit queries" for s in systems)
            + (" | queries with newsearch ≥ naive |" if both else " |")
            + "\n"
        )
        out += "|" + "---|" * (2 + 2 * len(systems) + both) + "\n"
        for cls, r in tb.items():
            out += (
                f"| {cls} | {r['queries']} | "
                + " | ".join(f"{r.get(f'{s}_total', 0):,}" for s in systems)
                + " | "
                + " | ".join(str(r["zero_hits"].get(s, 0)) for s in systems)
                + (f" | {r['ns_ge_naive']}/{r['queries']} |" if both else " |")
                + "\n"
            )
    return out


def _dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_search":
        search_child(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", required=True, choices=[*corpora.SIZES, "xwlb"])
    ap.add_argument("--systems", default="newsearch,naive")
    ap.add_argument(
        "--skip-index",
        action="store_true",
        help="reuse bench/data/index-<system>-<size>/ and the indexing figures recorded when it was built",
    )
    ap.add_argument("--index-only", action="store_true", help="build the indexes, measure indexing, stop")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP API pass")
    args = ap.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in systems:
        if s not in SYSTEMS:
            ap.error(f"unknown system {s!r} (known: {', '.join(SYSTEMS)})")

    import queries as query_mix

    corpus = corpora.ensure(args.size)
    text = text_figures(corpus)
    doc = {
        "size": args.size,
        "corpus": str(corpus.relative_to(ROOT)),
        "corpus_sha256": corpora.sha256(corpus),
        "text": text,
        "started": now(),
        "machine": machine(),
        "versions": versions(),
        "argv": sys.argv,
        "index": {},
        "search": {},
    }
    for system in systems:
        if args.skip_index:
            fig = recorded_index(system, args.size)
            if not index_dir(system, args.size).exists():
                raise SystemExit(f"--skip-index: no index at {index_dir(system, args.size)}")
            if fig:
                fig["reused"] = True
                doc["index"][system] = fig
        else:
            doc["index"][system] = measure_index(system, args.size, corpus, text)
    if not args.index_only:
        queries = query_mix.build(corpus)
        OUT.mkdir(parents=True, exist_ok=True)
        qfile = OUT / f"queries-{args.size}.json"
        qfile.write_text(json.dumps(queries, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        doc["queries"] = queries
        for system in systems:
            res = measure_search(system, args.size, qfile)
            for p in ("cold", "warm"):
                res[p]["summary"] = summary(res[p]["latency_ms"])
            doc["search"][system] = res
        if "newsearch" in systems and not args.no_http:
            http = measure_http(args.size, queries)
            for p in ("cold", "warm"):
                http[p]["summary"] = summary(http[p]["latency_ms"])
            doc["http"] = http
        doc["totals_by_class"] = totals_by_class(queries, doc["search"])
    doc["finished"] = now()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"{args.size}-{doc['started'].replace(':', '')}.json"
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"# {args.size}: {text['articles']:,} articles, {text['text_bytes'] / 1e6:.1f} MB of headline+body text "
        f"({doc['started']})\n"
    )
    print(table(doc))
    print(f"\nraw figures: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
