#!/usr/bin/env python3
"""Latency of the concordance (/api/kwic) on an index, beside /api/search for the same query.

  .venv/bin/python bench/kwic.py --index bench/data/index-xwlb --q 复工复产 --runs 30

Requests go to the Flask app in this process (no HTTP server), one at a time, after one warm-up request each (the
facet arrays and posting lists are then in memory, as on a running server); the very first request is timed apart. Prints the answer's counts and the
p50 / p95 / max wall time of: /api/search, /api/kwic (the first 100 lines), /api/kwic sorted by the right context,
and the CSV export of every line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="index directory (read only)")
    parser.add_argument("--q", default="复工复产")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from web import create_app

    client = create_app({"INDEX_DIR": args.index, "TESTING": True, "SEARCH_TIME_LIMIT": 0}).test_client()
    q = quote(args.q)
    urls = {
        "/api/search": f"/api/search?q={q}",
        "/api/kwic": f"/api/kwic?q={q}",
        "/api/kwic sort=right": f"/api/kwic?q={q}&sort=right",
        "/api/kwic format=csv": f"/api/kwic?q={q}&format=csv",
    }
    started = time.perf_counter()
    kwic = client.get(urls["/api/kwic"]).get_json()
    cold = (time.perf_counter() - started) * 1000
    search = client.get(urls["/api/search"]).get_json()
    print(
        f"q={args.q}: search total {search['total']}; kwic articles {kwic['articles']}, read "
        f"{kwic['articles_scanned']}, lines {kwic['matches']}, capped {kwic['capped']}; "
        f"the first /api/kwic (opening the index, its facet arrays): {cold:.0f} ms"
    )
    print("| request | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
    for name, url in urls.items():
        client.get(url)  # warm
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data()[:200]
        print(
            f"| `{name}` | {statistics.median(times):.0f} | {percentile(times, 95):.0f} | {max(times):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
