"""Bad input files: each gets one clear message naming the file, and the rest of the batch goes in."""

from __future__ import annotations

import json

import pytest

GOOD_PAGE = "株洲日报\n\n复工复产有序推进\n\n本报讯 3月9日，株洲市各地企业复工复产有序推进，工人陆续返岗。\n"


def bad_files(directory) -> dict[str, str]:
    """{file name: a fragment of the message it must get}."""
    text = "湖南省株洲市复工复产有序推进，企业工人陆续返岗。" * 20
    gb = text.encode("gb18030")
    utf8 = text.encode("utf-8")
    files = {
        "empty.txt": (b"", "empty file"),
        "blank.txt": (b" \n\n\t  \n", "only whitespace"),
        "binary.txt": (bytes(range(256)) * 8, "binary file"),
        "controls.txt": (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 100, "binary file"),
        # cut in the middle of a 2-byte GB18030 character: still GB18030, but the last byte is not a character
        "gb-truncated.txt": (gb[:-1], "cannot decode"),
        # cut inside a 3-byte UTF-8 character
        "utf8-truncated.txt": (utf8[:-1], "cannot decode"),
        # UTF-8 interrupted by Latin-1 bytes, which GB18030 cannot read either
        "mixed.txt": (utf8[:30] + b"\xff\xfe\xfa" + utf8[30:60], "cannot decode"),
        "bad-utf16.txt": (b"\xff\xfe" + "复工".encode("utf-16-le") + b"\x00", "cannot decode as UTF-16"),
        # one 5.1 MB line, no breaks: one article of 1.7 million characters, over the limit
        "huge-line.txt": (("复工复产企业工人返岗" * 170_000).encode("utf-8"), "article too long"),
        "bad.jsonl": ('{"id": "j1", "body": "复工"}\n{not json\n[1, 2]\n{"id": "j2"}\n'.encode(), "invalid JSON"),
    }
    for name, (data, _) in files.items():
        (directory / name).write_bytes(data)
    (directory / "good.txt").write_text(GOOD_PAGE, encoding="utf-8")
    (directory / "good.jsonl").write_text(
        json.dumps({"id": "ok-1", "headline": "春耕", "body": "春耕生产忙。"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return {name: fragment for name, (_, fragment) in files.items()}


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory):
    import time

    from search.index.sync import index_paths

    root = tmp_path_factory.mktemp("badfiles")
    pages = root / "pages"
    pages.mkdir()
    expected = bad_files(pages)
    started = time.monotonic()
    summary = index_paths(root / "index", [pages])
    return root, expected, summary, time.monotonic() - started


def test_each_bad_file_gets_a_clear_message(bad_batch):
    root, expected, summary, _ = bad_batch
    for name, fragment in expected.items():
        if fragment is None:
            continue
        messages = [e for e in summary.errors if name in e]
        assert messages, f"no message for {name}: {summary.errors}"
        assert any(fragment in m for m in messages), (name, messages)
    # one message per bad file (bulk-line errors of one file are joined), and no traceback text
    assert all("Traceback" not in e for e in summary.errors)
    assert summary.failed == len([f for f in expected.values() if f is not None])


def test_the_rest_of_the_batch_goes_in(bad_batch):
    from search.query.engine import SearchEngine
    from search.query.request import SearchRequest

    root, _, summary, _ = bad_batch
    engine = SearchEngine(root / "index")
    ids = {doc["id"] for doc in engine.searcher().all_stored_fields()}
    assert {"ok-1", "j1"} <= ids  # the good bulk file and the good line of the bad one
    assert engine.search(SearchRequest.from_params({"q": "春耕"}))["total"] >= 1
    assert engine.search(SearchRequest.from_params({"q": "返岗"}))["total"] >= 1


def test_truncated_files_are_refused_with_a_message(bad_batch):
    """A file cut mid-character is refused as a whole (nothing half-read is indexed), and the message says so."""
    _, _, summary, _ = bad_batch
    for name, encoding in (("gb-truncated.txt", "GB18030"), ("utf8-truncated.txt", "UTF-8")):
        assert [
            e
            for e in summary.errors
            if name in e and f"ends in the middle of a {encoding} character" in e and "truncated?" in e
        ], (name, summary.errors)


def test_huge_line_is_bounded(bad_batch):
    """A 5 MB single line is read (or refused with a message) in bounded time, and not stored as a 5 MB headline."""
    root, _, summary, seconds = bad_batch
    from search.query.engine import SearchEngine

    engine = SearchEngine(root / "index")
    for doc in engine.searcher().all_stored_fields():
        assert len(doc.get("headline", "")) < 1000
    assert seconds < 120, f"the batch took {seconds:.0f} s"


def test_cli_reports_bad_files_and_exits_1(tmp_path):
    from click.testing import CliRunner

    from search.cli import main

    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "empty.txt").write_bytes(b"")
    (pages / "binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    (pages / "good.txt").write_text(GOOD_PAGE, encoding="utf-8")
    result = CliRunner().invoke(main, ["index", "--index", str(tmp_path / "index"), "-q", str(pages)])
    assert result.exit_code == 1
    assert "empty.txt: empty file" in result.output
    assert "binary.txt: binary file (NUL byte at offset 0)" in result.output
    assert "articles added" in result.output and "2 failed" in result.output


def test_long_line_full_of_place_names_is_bounded(tmp_path):
    """Region analysis is linear in the place names of a text (it once compared every mention with every other)."""
    import time

    from search.ingest import read_file

    page = tmp_path / "places.txt"
    page.write_text("株洲复工" * 8_000, encoding="utf-8")
    started = time.monotonic()
    result = read_file(page)
    assert result.articles and time.monotonic() - started < 5


def test_lone_surrogates_in_json_become_replacement_characters(tmp_path):
    """JSON can escape half a surrogate pair ("\\ud800"): no page, JSON answer or CSV could encode that text, so it is
    stored as U+FFFD; a real pair ("\\ud83d\\udcf0") stays the character it encodes."""
    from search.index.sync import index_paths
    from web import create_app

    bulk = tmp_path / "bulk.jsonl"
    bulk.write_text(
        '{"id": "s1", "headline": "株洲\\ud800复工", "body": "正文\\udfff内容\\ud83d\\udcf0，企业复工复产。",'
        ' "byline": ["\\udc00记者"], "date": "2020-02-19"}\n',
        encoding="utf-8",
    )
    assert index_paths(tmp_path / "index", [bulk]).ok
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    for path in (
        "/api/search?q=复工",
        "/search?q=复工",
        "/api/articles/s1",
        "/articles/s1",
        "/api/export?q=复工&format=csv",
        "/search.atom?q=复工",
    ):
        assert client.get(path).status_code == 200, path
    article = client.get("/api/articles/s1").get_json()["article"]
    assert article["headline"] == "株洲\ufffd复工" and article["body"] == "正文\ufffd内容\U0001f4f0，企业复工复产。"
    assert article["byline"] == ["\ufffd记者"]
