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
