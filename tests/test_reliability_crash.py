"""Crash safety: `newsearch index` killed with SIGKILL mid-run, again and again, never loses a committed article,
never leaves an index that cannot be opened, and a re-run completes the rest with no duplicates.

The indexer is the real CLI in a real subprocess. It commits every BATCH_SIZE articles (30,000 in production);
the test sets a small batch (through a one-line wrapper around `search.cli.main`) so that a corpus small enough
for CI still spans many commits, and kills at several points of the run.

Longer run: NEWSEARCH_CRASH_ARTICLES=3000 NEWSEARCH_CRASH_BATCH=200 pytest tests/test_reliability_crash.py
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # kills indexing runs at random points

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = int(os.environ.get("NEWSEARCH_CRASH_ARTICLES", "2000"))
PER_FILE = 20
BATCH = int(os.environ.get("NEWSEARCH_CRASH_BATCH", "80"))
# The real CLI, with the batch size made small (argv[1]) so that a short run has many commits.
RUNNER = (
    "import sys, search.index.sync as indexer; indexer.BATCH_SIZE = int(sys.argv.pop(1)); "
    "from search.cli import main; main(prog_name='newsearch')"
)

WORDS = [
    "复工复产",
    "疫情防控",
    "株洲市",
    "湖南省",
    "经济发展",
    "乡村振兴",
    "基础设施",
    "项目建设",
    "脱贫攻坚",
    "医疗物资",
    "企业",
    "工人",
    "社区",
    "志愿者",
    "农业",
    "春耕",
    "学校",
    "开学",
    "交通",
    "运输",
    "口罩",
    "生产线",
    "订单",
    "出口",
    "市场",
    "消费",
    "政府",
    "会议",
    "部署",
    "落实",
]


def article_tag(n: int) -> str:
    """A word unique to article n, to search for it."""
    return f"tag{n:05d}z"


def write_corpus(directory: Path, articles: int = ARTICLES, per_file: int = PER_FILE) -> dict[str, list[str]]:
    """Bulk files of generated articles: {file name: [ids]}."""
    rng = random.Random(7)
    files: dict[str, list[str]] = {}
    for f in range(0, articles, per_file):
        name = f"part-{f // per_file:04d}.jsonl"
        lines, ids = [], []
        for n in range(f, min(f + per_file, articles)):
            body = "。".join("".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(12))
            record = {
                "id": f"crash-{n:05d}",
                "headline": f"{rng.choice(WORDS)}{rng.choice(WORDS)}新闻",
                "date": f"2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "region": "湖南省",
                "body": f"{body}。编号 {article_tag(n)} 。",
            }
            lines.append(json.dumps(record, ensure_ascii=False))
            ids.append(record["id"])
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        files[name] = ids
    return files


def run_indexer(
    index_dir: Path, corpus: Path, kill_after: float | None, log: Path
) -> subprocess.CompletedProcess | None:
    """Run the indexer; with `kill_after`, SIGKILL it that many seconds after it started (None if it had finished)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", RUNNER, str(BATCH), "index", "--index", str(index_dir), "-q", str(corpus)]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        process.wait(timeout=kill_after if kill_after is not None else 600)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            raise
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return None
    return subprocess.CompletedProcess(command, process.returncode)


def committed_state(index_dir: Path) -> tuple[list[str], dict]:
    """(ids in the index, manifest files), read as a fresh reader would after the crash."""
    from search.index.store import open_index

    ix = open_index(index_dir)  # raises if the killed run left an unreadable index
    with ix.searcher() as searcher:
        ids = [fields["id"] for fields in searcher.all_stored_fields()]
    manifest = (
        json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
        if (index_dir / "manifest.json").exists()
        else {"files": {}}
    )
    return ids, manifest["files"]


def assert_searchable(index_dir: Path, ids: list[str], sample: int = 8) -> None:
    from search.query.engine import SearchEngine
    from search.query.request import SearchRequest

    engine = SearchEngine(index_dir)
    try:
        for article_id in random.Random(len(ids)).sample(ids, min(sample, len(ids))):
            n = int(article_id.rsplit("-", 1)[1])
            result = engine.search(SearchRequest.from_params({"q": article_tag(n)}))
            assert [hit["id"] for hit in result["hits"]] == [article_id], (article_id, result["query"])
    finally:
        engine.close()


