"""The `newsearch` command through click's CliRunner."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from search.cli import main


@pytest.fixture()
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("cli-index")
    result = CliRunner().invoke(main, ["index", "--quiet", "--index", str(index_dir), str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "22 articles added" in result.output
    return index_dir


def test_reindexing_the_same_files_adds_nothing(runner, cli_index):
    result = runner.invoke(main, ["index", "-q", "--index", str(cli_index), str(SEEDS)])
    assert result.exit_code == 0
    assert "0 articles added, 0 replaced, 0 removed, 22 unchanged, 0 failed" in result.output


def test_search_prints_ranked_highlighted_hits(runner, cli_index):
    result = runner.invoke(main, ["search", "杨慧", "--index", str(cli_index)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 results for 杨慧")
    assert "【杨慧】" in result.output
    assert "护士" in result.output


def test_search_with_no_hits_prints_the_suggestion_the_json_carries(runner, cli_index):
    # issue 24 item 21: `newsearch search 株州` printed only "0 results"
    result = runner.invoke(main, ["search", "株州", "--index", str(cli_index)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("0 results for 株州 (")
    assert lines[1:] == ["did you mean: 株洲 (9 results)"]
    offered = json.loads(runner.invoke(main, ["search", "株州", "--json", "--index", str(cli_index)]).output)
    assert offered["suggestions"] == [{"q": "株洲", "total": 9}]
    assert "did you mean" not in runner.invoke(main, ["search", "xyzzyq", "--index", str(cli_index)]).output


def test_search_json_has_the_api_hit_shape(runner, cli_index):
    result = runner.invoke(main, ["search", "复工", "--json", "--limit", "5", "--index", str(cli_index)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 10 and len(data["hits"]) == 5
    hit = data["hits"][0]
    for key in ("id", "headline", "byline", "date", "region", "source", "url", "snippets", "snippet_html"):
        assert key in hit
    assert "<mark>复工</mark>" in " ".join(h["snippet_html"] for h in data["hits"])
    assert {f for h in data["hits"] for f in [h["id"]]}  # ids present
    assert len({h["id"] for h in data["hits"]}) == 5


def test_search_filters(runner, cli_index):
    result = runner.invoke(
        main,
        [
            "search",
            "复工",
            "--json",
            "--date-from",
            "2020-02-19",
            "--date-to",
            "2020-02-19",
            "--region",
            "湖南省",
            "--index",
            str(cli_index),
        ],
    )
    data = json.loads(result.output)
    assert data["total"] == 2
    assert all(h["date"] == "2020-02-19" for h in data["hits"])


@pytest.mark.parametrize(
    "regions, total",
    [
        (["湖南省"], 17),
        (["湖南省", "湖南省/株洲市"], 9),
        (["湖南省/株洲市", "湖南省/张家界市"], 17),
        (["株洲", "浙江"], 11),
    ],
)
def test_search_region_inside_another_narrows(runner, cli_index, regions, total):
    args = ["search", "--json", "--index", str(cli_index)]
    for region in regions:
        args += ["--region", region]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == total


def test_stats(runner, cli_index):
    result = runner.invoke(main, ["stats", "--json", "--index", str(cli_index)])
    assert result.exit_code == 0
    stats = json.loads(result.output)
    assert stats["articles"] == 22 and stats["dated"] == 8 and stats["date_min"] == "2020-02-19"


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", '"复工', "--index", "{ix}"], "unbalanced quote at 0"),
        (["search", "autor:张三", "--index", "{ix}"], "did you mean 'byline'"),
        (["search", "复工", "--date-from", "2020-13", "--index", "{ix}"], "date_from: invalid date '2020-13'"),
        (["search", "复工", "--limit", "0", "--index", "{ix}"], "Invalid value for '--limit'"),
        (["search", "复工", "--sort", "size", "--index", "{ix}"], "Invalid value for '--sort'"),
        (["search", "复工", "--index", "{missing}"], "no index at"),
        (["stats", "--index", "{missing}"], "no index at"),
        (["index", "no/such/dir", "--index", "{ix}"], "no such file or directory"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(runner, cli_index, tmp_path, args, message):
    args = [a.format(ix=cli_index, missing=tmp_path / "none") for a in args]
    result = runner.invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_bad_file_is_reported_and_the_rest_still_goes_in(runner, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEEDS / "003_a8830f866c506400.txt", pages / "good.txt")
    (pages / "broken.txt").write_bytes(b"\xff\xfe\x00\x01binary\x00junk")
    (pages / "empty.md").write_bytes(b"")
    (pages / "gbk.txt").write_bytes("疫情防控期间，慈利县企业有序复工复产，员工陆续返岗。\n".encode("gb18030"))
    result = runner.invoke(main, ["index", "-q", "--index", str(tmp_path / "ix"), str(pages)])
    assert result.exit_code == 1
    assert "broken.txt" in result.output and "empty.md" in result.output
    assert "4 files: 9 articles added, 0 replaced, 0 removed, 0 unchanged, 2 failed" in result.output
    found = runner.invoke(main, ["search", "返岗", "--json", "--index", str(tmp_path / "ix")])
    assert json.loads(found.output)["total"] >= 1


def test_indexing_progress_counts_bytes_and_moves_within_one_streamed_file(tmp_path, monkeypatch):
    # One large JSON Lines file is often a whole archive: a bar that counts files would sit at 0/1 until the end.
    import search.index.sync as sync
    import search.ingest as ingest

    monkeypatch.setattr(ingest, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(sync, "_PROGRESS_STEP", 2_000)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bulk = corpus / "archive.jsonl"
    bulk.write_text(
        "".join(
            json.dumps(
                {"id": f"a{n}", "headline": f"第{n}篇", "body": "脱贫攻坚取得决定性胜利。" * 20}, ensure_ascii=False
            )
            + "\n"
            for n in range(60)
        ),
        encoding="utf-8",
    )
    page = corpus / "page.txt"
    page.write_text("# 标题\n\n正文一段。\n", encoding="utf-8")
    seen: list[tuple[int, int]] = []  # (bytes reported so far, files finished so far)
    finished: list[str] = []
    total = 0

    def on_bytes(count: int) -> None:
        nonlocal total
        total += count
        seen.append((total, len(finished)))

    summary = sync.index_paths(tmp_path / "index", [corpus], on_file=finished.append, on_bytes=on_bytes)
    assert summary.added == 61
    assert total == bulk.stat().st_size + page.stat().st_size
    moving_inside_the_bulk_file = [n for n, files in seen if files == 0 and n < bulk.stat().st_size]
    assert len(moving_inside_the_bulk_file) >= 5


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_busy_port_gives_only_its_error(runner, cli_index, workers):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = runner.invoke(
            main,
            ["serve", "--index", str(cli_index), "--port", str(port), "--workers", workers],
            catch_exceptions=False,
        )
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.output
    assert "serving" not in result.output
