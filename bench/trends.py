#!/usr/bin/env python3
"""/api/trends latency: two queries compared by month as a share of all articles, through the Flask app in process.

  .venv/bin/python bench/trends.py --index INDEX_DIR [--repeat 50]

Three figures: the first request (the facet arrays built, the postings read), the same request warm (`--repeat`
times), and twenty other query pairs each asked once (their postings read for the first time). Each answer's counts
are checked against /api/search's totals for three of its months. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAIRS = [
    ("乡村振兴", "脱贫攻坚"),
    ("一带一路", "人类命运共同体"),
    ("疫情防控", "复工复产"),
    ("高质量发展", "新质生产力"),
    ("生态文明", "绿水青山"),
    ("科技创新", "人工智能"),
    ("粮食安全", "耕地保护"),
    ("乡村", "城市"),
    ("改革", "开放"),
    ("共同富裕", "全面小康"),
    ("冬奥会", "亚运会"),
    ("碳达峰", "碳中和"),
    ("国企改革", "民营经济"),
    ("防汛", "抗旱"),
    ("航天", "探月"),
    ("扶贫", "就业"),
    ("教育", "医疗"),
    ("黄河", "长江"),
    ("数字经济", "平台经济"),
    ("香港", "澳门"),
    ("全过程人民民主", "依法治国"),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="index directory (opened read-only)")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    from web import create_app

    client = create_app({"INDEX_DIR": args.index, "TESTING": True}).test_client()

    def trends(a: str, b: str) -> tuple[float, dict]:
        started = time.perf_counter()
        response = client.get(f"/api/trends?q={quote(a)}&q={quote(b)}&bucket=month&norm=share")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.get_data(as_text=True)
        return elapsed, response.get_json()

    first_ms, data = trends(*PAIRS[0])
    warm = [trends(*PAIRS[0])[0] for _ in range(args.repeat)]
    others = []
    for a, b in PAIRS[1:]:
        elapsed, answer = trends(a, b)
        others.append(elapsed)
        busiest = sorted(range(len(answer["periods"])), key=lambda i: -answer["series"][0]["counts"][i])[:3]
        for i in busiest:
            p = answer["periods"][i]
            search = client.get(f"/api/search?q={quote(a)}&date_from={p['from']}&date_to={p['to']}&per_page=1")
            assert search.get_json()["total"] == answer["series"][0]["counts"][i], (a, p)
    stats = client.get("/api/stats").get_json()
    print(
        json.dumps(
            {
                "articles": stats["articles"],
                "periods": len(data["periods"]),
                "totals": {s["q"]: s["total"] for s in data["series"]},
                "first_ms": round(first_ms, 1),
                "warm_p50_ms": round(statistics.median(warm), 1),
                "warm_p95_ms": round(percentile(warm, 0.95), 1),
                "other_pairs_p50_ms": round(statistics.median(others), 1),
                "other_pairs_p95_ms": round(percentile(others, 0.95), 1),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