def test_sigkill_mid_index_loses_no_committed_article(tmp_path):
    from search.index.store import index_exists

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = write_corpus(corpus)
    expected = {i for ids in files.values() for i in ids}
    index_dir, log = tmp_path / "index", tmp_path / "indexer.log"

    # Kill points spread over the run: at start-up, around the first commits, deep into the corpus. Each run
    # resumes where the last committed batch left off, so the later ones also land mid-batch.
    counts, kills, partial = [0], 0, False
    # A full run takes ~8 s here (2 cores, 25 commits); kills come early and often so that at least three land
    # before it finishes even on a faster machine.
    for kill_after in (0.4, 0.8, 1.2, 1.6, 2.0, 2.5, 3.0, 3.5):
        finished = run_indexer(index_dir, corpus, kill_after, log)
        if finished is not None:
            assert finished.returncode == 0, log.read_text(errors="replace")
            break
        kills += 1
        if not index_exists(index_dir):
            continue  # killed before the index was created: nothing to check yet
        ids, manifest = committed_state(index_dir)
        assert len(ids) == len(set(ids)), "duplicate articles after a kill"
        assert set(ids) <= expected
        assert len(ids) >= counts[-1], f"the index lost articles: {counts[-1]} → {len(ids)}"
        counts.append(len(ids))
        partial |= 0 < len(ids) < len(expected)
        # every file the manifest calls committed has all its articles in the index
        present = set(ids)
        for key, record in manifest.items():
            name = Path(key).name
            assert set(files[name]) <= present, f"manifest lists {name} but its articles are not all committed"
            assert record["articles"] == len(files[name])
        if ids:
            assert_searchable(index_dir, ids)
        # a lock file left by the killed writer does not block the next run (checked by the next iteration)
        assert (index_dir / "MAIN_WRITELOCK").exists() or not ids

    assert kills >= 3, f"only {kills} runs were killed: the corpus indexes too fast for the kill points"
    assert partial, f"no kill landed between the first and the last commit (counts {counts})"

    finished = run_indexer(index_dir, corpus, None, log)
    assert finished is not None and finished.returncode == 0, log.read_text(errors="replace")
    ids, manifest = committed_state(index_dir)
    assert len(ids) == len(set(ids)) == len(expected), (len(ids), len(set(ids)), len(expected))
    assert set(ids) == expected
    assert {Path(k).name for k in manifest} == set(files)
    assert_searchable(index_dir, ids, sample=20)
    assert "locked" not in log.read_text(errors="replace")

    # and a further run is a no-op
    again = run_indexer(index_dir, corpus, None, log)
    assert again is not None and again.returncode == 0
    assert "0 articles added, 0 replaced, 0 removed" in log.read_text(errors="replace").splitlines()[-1]
    assert len(committed_state(index_dir)[0]) == len(expected)


STREAM_RUNNER = (
    "import sys, search.index.sync as indexer, search.ingest as ingest; "
    "indexer.BATCH_SIZE = int(sys.argv.pop(1)); ingest.STREAM_MIN_BYTES = 0; "
    "from search.cli import main; main(prog_name='newsearch')"
)


