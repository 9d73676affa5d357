#!/usr/bin/env python3
"""Build the benchmark corpora into bench/data/ (gitignored), deterministically.

  python bench/corpus.py xwlb [--git-dir DIR]       # the real set: news-xwlb.jsonl (~36k CCTV 新闻联播 items)
  python bench/corpus.py synth --size 10k|100k|1m  # synth-xwlb-<size>.jsonl
  python bench/corpus.py all                        # xwlb, then the three synthetic sizes
  python bench/corpus.py check                      # sizes and sha256 of what is there

How (the scripts are ../shared/corpus/, see its README):

- news-xwlb.jsonl: `build_corpus.py xwlb --git-dir DIR` on the public repository Felix-Jung/xin-wen-lian-bo at the
  pinned commit 023828c95ca6990c15bf3bedf8339954000ff34a (build_corpus.py's default). DIR is the bare git directory
  of a snapshot of that repository (a clone with `git clone --bare`), given by `--git-dir` or `$XWLB_GIT_DIR`.
- synth-xwlb-<size>.jsonl: `synth.py --n N --seed 0 --extra-pool news-xwlb.jsonl --workers 2` with the default
  share (half of the sentences drawn from the real set), so the vocabulary is broad and a query hits a small share
  of the documents, as in a real archive. Article i depends only on (seed, i, inputs): the same N and the same
  news-xwlb.jsonl give byte-identical output, whatever the worker count.

A file that already exists is reused (its sha256 is printed, compare with bench/RESULTS.md); --force rebuilds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
SHARED = BENCH.parent.parent / "shared" / "corpus"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
XWLB = DATA / "news-xwlb.jsonl"
DEFAULT_GIT_DIR = Path(os.environ.get("XWLB_GIT_DIR", "xin-wen-lian-bo.git"))  # a bare clone of the repository
SEED = 0


def synth_path(size: str) -> Path:
    return DATA / f"synth-xwlb-{size}.jsonl"


def corpus_path(name: str) -> Path:
    """`10k`/`100k`/`1m` → the synthetic file of that size; `xwlb` → the real set."""
    return XWLB if name == "xwlb" else synth_path(name)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run(cmd: list[str]) -> None:
    print("+ " + " ".join(map(str, cmd)), file=sys.stderr)
    subprocess.run([str(c) for c in cmd], check=True)


def build_xwlb(git_dir: Path, force: bool = False) -> Path:
    if XWLB.exists() and not force:
        return XWLB
    DATA.mkdir(parents=True, exist_ok=True)
    if not git_dir.exists():
        sys.exit(f"no git directory at {git_dir}: fetch github:Felix-Jung/xin-wen-lian-bo first and pass --git-dir")
    _run([sys.executable, SHARED / "build_corpus.py", "xwlb", "--git-dir", git_dir, "--out", XWLB])
    return XWLB


def build_synth(size: str, git_dir: Path, force: bool = False) -> Path:
    out = synth_path(size)
    if out.exists() and not force:
        return out
    build_xwlb(git_dir)
    tmp = out.with_suffix(".jsonl.part")
    _run(
        [
            sys.executable,
            SHARED / "synth.py",
            "--n",
            SIZES[size],
            "--seed",
            SEED,
            "--extra-pool",
            XWLB,
            "--workers",
            2,
            "--out",
            tmp,
        ]
    )
    tmp.replace(out)
    return out


def ensure(name: str, git_dir: Path = DEFAULT_GIT_DIR) -> Path:
    """The corpus file for `name` (10k, 100k, 1m or xwlb), built if missing."""
    return build_xwlb(git_dir) if name == "xwlb" else build_synth(name, git_dir)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["xwlb", "synth", "all", "check"])
    ap.add_argument("--size", choices=list(SIZES), action="append", help="synthetic size (repeatable)")
    ap.add_argument("--git-dir", type=Path, default=DEFAULT_GIT_DIR)
    ap.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    args = ap.parse_args()
    made = []
    if args.what in ("xwlb", "all"):
        made.append(build_xwlb(args.git_dir, args.force))
    if args.what in ("synth", "all"):
        for size in args.size or (list(SIZES) if args.what == "all" else ["10k"]):
            made.append(build_synth(size, args.git_dir, args.force))
    if args.what == "check":
        made = [p for p in [XWLB, *map(synth_path, SIZES)] if p.exists()]
    for path in made:
        print(f"{path.relative_to(BENCH.parent)}  {path.stat().st_size:,} bytes  sha256 {sha256(path)}")


if __name__ == "__main__":
    main()
