#!/usr/bin/env python3
"""Re-syncing an indexed archive: nothing changed, and one new page beside it (issue #22).

  .venv/bin/python bench/resync.py --corpus bench/data/news-xwlb.jsonl --index INDEX_DIR [--repeat 3] [--code DIR]

The index is built from `--corpus` when it does not exist. Then, `--repeat` times each, through the real
`newsearch index` in a child process (start-up included, as a cron job pays it):
- a no-op re-sync of the corpus;
- a sync of the corpus and a directory holding one new page (a copy of the index is used, so each run adds it
  afresh): the cost of the first change, which reads the index's ids and near-duplicate clusters.
`--code DIR` runs another checkout of newsearch (e.g. an older commit) on the same data. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "# 株洲市复工复产有序推进\n\n本报讯 株洲市各类企业有序复工复产，重点项目陆续开工。\n"


def run_index(code: Path, index_dir: Path, *paths: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "search.cli", "index", "-q", "--index", str(index_dir), *map(str, paths)],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"newsearch index failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "summary": done.stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the newsearch checkout to run (default: this one)")
    args = parser.parse_args()
    code = args.code.resolve()
    out: dict = {"corpus": str(args.corpus), "code": str(code)}
    if not args.index.exists():
        out["build"] = run_index(code, args.index, args.corpus)
    noop = [run_index(code, args.index, args.corpus) for _ in range(args.repeat)]
    with tempfile.TemporaryDirectory() as scratch:
        new_page = Path(scratch) / "new"
        new_page.mkdir()
        (new_page / "page.txt").write_text(PAGE, encoding="utf-8")
        one_new = []
        for n in range(args.repeat):
            copy = Path(scratch) / f"index-{n}"
            shutil.copytree(args.index, copy)
            one_new.append(run_index(code, copy, args.corpus, new_page))
            shutil.rmtree(copy)
    for name, runs in (("noop", noop), ("one_new_page", one_new)):
        out[name] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in runs),
            "cpu_s_median": statistics.median(r["cpu_s"] for r in runs),
            "runs": runs,
        }
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
