"""A sharded index on Ray (a local instance) answers exactly as one index over the same articles: the same ids in
the same order, the same scores, totals, facet counts and snippets — because every shard scores with the whole
index's statistics — and says which shards are missing when one is down instead of quietly answering with less."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS, synth_articles

from search.query.engine import SearchEngine
from search.query.request import SearchRequest

ray = pytest.importorskip("ray")

SHARDS = 4


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The seeds and 1,500 generated articles (reprints among them), as an archive of page and bulk files."""
    root = tmp_path_factory.mktemp("sharded-archive")
    shutil.copytree(SEEDS, root / "pages")
    synth_articles(root / "pages" / "bulk.jsonl", n=1500, seed=3)
    return root / "pages"


@pytest.fixture(scope="module")
def single(archive, tmp_path_factory) -> SearchEngine:
    from search.index.sync import index_paths

    index_dir = tmp_path_factory.mktemp("single")
    assert index_paths(index_dir, [archive]).ok
    return SearchEngine(index_dir)


@pytest.fixture(scope="module")
def ray_session():
    from search.cluster.actors import connect

    connect()
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def sharded_root(archive, tmp_path_factory, ray_session) -> Path:
    """The same archive in 4 shards, their writers Ray actors."""
    from search.cluster.layout import index_sharded

    root = tmp_path_factory.mktemp("sharded") / "index"
    summary = index_sharded(root, [archive], shards=SHARDS)
    assert summary.ok and summary.added > 1500, summary.errors
    return root


def start(root: Path, **options):
    from search.cluster.actors import start_shards
    from search.cluster.fanout import ShardedEngine
    from search.cluster.layout import open_layout
    from search.cluster.shard import ShardService

    layout = open_layout(root)
    replicas = options.pop("replicas", 1)
    shards = start_shards(
        ShardService,
        [str(d) for d in layout.dirs],
        role="search",
        replicas=replicas,
        max_restarts=-1,
        root=str(root),
        **options,
    )
    return ShardedEngine(root, shards)


@pytest.fixture(scope="module")
def sharded(sharded_root):
    engine = start(sharded_root)
    yield engine
    engine.close()


def queries(single: SearchEngine, count: int = 60) -> list[dict]:
    """Words and pairs from the indexed headlines (fixed seed), with and without region and date filters, sorted
    by date, deep pages, folded reprints, phrases, exclusions, fields and misspellings."""
    from search.text.analysis import word_spans

    searcher = single.searcher()
    words = sorted(
        {
            h[i:j]
            for d in searcher.all_stored_fields()
            for h in [d.get("headline", "")]
            for _, i, j, _ in word_spans(h)
            if j - i >= 2
        }
    )
    rng = random.Random(5)
    picked = rng.sample(words, count)
    texts = (
        picked[:30]
        + [f"{a} {b}" for a, b in zip(picked[30:50:2], picked[31:51:2])]
        + [f'"{w}"' for w in picked[50:56]]
        + [
            f"{picked[56]} -{picked[57]}",
            f"{picked[58]} OR {picked[59]}",
            "headline:公告",
            "byline:记者",
            "复工",
            "株洲",
            "",
            "株州",
            "date:2020-02",
        ]
    )
    filters = [
        {},
        {"region": "湖南"},
        {"date_from": "2020-01-01", "date_to": "2020-06-30"},
        {"sort": "-date"},
        {"page": "2", "per_page": "7"},
        {"collapse": "true"},
        {"region": "河北", "sort": "date"},
    ]
    return [{"q": q, **filters[i % len(filters)]} for i, q in enumerate(texts)]


def comparable(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("took_ms", "partial", "missing_shards")}


def test_the_shards_hold_every_article_once(single, sharded):
    stats = sharded.stats()
    assert stats["articles"] == single.stats()["articles"] > 1500
    per_shard = [s["articles"] for s in stats["shards"]]
    assert len(per_shard) == SHARDS and all(n > 200 for n in per_shard)  # a stable hash spreads them
    assert stats["regions"] == single.stats()["regions"] and stats["sources"] == single.stats()["sources"]


