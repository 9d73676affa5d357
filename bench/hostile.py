#!/usr/bin/env python3
"""The hostile-file corpus of issue 24 at full size, indexed by the real `newsearch index` in a child process.

  .venv/bin/python bench/hostile.py            # build the corpus in a temporary directory, index it, check, report
  .venv/bin/python bench/hostile.py --keep     # and leave the directory for a look

One directory holds the good files (the bundled seeds/ and a small bulk file) and one of each bad kind: a file name
that is not UTF-8, a symbolic-link loop, a dangling link, sub-directories that cannot be listed (one nested past
PATH_MAX, which not even root can list, and a mode-000 one that only counts when not run as root), a bulk file with
bad lines, a real 200 MB page on one line, a 10 MB page on one line (within the size limit: one article far over the
article limit), and a 64 MB bulk file that is one line (streamed, so its line is skipped in blocks). Checked: exit
status 1, exactly one message per bad file, every good article in the index; measured: wall and CPU time, peak RSS and
PSS of the process tree (bench/procmem.py). Writes bench/out/hostile-<time>.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from procmem import run_measured  # noqa: E402

MB = 1000 * 1000
LINE = "株洲市复工复产有序推进，企业工人陆续返岗。"  # 63 bytes of UTF-8, no line break


def one_line(path: Path, size: int, prefix: bytes = b"", suffix: bytes = b"") -> None:
    """A file of exactly `size` bytes on a single line, written in blocks (never held whole)."""
    block = LINE.encode() * (MB // len(LINE.encode()))
    with open(path, "wb") as f:
        f.write(prefix)
        left = size - len(prefix) - len(suffix)
        while left >= len(block):
            f.write(block)
            left -= len(block)
        f.write(b"x" * left + suffix)


def unlistable_deep(pages: Path) -> str:
    """Directories nested past PATH_MAX: os.walk can name the deepest but not list it (ENAMETOOLONG), root or not.
    Returns the top directory's name."""
    name = "d" * 250
    fd = os.open(pages, os.O_RDONLY)
    os.mkdir("deep", dir_fd=fd)
    depth_fd = os.open("deep", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    for _ in range(17):  # 17 × 251 characters > 4096
        os.mkdir(name, dir_fd=depth_fd)
        nxt = os.open(name, os.O_RDONLY, dir_fd=depth_fd)
        os.close(depth_fd)
        depth_fd = nxt
    with open(os.open("lost.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=depth_fd), "w", encoding="utf-8") as f:
        f.write("# 看不见\n\n正文。\n")
    os.close(depth_fd)
    return "deep/"


def build(pages: Path) -> dict[str, str]:
    """The corpus in `pages`: {a fragment naming each bad file or directory: a fragment of its message}."""
    pages.mkdir(parents=True)
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        shutil.copy(seed, pages / seed.name)
    good = [{"id": f"good-{i}", "headline": f"春耕第{i}条", "body": "春耕生产忙，农民下田。"} for i in range(10)]
    (pages / "good.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in good) + "\n")
    with open(os.fsencode(pages) + b"/bad\xffname.txt", "wb") as f:
        f.write("# 坏名字\n\n正文。\n".encode())
    (pages / "l1.txt").symlink_to("l2.txt")
    (pages / "l2.txt").symlink_to("l1.txt")
    (pages / "dangling.txt").symlink_to("gone.txt")
    bad_lines = [
        json.dumps({"id": "bulk-ok", "body": "秋收忙。"}, ensure_ascii=False),
        "{not json",
        "[" * 100_000,
        json.dumps({"id": "bulk-long", "body": "长" * 300_000}, ensure_ascii=False),
    ]
    (pages / "bad-lines.jsonl").write_text("\n".join(bad_lines) + "\n", encoding="utf-8")
    one_line(pages / "huge-page.txt", 200 * MB)
    one_line(pages / "long-line.txt", 10 * MB)
    one_line(pages / "huge-bulk.jsonl", 64 * MB, prefix=b'{"body": "', suffix=b'"}\n')
    expected = {
        "bad\\udcffname.txt": "the file name is not valid UTF-8",
        "l1.txt": "a symbolic link loop",
        "l2.txt": "a symbolic link loop",
        "dangling.txt": "a symbolic link to nothing",
        unlistable_deep(pages): "cannot list this directory (File name too long)",
        "bad-lines.jsonl": "bad-lines.jsonl:2: invalid JSON",
        "huge-page.txt": "too large: 200 MB > limit 20 MB; raise --max-file-size",
        "long-line.txt": "long-line.txt:1: article too long: 3,333,340 characters > limit 200,000",
        "huge-bulk.jsonl": "huge-bulk.jsonl:1: line too long: 64 MB > limit 20 MB; raise --max-file-size",
    }
    if os.geteuid() != 0:  # root lists a mode-000 directory all the same
        (pages / "locked").mkdir()
        (pages / "locked" / "hidden.txt").write_text("# 看不见\n\n正文。\n", encoding="utf-8")
        (pages / "locked").chmod(0)
        expected["locked"] = "cannot list this directory (Permission denied)"
    return expected


def good_articles() -> int:
    """Articles the good files hold (seeds/ read in this process, the 10 good bulk records, the good bulk line)."""
    from search.ingest import read_file

    return sum(len(read_file(seed).articles) for seed in sorted((ROOT / "seeds").glob("*.txt"))) + 10 + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the corpus directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsearch-hostile-"))
    pages, index = work / "pages", work / "index"
    try:
        started = time.perf_counter()
        expected = build(pages)
        built = time.perf_counter() - started
        cmd = [sys.executable, "-m", "search.cli", "index", str(pages), "--index", str(index), "--quiet"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        m = run_measured(cmd, cwd=str(ROOT), env=env)
        errors = [line for line in m["stderr"].splitlines() if line.startswith("error: ")]
        problems = []
        for name, message in expected.items():
            mine = [e for e in errors if name in e]
            if len(mine) != 1 or message not in mine[0]:
                problems.append(f"{name}: expected one message with {message!r}, got {mine}")
        if len(errors) != len(expected):
            problems.append(f"{len(errors)} messages for {len(expected)} bad files")
        from search.query.engine import SearchEngine

        indexed = SearchEngine(index).searcher().doc_count()
        want = good_articles()
        if indexed != want:
            problems.append(f"{indexed} articles indexed, {want} expected")
        if m["returncode"] != 1:
            problems.append(f"exit status {m['returncode']}, expected 1")
        result = {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "corpus_bytes": sum(p.stat().st_size for p in pages.iterdir() if p.is_file() and not p.is_symlink()),
            "build_seconds": round(built, 1),
            "bad_files": len(expected),
            "articles_indexed": indexed,
            "problems": problems,
            "load_average": os.getloadavg(),
            **{k: v for k, v in m.items() if k != "stderr"},
            "messages": errors,
        }
    finally:
        if args.keep:
            print(f"corpus kept in {work}", file=sys.stderr)
        else:
            locked = pages / "locked"
            if locked.exists():
                locked.chmod(0o755)
            shutil.rmtree(work, ignore_errors=True)
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    target = out / f"hostile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    mib = 1 << 20
    print("| figure | value |\n|---|---|")
    print(f"| corpus | {result['corpus_bytes'] / MB:,.0f} MB, {len(expected)} bad files or directories |")
    print(f"| exit status | {m['returncode']} |")
    print(f"| messages | {len(errors)} (one per bad file: {'yes' if not problems else 'NO'}) |")
    print(f"| articles indexed | {indexed} of {want} |")
    print(f"| wall time | {m['seconds']:.1f} s |")
    print(f"| CPU time (user + sys) | {m['cpu_seconds']:.1f} s |")
    print(f"| peak RSS, process tree | {m['peak_tree_rss_bytes'] / mib:,.0f} MiB |")
    print(f"| peak PSS, process tree | {m['peak_tree_pss_bytes'] / mib:,.0f} MiB |")
    print(f"| ru_maxrss of the indexer | {m['ru_maxrss_bytes'] / mib:,.0f} MiB |")
    print(f"\nraw figures: {target.relative_to(ROOT)}", file=sys.stderr)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
