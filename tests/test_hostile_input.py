"""What a newcomer and an attacker hit (issue 24): each gives a clear, bounded answer, and the rest is indexed."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from search.cli import main
from search.ingest import read_file


@pytest.mark.parametrize("q", ["(" * 300 + "复工" + ")" * 300, "(" * 245 + "复工" + ")" * 245, "NOT " * 200 + "复工"])
def test_deep_nesting_is_a_400_not_a_500(client, q):
    response = client.get("/api/search", query_string={"q": q[:1000]})
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and ("nests deeper than 32 levels" in body["error"] or "too long" in body["error"])
    assert client.get("/search", query_string={"q": q[:1000]}).status_code == 400


def test_nesting_within_the_bound_still_searches(client):
    q = "(" * 32 + "复工" + ")" * 32
    assert client.get("/api/search", query_string={"q": q}).get_json()["total"] > 0


def test_deep_nesting_in_the_cli_is_a_message(seed_index):
    result = CliRunner().invoke(main, ["search", "(" * 245 + "复工" + ")" * 245, "--index", str(seed_index)])
    assert result.exit_code != 0 and "nests deeper than 32 levels" in result.output
    assert "Traceback" not in result.output


def test_a_bad_line_in_a_small_jsonl_file_costs_that_line_only(tmp_path):
    good = json.dumps({"headline": "一", "body": "正文一。"}, ensure_ascii=False).encode()
    gb18030 = json.dumps({"headline": "二", "body": "正文二。"}, ensure_ascii=False).encode("gb18030")
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good, gb18030, b"[" * 100_000, good.replace("一".encode(), "三".encode())]))
    result = read_file(path)
    assert [a.body for a in result.articles] == ["正文一。", "正文二。", "正文三。"]  # each line in its own encoding
    assert result.error == f"{path}:3: nested too deeply to read"


def test_a_404_does_not_echo_a_huge_path(client):
    response = client.get("/api/" + "x" * 100_000)
    assert response.status_code == 404 and len(response.data) < 300
    assert "(100005 characters)" in response.get_json()["error"]


def test_stats_keep_the_servers_directories(client, seed_index):
    assert client.get("/api/stats").get_json()["index_dir"] == seed_index.name


def test_unusable_file_names_are_reported_and_the_rest_indexed(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "good.txt").write_text("# 好消息\n\n正文。\n", encoding="utf-8")
    bad = os.fsencode(pages) + b"/bad\xffname.txt"
    with open(bad, "wb") as f:
        f.write("# 坏名字\n\n正文。\n".encode())
    (pages / "l1.txt").symlink_to("l2.txt")
    (pages / "l2.txt").symlink_to("l1.txt")
    (pages / "dangling.txt").symlink_to("gone.txt")
    result = CliRunner().invoke(main, ["index", str(pages), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1, result.output
    assert "1 articles added" in result.output and "4 failed" in result.output
    assert "the file name is not valid UTF-8" in result.output
    assert result.output.count("a symbolic link loop") == 2
    assert f"{pages / 'dangling.txt'}: a symbolic link to nothing" in result.output  # its own name, not the target's


def test_a_directory_that_cannot_be_listed_is_named(tmp_path, monkeypatch):
    from search.index.sync import index_paths

    (tmp_path / "pages" / "locked").mkdir(parents=True)
    (tmp_path / "pages" / "a.txt").write_text("# 标题\n\n正文。\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary = index_paths(tmp_path / "ix", [tmp_path / "pages"])
    assert summary.added == 1
    assert summary.errors == [f"{tmp_path / 'pages' / 'locked'}: cannot list this directory (Permission denied)"]