def test_fan_out_answers_exactly_as_one_index(single, sharded):
    checked = with_hits = 0
    for params in queries(single):
        req = SearchRequest.from_params(params)
        expected, got = single.ranking(req), sharded.ranking(req)
        assert [i for i, _ in got] == [i for i, _ in expected], params
        for (_, a), (_, b) in zip(got, expected):
            assert (a is None and b is None) or abs(a - b) <= 1e-6, params
        a, b = sharded.search(req), single.search(req)
        assert a["partial"] is False and a["missing_shards"] == []
        assert comparable(a) == comparable(b), params  # totals, facets, snippets, similar reprints, suggestions
        checked += 1
        with_hits += bool(b["hits"])
    assert checked >= 50 and with_hits >= 30  # the rest: filters that leave nothing, misspellings


def test_without_global_statistics_the_rankings_differ(single, sharded, sharded_root):
    """The first round is what makes the rankings equal: scored with each shard's own statistics, the same
    queries rank differently."""
    from search.cluster.fanout import ShardedEngine

    local = ShardedEngine(sharded_root, sharded.shards, global_statistics=False)
    differ = 0
    for params in queries(single):
        if params.get("sort"):
            continue
        req = SearchRequest.from_params(params)
        expected, got = single.ranking(req), local.ranking(req)
        differ += [i for i, _ in got] != [i for i, _ in expected] or any(
            abs(a - b) > 1e-6 for (_, a), (_, b) in zip(got, expected) if a is not None
        )
    assert differ >= 10


def test_articles_related_exports_and_suggestions_are_the_single_index_s(single, sharded):
    ids = [h["id"] for h in single.search(SearchRequest.from_params({"q": "企业", "per_page": "5"}))["hits"]]
    assert ids
    for article_id in ids:
        assert sharded.article(article_id, q="企业") == single.article(article_id, q="企业")
        assert sharded.related(article_id, 5) == single.related(article_id, 5)
        assert sharded.source_page(article_id) == single.source_page(article_id)
        assert sharded.source_file(article_id) == single.source_file(article_id)
    req = SearchRequest.from_params({"q": "湖南", "sort": "-date"})
    assert list(sharded.iter_matches(req, 300)) == list(single.iter_matches(req, 300))
    misspelt = SearchRequest.from_params({"q": "株州"})
    offered = sharded.search(misspelt)["suggestions"]
    assert offered and offered == single.search(misspelt)["suggestions"]
    from search.errors import BadRequest, NotFound

    with pytest.raises(NotFound):
        sharded.article("0000000000000000")
    with pytest.raises(BadRequest, match="beyond the first 10,000"):  # deep pages are bounded
        sharded.search(SearchRequest.from_params({"q": "企业", "page": "101", "per_page": "100"}))
    assert sharded.search(SearchRequest.from_params({"q": "企业", "page": "100", "per_page": "100"}))["hits"] == []


def test_a_killed_shard_is_reported_missing_then_restarted_with_correct_answers(single, sharded_root):
    """Ray restarts a shard actor that dies; while it is down (its restart made slow here, as a large shard's
    is), answers say which shard is missing and count only the others; once it is back they are whole again."""
    engine = start(sharded_root, call_timeout=1.0, restart_delay=12.0)
    try:
        req = SearchRequest.from_params({"q": "企业"})
        whole = comparable(single.search(req))
        assert comparable(engine.search(req)) == whole
        shard_one = engine.stats()["shards"][1]["articles"]
        ray.kill(engine.shards.handles[1][0], no_restart=False)
        down = engine.search(req)
        assert down["partial"] is True and down["missing_shards"] == [1]
        from search.cluster.layout import shard_of

        assert down["total"] == sum(
            1 for article in single.iter_matches(req, 10_000) if shard_of(article["cluster"], SHARDS) != 1
        )
        stats = engine.stats()
        assert stats["missing_shards"] == [1] and stats["articles"] == single.stats()["articles"] - shard_one
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = engine.search(req)
            if not answer["partial"]:
                break
            time.sleep(0.5)
        assert answer["partial"] is False and comparable(answer) == whole
        assert [i for i, _ in engine.ranking(req)] == [i for i, _ in single.ranking(req)]
    finally:
        engine.close()


