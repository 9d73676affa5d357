#!/usr/bin/env python3
"""Did-you-mean on a generated index: how long it takes when a query finds nothing, and how often its first
suggestion is the word meant.

  python bench/spelling.py --index DIR [--typos 300] [--json OUT]

DIR is any index (bench/RESULTS.md used 20k articles of tests/data/tools/synth.py). The typos are made from the
index's own words (2–4 characters, in 3 articles or more, drawn with a fixed seed): one character replaced by a
homophone (pypinyin's table) or, for every third word, by a character with the same four-corner code (same shape
family); a typo is kept only if it finds nothing. Only the engine's public pieces are used, so the same script
measures any version of the code (run it with that version on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import time
import unicodedata
from pathlib import Path


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def toneless_readings() -> dict[str, set[str]]:
    spec = importlib.util.find_spec("pypinyin")
    assert spec is not None and spec.origin is not None
    table = json.loads((Path(spec.origin).parent / "pinyin_dict.json").read_text(encoding="utf-8"))
    marks = {"\u0300", "\u0301", "\u0304", "\u030c"}
    strip = lambda s: "".join(c for c in unicodedata.normalize("NFD", s) if c not in marks)
    return {chr(int(k)): {strip(r) for r in v.split(",")} for k, v in table.items()}


def make_typos(engine, searcher, n: int, seed: int) -> list[tuple[str, str, str]]:
    from four_corner_method import FourCornerMethod

    from search.query.request import SearchRequest

    reader = searcher.reader()
    words = []
    for raw in reader.lexicon("body"):
        term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if (
            2 <= len(term) <= 4
            and all("\u4e00" <= c <= "\u9fff" for c in term)
            and reader.doc_frequency("body", term) >= 3
        ):
            words.append(term)
    chars = sorted({c for w in words for c in w})
    readings = toneless_readings()
    by_sound: dict[str, list[str]] = {}
    for c in chars:
        for r in readings.get(c, ()):
            by_sound.setdefault(r, []).append(c)
    corners = FourCornerMethod().data
    by_shape: dict[str, list[str]] = {}
    for c in chars:
        if c in corners:
            by_shape.setdefault(corners[c][:4], []).append(c)
    rng = random.Random(seed)
    rng.shuffle(words)
    typos: list[tuple[str, str, str]] = []
    for i, word in enumerate(words):
        if len(typos) >= n:
            break
        at = rng.randrange(len(word))
        kind = "shape" if i % 3 == 2 else "homophone"
        if kind == "shape":
            pool = by_shape.get(corners.get(word[at], "")[:4], [])
        else:
            pool = sorted({c for r in readings.get(word[at], ()) for c in by_sound.get(r, ())})
        pool = [c for c in pool if c != word[at]]
        if not pool:
            continue
        typo = word[:at] + rng.choice(pool) + word[at + 1 :]
        if engine.search(SearchRequest.from_params({"q": typo}))["total"] == 0:
            typos.append((typo, word, kind))
    return typos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--typos", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from search.query.engine import SearchEngine
    from search.query.request import SearchRequest
    from search.query.suggest import LocalVocabulary, did_you_mean

    engine = SearchEngine(args.index)
    searcher = engine.searcher()
    started = time.perf_counter()
    engine.warm(searcher)  # the did-you-mean index and tables a server builds at start
    warm_s = time.perf_counter() - started
    typos = make_typos(engine, searcher, args.typos, args.seed)

    suggest_ms, suggest_cpu_ms, search_ms, right = [], [], [], {"homophone": [0, 0], "shape": [0, 0]}
    for typo, meant, kind in typos:
        req = SearchRequest.from_params({"q": typo})
        t0, c0 = time.perf_counter(), time.process_time()
        offered = did_you_mean(
            LocalVocabulary(searcher), req.q, req.parsed, lambda q, req=req: engine.count(searcher, req, q)
        )
        suggest_ms.append((time.perf_counter() - t0) * 1000)
        suggest_cpu_ms.append((time.process_time() - c0) * 1000)
        t0 = time.perf_counter()
        engine.search(req)
        search_ms.append((time.perf_counter() - t0) * 1000)
        right[kind][0] += bool(offered) and offered[0]["q"] == meant
        right[kind][1] += 1

    report = {
        "index": str(args.index),
        "articles": searcher.doc_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "typos": len(typos),
        "warm_up_s": round(warm_s, 2),
        "did_you_mean_ms": {
            "p50": round(statistics.median(suggest_ms), 2),
            "p95": round(percentile(suggest_ms, 95), 2),
            "max": round(max(suggest_ms), 2),
        },
        # CPU time: what the figure would be on an idle machine (a shared one stretches wall time)
        "did_you_mean_cpu_ms": {
            "p50": round(statistics.median(suggest_cpu_ms), 2),
            "p95": round(percentile(suggest_cpu_ms, 95), 2),
            "max": round(max(suggest_cpu_ms), 2),
        },
        "search_with_suggestions_ms": {
            "p50": round(statistics.median(search_ms), 2),
            "p95": round(percentile(search_ms, 95), 2),
        },
        "top1": {k: round(r / n, 3) if n else None for k, (r, n) in right.items()},
        "top1_all": round(sum(r for r, _ in right.values()) / max(1, len(typos)), 3),
        "counts": {k: n for k, (_, n) in right.items()},
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