def test_a_streamed_bulk_file_commits_mid_file_and_a_kill_loses_nothing(tmp_path, monkeypatch):
    """A bulk file too large to hold in memory is read line by line and committed in batches in the middle of the
    file. A kill leaves committed batches in the index but the file out of the manifest; the next run replaces them,
    so every article ends up there exactly once."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = write_corpus(corpus, articles=1200, per_file=1200)
    ((name, expected),) = files.items()
    index_dir, log = tmp_path / "index", tmp_path / "indexer.log"
    monkeypatch.setattr(sys.modules[__name__], "RUNNER", STREAM_RUNNER)
    monkeypatch.setattr(sys.modules[__name__], "BATCH", 100)

    partial = False
    # later kill points too: on a busy machine the first commits come later (the loop ends when a run finishes)
    for kill_after in (1.0, 1.5, 2.0, 2.5, 3.5, 5.0, 7.0):
        if run_indexer(index_dir, corpus, kill_after, log) is not None:
            break
        if not (index_dir / "manifest.json").exists():
            continue
        ids, manifest = committed_state(index_dir)
        assert len(ids) == len(set(ids)) and set(ids) <= set(expected)
        assert manifest == {}, "a partly committed file must not be recorded as indexed"
        partial |= 0 < len(ids) < len(expected)
    finished = run_indexer(index_dir, corpus, None, log)
    assert finished is not None and finished.returncode == 0, log.read_text(errors="replace")
    ids, manifest = committed_state(index_dir)
    assert sorted(ids) == sorted(expected)
    assert [record["articles"] for record in manifest.values()] == [len(expected)]
    assert partial, "no kill landed between two mid-file commits"
    assert_searchable(index_dir, ids)


def test_a_streamed_bulk_file_reports_its_bad_lines_and_is_read_again(tmp_path, monkeypatch):
    import search.index.sync as indexer
    import search.ingest as ingest

    monkeypatch.setattr(ingest, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(indexer, "BATCH_SIZE", 30)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = write_corpus(corpus, articles=100, per_file=100)
    ((name, expected),) = files.items()
    path = corpus / name
    lines = path.read_bytes().splitlines()
    lines[10], lines[50] = b"{not json", "不是UTF-8".encode("gb18030")
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = indexer.index_paths(tmp_path / "index", [corpus])
    assert summary.added == 98 and summary.failed == 1
    assert f"{path}:11: invalid JSON" in summary.errors[0] and f"{path}:51: not UTF-8" in summary.errors[0]
    ix = indexer.open_index(tmp_path / "index")
    assert ix.latest_generation() >= 4  # committed in the middle of the file
    again = indexer.index_paths(tmp_path / "index", [corpus])  # not recorded: read (and reported) again
    assert again.failed == 1 and again.replaced == 98 and again.added == 0


ORPHAN_RUNNER = (
    "import sys, search.index.writer as writer, search.index.segments as segments; writer.PARALLEL_MIN = 5; "
    "segments.worker_count = lambda: 2; from search.cli import main; main(prog_name='newsearch')"
)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return 0


def test_segment_builders_die_with_a_killed_run_and_leave_no_lock(tmp_path):
    """kill -9 of `newsearch index` while its builders are in the middle of a batch: they die with it at once (none
    is left holding the index's locks or half a gigabyte), and the next run finishes with no manual step."""
    from tests.conftest import synth_articles

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    synth_articles(corpus / "a.jsonl", 12000, 5)
    index_dir = tmp_path / "index"
    args = [sys.executable, "-c", ORPHAN_RUNNER, "index", "-q", str(corpus), "--index", str(index_dir)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    workers: set[int] = set()
    busy = False
    while time.monotonic() < deadline and proc.poll() is None and not busy:
        workers = _children(proc.pid)
        busy = len(workers) >= 2 and any(_cpu_ticks(w) >= 30 for w in workers)  # a third of a second into a batch
        time.sleep(0.02)
    assert busy, "the run never had its builders at work"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)  # the kernel's SIGKILL is immediate; a builder left to itself would still be building
    assert not [w for w in workers if _alive(w)], "builders outlived their run"
    again = subprocess.run(
        [sys.executable, "-m", "search.cli", "index", "-q", str(corpus), "--index", str(index_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert "locked" not in again.stderr


def test_server_workers_die_with_a_killed_server_and_free_the_port(seed_index, tmp_path):
    """kill -9 of `newsearch serve`: its workers go with it, so the port is free for the next start."""
    import socket
    import urllib.request

    from tests.live import served

    holder: list = []
    with served(seed_index, tmp_path, "--workers", "2", process_out=holder) as base:
        assert urllib.request.urlopen(base + "/api/stats", timeout=10).status == 200
        server = holder[0]
        workers = _children(server.pid)
        assert len(workers) == 2
        server.send_signal(signal.SIGKILL)
        server.wait()
        time.sleep(1.0)
        assert not [w for w in workers if _alive(w)], "server workers outlived their parent"
        port = int(base.rsplit(":", 1)[1].strip("/"))
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server binds (TIME_WAIT is no holder)
            sock.bind(("127.0.0.1", port))  # nobody listens on it any more