def test_a_replica_answers_for_its_dead_twin(single, sharded_root):
    engine = start(sharded_root, replicas=2)
    try:
        ray.kill(engine.shards.handles[0][0], no_restart=True)  # gone for good: its twin serves shard 0
        for params in queries(single)[:14]:
            req = SearchRequest.from_params(params)
            answer = engine.search(req)
            assert answer["partial"] is False and comparable(answer) == comparable(single.search(req)), params
        status = engine.status()
        assert [s["alive"] for s in status if s["shard"] == 0] == [False, True]
        assert all(s["alive"] and s["documents"] > 0 for s in status if s["shard"] != 0)
    finally:
        engine.close()


def test_resharding_needs_rebuild_and_a_sync_skips_what_is_unchanged(sharded_root, archive):
    from search.cluster.layout import index_sharded
    from search.errors import ShardingError

    with pytest.raises(ShardingError, match="has 4 shards, not 3"):
        index_sharded(sharded_root, [archive], shards=3)
    again = index_sharded(sharded_root, [archive])
    assert again.ok and again.added == 0 and again.unchanged > 1500


def test_the_sync_rules_are_the_single_index_s(tmp_path, ray_session):
    """Changed files replaced, vanished ones pruned, ids deleted: the same counts and the same articles as one
    index, with the shards' writers in this process and as Ray actors alike."""
    from search.cluster.layout import delete_sharded, index_sharded
    from search.index.sync import delete_articles, index_paths
    from search.service import open_engine

    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages)
    single_dir, sharded_dir = tmp_path / "single", tmp_path / "sharded"
    first = index_paths(single_dir, [pages]).to_dict()
    assert first == index_sharded(sharded_dir, [pages], shards=3, in_process=True).to_dict()
    assert first["added"] > 0
    page = pages / "002_35806e347c1c4678.txt"
    page.write_text(page.read_text(encoding="utf-8") + "\n补记：湘潭市新增复工企业三家。\n", encoding="utf-8")
    (pages / "001_52fef1ac75084d80.txt").unlink()
    changed = index_paths(single_dir, [pages], prune=True).to_dict()
    assert changed == index_sharded(sharded_dir, [pages], prune=True).to_dict()  # Ray actors this time
    assert changed["removed"] >= 1 and changed["replaced"] + changed["added"] >= 1
    victim = next(iter(SearchEngine(single_dir).searcher().all_stored_fields()))["id"]
    assert delete_articles(single_dir, [victim, "nope"]) == delete_sharded(sharded_dir, [victim, "nope"])
    req = SearchRequest.from_params({"q": "株洲 OR 湘潭"})
    assert comparable(open_engine(sharded_dir).search(req)) == comparable(SearchEngine(single_dir).search(req))
    assert json.loads((sharded_dir / "shards.json").read_text())["shards"] == 3


