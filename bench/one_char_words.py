"""Many one-character words in one query (issue #24 item 10): sixty common characters ANDed, ORed, and ANDed with one
character no article holds (a query that finds nothing, so "did you mean" runs), through the JSON API.

    python bench/one_char_words.py --articles 20000            # bench/data/synth-seeds-20k.jsonl and its index
    python bench/one_char_words.py --index DIR                 # an existing index
    python bench/one_char_words.py --articles 20000 --code DIR # the same figures with another checkout's code

A one-character word is a prefix over each bigram field, and a common character begins hundreds of bigrams per field,
so the query is the worst case: the sixty characters that begin the most bigrams of the index's body text. Each case
runs in a fresh process (the app opened and one unrelated search made first): "cold" is the first request of the
query, "warm" the median of the next five. The corpus is made with tests/data/tools/synth.py from the seeds
(deterministic in its size); `--code` runs the requests with that checkout's `search` and `web` (an index built by
one is read by the other while the index format is unchanged).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
SYNTH = ROOT / "tests" / "data" / "tools" / "synth.py"
WORDS = 60
ABSENT = "龘"  # in no article: the AND of it finds nothing
WARM_RUNS = 5


def ensure_index(articles: int) -> Path:
    label = f"{articles // 1000}k" if articles % 1000 == 0 else str(articles)
    corpus, index_dir = DATA / f"synth-seeds-{label}.jsonl", DATA / f"index-seeds-{label}"
    DATA.mkdir(parents=True, exist_ok=True)
    if not corpus.exists():
        subprocess.run(
            [sys.executable, SYNTH, "--n", str(articles), "--seed", "0", "--seeds", ROOT / "seeds", "--out", corpus],
            check=True,
        )
    if not (index_dir / "manifest.json").exists():
        subprocess.run(
            [sys.executable, "-m", "search.cli", "index", "--quiet", "--index", index_dir, corpus], cwd=ROOT, check=True
        )
    return index_dir


def common_characters(index_dir: Path, count: int = WORDS) -> str:
    """The CJK characters that begin the most bigrams of the body field: the costliest one-character words."""
    from collections import Counter

    from search.index.store import open_index
    from search.text.analysis import is_cjk

    with open_index(index_dir).reader() as reader:
        starts = Counter(term.decode("utf-8")[0] for term in reader.lexicon("body_ng"))
    picked = [ch for ch, _ in starts.most_common() if is_cjk(ch)][:count]
    if len(picked) < count:
        raise SystemExit(f"the index has only {len(picked)} characters that begin a bigram")
    return "".join(picked)


def child(index_dir: str, q: str) -> None:
    """Runs in the measured process: prints the wall and CPU seconds of the first request and the median of the next
    ones (the machines are shared: CPU time is what a loaded run stretches least), the total and the status."""
    from web import create_app

    client = create_app({"INDEX_DIR": index_dir, "TESTING": True}).test_client()
    client.get("/api/search", query_string={"q": "复工"})  # the app, its searcher and facet arrays, opened
    wall, cpu, response = [], [], None
    for _ in range(1 + WARM_RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get("/api/search", query_string={"q": q})
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    assert response is not None
    figures = {
        "cold": wall[0],
        "cold_cpu": cpu[0],
        "warm": statistics.median(wall[1:]),
        "warm_cpu": statistics.median(cpu[1:]),
        "total": response.get_json().get("total"),
        "status": response.status_code,
    }
    print(json.dumps(figures))


def measure(index_dir: Path, q: str, code: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(index_dir), q],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--articles", type=int, help="generated articles (corpus and index made when missing)")
    where.add_argument("--index", type=Path, help="an existing index directory")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code answers (default: this one)")
    args = ap.parse_args()
    index_dir = args.index or ensure_index(args.articles)
    chars = common_characters(index_dir)
    cases = {
        "AND": " ".join(chars),
        "OR": " OR ".join(chars),
        "AND, with a character no article holds": " ".join(chars[: WORDS - 1] + ABSENT),
    }
    print(f"index {index_dir.name}; code {args.code.name}; characters {chars}")
    print("| query | cold: wall / CPU (s) | warm, median of 5: wall / CPU (s) | total |")
    print("|---|---|---|---|")
    for label, q in cases.items():
        got = measure(index_dir, q, args.code.resolve())
        assert got["status"] == 200, got
        cold, warm = f"{got['cold']:.3f} / {got['cold_cpu']:.3f}", f"{got['warm']:.3f} / {got['warm_cpu']:.3f}"
        print(f"| {label} | {cold} | {warm} | {got['total']} |")


if __name__ == "__main__":
    main()
