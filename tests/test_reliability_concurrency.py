"""Concurrency: searches keep answering (from the old snapshot or the new one, never with an error) while a writer
commits; a second writer is refused with a clear "locked" error; the served app sees new commits without a
restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from search.errors import IndexLocked
from tests.test_reliability_crash import article_tag, write_corpus

pytestmark = pytest.mark.slow  # searches and syncs racing for seconds


@pytest.fixture()
def corpus(tmp_path) -> tuple[Path, Path, dict]:
    """Two directories of generated articles: `first` indexed up front, `second` added while searching."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    files = write_corpus(first, articles=100, per_file=20)
    more = write_corpus(second, articles=300, per_file=20)
    # the second set gets its own ids and tags
    for path in second.iterdir():
        path.write_text(
            path.read_text(encoding="utf-8").replace("crash-0", "later-0").replace("tag0", "tagl"), encoding="utf-8"
        )
    return first, second, {"first": files, "second": more}


def test_searches_answer_while_a_writer_commits(tmp_path, corpus, monkeypatch):
    import search.index.sync as indexer
    from search.query.engine import SearchEngine
    from search.query.request import SearchRequest

    first, second, _ = corpus
    index_dir = tmp_path / "index"
    assert indexer.index_paths(index_dir, [first]).added == 100
    engine = SearchEngine(index_dir)
    monkeypatch.setattr(indexer, "BATCH_SIZE", 40)  # many commits (and segment merges) while the readers run

    done = threading.Event()
    errors: list[BaseException] = []
    seen: dict[int, list[int]] = {}
    queries = ["", "复工复产", "湖南省 企业", '"疫情防控"', "口罩 OR 订单", "市", "复工 -口罩"]

    def reader(number: int) -> None:
        totals = seen.setdefault(number, [])
        i = 0
        try:
            while not done.is_set() or i < 20:
                q = queries[i % len(queries)]
                result = engine.search(SearchRequest.from_params({"q": q, "per_page": "20"}))
                assert result["total"] >= len(result["hits"])
                for hit in result["hits"]:
                    assert hit["id"].startswith(("crash-", "later-")), hit["id"]
                if q == "":
                    totals.append(result["total"])
                if i % 5 == 0 and result["hits"]:
                    engine.article(result["hits"][0]["id"])
                i += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            engine.close()

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for thread in readers:
        thread.start()
    try:
        summary = indexer.index_paths(index_dir, [second])
    finally:
        done.set()
        for thread in readers:
            thread.join(timeout=120)
    assert not errors, errors[0]
    assert summary.ok and summary.added == 300
    for number, totals in seen.items():
        assert totals, f"reader {number} never browsed"
        assert totals == sorted(totals), f"reader {number} went back to an older snapshot: {totals}"
        assert totals[0] >= 100 and totals[-1] <= 400
    # a fresh search sees everything
    assert engine.search(SearchRequest.from_params({"q": ""}))["total"] == 400


def test_second_writer_gets_a_clear_locked_error(tmp_path, corpus):
    from search.index.sync import delete_articles, index_paths

    first, second, _ = corpus
    index_dir = tmp_path / "index"
    index_paths(index_dir, [first])
    inside, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def slow_writer():
        def on_file(_key):
            inside.set()
            release.wait(30)

        try:
            outcome["summary"] = index_paths(index_dir, [second], on_file=on_file)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert inside.wait(60), "the first writer did not start"
        started = time.monotonic()
        with pytest.raises(IndexLocked, match="locked by another writer"):
            index_paths(index_dir, [first])
        with pytest.raises(IndexLocked, match="locked by another writer"):
            delete_articles(index_dir, ["crash-00001"])
        with pytest.raises(IndexLocked, match="locked by another writer"):
            index_paths(index_dir, [first], rebuild=True)
        assert time.monotonic() - started < 5, "a locked writer must be refused at once, not wait"
    finally:
        release.set()
        thread.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"].added == 300
    # once the first writer is done, writing works again
    assert delete_articles(index_dir, ["crash-00001"]) == (["crash-00001"], [])


def test_served_app_sees_new_commits_without_restart(tmp_path, corpus):
    from search.index.sync import index_paths
    from web import create_app

    first, second, _ = corpus
    index_dir = tmp_path / "index"
    index_paths(index_dir, [first])
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    assert client.get("/api/stats").get_json()["articles"] == 100
    assert client.get(f"/api/search?q={article_tag(5).replace('tag0', 'tagl')}").get_json()["total"] == 0
    index_paths(index_dir, [second])
    assert client.get("/api/stats").get_json()["articles"] == 400
    hits = client.get(f"/api/search?q={article_tag(5).replace('tag0', 'tagl')}").get_json()["hits"]
    assert [h["id"] for h in hits] == ["later-00005"]
    assert client.get("/articles/later-00005").status_code == 200


def test_served_worker_processes_share_the_port_replace_a_dead_one_and_stop_together(seed_index, tmp_path, engine):
    import json
    import os
    import signal
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import quote

    from search.query.request import SearchRequest
    from tests.live import child_pids, served

    expected = engine.search(SearchRequest(q="株洲"))["total"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def total(_) -> int:
        with opener.open(f"{base}/api/search?q={quote('株洲')}", timeout=30) as response:
            return json.loads(response.read())["total"]

    processes: list = []
    with served(seed_index, tmp_path, "--workers", "2", "--threads", "2", process_out=processes) as base:
        parent = processes[0].pid
        workers = child_pids(parent)
        assert len(workers) == 2
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(total, range(40))) == [expected] * 40
        dead = min(workers)
        os.kill(dead, signal.SIGKILL)
        deadline = time.monotonic() + 20
        replaced = child_pids(parent)
        while time.monotonic() < deadline and (len(replaced) < 2 or dead in replaced):
            time.sleep(0.2)
            replaced = child_pids(parent)
        assert len(replaced) == 2 and dead not in replaced
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(total, range(12))) == [expected] * 12
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in replaced):
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in replaced)