def test_the_command_line_builds_searches_and_reports_a_sharded_index(tmp_path, ray_session):
    from click.testing import CliRunner

    from search.cli import main

    runner = CliRunner()
    root = tmp_path / "ix"
    built = runner.invoke(main, ["index", "-q", "--shards", "3", "--index", str(root), str(SEEDS)])
    assert built.exit_code == 0, built.output
    assert "articles added" in built.output and json.loads((root / "shards.json").read_text())["shards"] == 3
    again = runner.invoke(main, ["index", "-q", "--index", str(root), str(SEEDS)])  # the layout is remembered
    assert again.exit_code == 0 and "0 articles added" in again.output, again.output
    wrong = runner.invoke(main, ["index", "-q", "--shards", "2", "--index", str(root), str(SEEDS)])
    assert wrong.exit_code == 1 and "has 3 shards, not 2" in wrong.output and "--rebuild" in wrong.output
    single = tmp_path / "single"
    assert runner.invoke(main, ["index", "-q", "--index", str(single), str(SEEDS)]).exit_code == 0
    a = json.loads(runner.invoke(main, ["search", "复工", "--json", "--index", str(root)]).output)
    b = json.loads(runner.invoke(main, ["search", "复工", "--json", "--index", str(single)]).output)
    assert comparable(a) == comparable(b) and a["total"] > 0
    status = runner.invoke(main, ["cluster", "status", "--shards", str(root)])
    assert status.exit_code == 0, status.output
    assert "3 shards" in status.output and "no serving actors" in status.output
    onto_single = runner.invoke(main, ["index", "-q", "--shards", "2", "--index", str(single), str(SEEDS)])
    assert onto_single.exit_code == 1 and "holds an unsharded index" in onto_single.output
    not_sharded = runner.invoke(main, ["serve", "--shards", str(single)])
    assert not_sharded.exit_code == 1 and "no sharded index at" in not_sharded.output
    stray = runner.invoke(main, ["serve", "--replicas", "2"])
    assert stray.exit_code == 2 and "go with --shards" in stray.output


def test_the_command_line_says_how_to_get_ray_when_it_is_missing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from search.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as it does without the extra
    result = CliRunner().invoke(main, ["index", "-q", "--shards", "2", "--index", str(tmp_path / "ix"), str(SEEDS)])
    assert result.exit_code == 1 and "pip install 'newsearch[cluster]'" in result.output, result.output
    assert not (tmp_path / "ix" / "shards.json").exists()  # nothing half-made is left behind


class _OneShardDown:
    """Shards whose shard 2 never answers: what the coordinator sees while a shard has no live replica."""

    def __init__(self, shards):
        self.inner, self.count, self.replicas = shards, shards.count, 1

    def run(self, method, args=(), shards=None, tolerate=False, report_down=False):
        from search.cluster.actors import ShardDown
        from search.errors import ShardUnavailable

        wanted = list(range(self.count) if shards is None else shards)
        out = self.inner.run(method, args, shards=[s for s in wanted if s != 2], tolerate=tolerate)
        if 2 in wanted:
            if not report_down:
                raise ShardUnavailable(ShardDown(2, "test: down"))
            out[2] = ShardDown(2, "test: down")
        return out

    def close(self):
        pass


def test_the_page_and_the_api_say_when_shards_are_missing(sharded_root):
    from search.cluster.fanout import ShardedEngine
    from search.service import open_engine
    from web import create_app

    engine = open_engine(sharded_root)
    down = ShardedEngine(sharded_root, _OneShardDown(engine.shards))
    client = create_app({"TESTING": True, "ENGINE": down, "INDEX_DIR": str(sharded_root)}).test_client()
    api = client.get("/api/search?q=企业").get_json()
    assert api["partial"] is True and api["missing_shards"] == [2] and api["total"] > 0
    page = client.get("/search?q=企业").get_data(as_text=True)
    assert "部分分片暂时无法访问" in page and "第 2 片" in page
    whole = create_app({"TESTING": True, "ENGINE": engine, "INDEX_DIR": str(sharded_root)}).test_client()
    assert "部分分片暂时无法访问" not in whole.get("/search?q=企业").get_data(as_text=True)
    assert whole.get("/api/search?q=企业").get_json()["total"] > api["total"]


def test_an_unreachable_cluster_is_said_at_once(tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "search.cli",
            "index",
            "-q",
            "--shards",
            "2",
            "--cluster",
            "127.0.0.1:9",
            "--index",
            str(tmp_path / "ix"),
            str(SEEDS),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    assert result.returncode == 1 and "cannot reach the Ray cluster at 127.0.0.1:9" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and time.monotonic() - started < 60
    assert not (tmp_path / "ix").exists()


def test_cluster_status_lists_the_serving_actors(sharded, sharded_root):
    from click.testing import CliRunner

    from search.cli import main

    result = CliRunner().invoke(main, ["cluster", "status", "--shards", str(sharded_root), "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert [s["shard"] for s in status["shards"]] == list(range(SHARDS))
    alive = [a for a in status["actors"] if a["alive"]]
    assert sorted({a["shard"] for a in alive}) == list(range(SHARDS))
    assert all(a["documents"] > 0 and a["rss_bytes"] > 0 for a in alive)


def test_a_writer_killed_mid_run_fails_the_run_and_the_next_run_finishes_it(
    tmp_path, archive, ray_session, monkeypatch
):
    """A shard's writer that dies stops the sync with a message naming the shard; the manifest holds only what
    every shard committed, so the next run adds the rest — and the answers are then one index's."""
    import search.index.sync
    from search.cluster.actors import NAMESPACE
    from search.cluster.layout import index_sharded
    from search.errors import ShardUnavailable
    from search.index.sync import index_paths
    from search.service import open_engine

    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages)
    lines = (archive / "bulk.jsonl").read_text(encoding="utf-8").splitlines()
    for part in range(5):
        (pages / f"bulk-{part}.jsonl").write_text(
            "\n".join(lines[part * 300 : (part + 1) * 300]) + "\n", encoding="utf-8"
        )
    monkeypatch.setattr(search.index.sync, "BATCH_SIZE", 300)  # a batch a bulk file
    killed = []

    def kill_a_writer(key):
        if killed or not key.endswith("bulk-1.jsonl"):
            return
        for entry in ray.util.list_named_actors(all_namespaces=True):
            if entry["namespace"] == NAMESPACE and "-writer-" in entry["name"] and entry["name"].endswith("-01-r0"):
                ray.kill(ray.get_actor(entry["name"], namespace=NAMESPACE), no_restart=True)
                killed.append(entry["name"])

    root = tmp_path / "ix"
    with pytest.raises(ShardUnavailable, match="shard 1 is unavailable"):
        index_sharded(root, [pages], shards=SHARDS, on_file=kill_a_writer)
    assert killed
    kept = open_engine(root).stats()["articles"]
    finished = index_sharded(root, [pages])
    assert finished.ok and finished.added > 0 and finished.added + finished.replaced + kept >= 1500
    one = tmp_path / "one"
    assert index_paths(one, [pages]).ok
    single, engine = SearchEngine(one), open_engine(root)
    assert engine.stats()["articles"] == single.stats()["articles"]
    for q in ("企业", "复工 OR 复产", ""):
        req = SearchRequest.from_params({"q": q})
        assert comparable(engine.search(req)) == comparable(single.search(req)), q


def test_a_new_commit_on_a_shard_refreshes_the_cached_statistics(single, sharded, sharded_root, tmp_path):
    """Statistics of repeated terms are kept between queries while the shards' snapshots stay the same; a commit
    that changes a term's frequency is seen at the next query, which then scores with fresh statistics."""
    from search.cluster.layout import index_sharded
    from search.index.sync import index_paths

    req = SearchRequest.from_params({"q": "企业 发展"})
    assert sharded.ranking(req) == single.ranking(req)
    more = tmp_path / "more"
    more.mkdir()
    (more / "extra.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "id": f"extra-{i}",
                    "headline": f"企业发展第{i}期",
                    "body": "企业" * (i + 1) + "。发展报告。",
                    "date": "2020-05-01",
                },
                ensure_ascii=False,
            )
            + "\n"
            for i in range(40)
        ),
        encoding="utf-8",
    )
    assert index_paths(single.index_dir, [more]).added == 40
    assert index_sharded(sharded_root, [more], in_process=True).added == 40
    after = sharded.ranking(req)
    assert after == single.ranking(req) and after[0][0].startswith("extra-")
    assert comparable(sharded.search(req)) == comparable(single.search(req))
