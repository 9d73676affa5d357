"""The source view (/articles/<id>/source and its API twin) within bounds: a bulk (JSON Lines) article shows its own
record, not the file; a long page shows the article's lines with their context; the whole file is a download."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_web import Page, html_of

RECORDS = [
    {
        "headline": f"第{i}号记录：株洲市第{i}批企业复工",
        "date": f"2020-03-0{i + 1}",
        "body": f"记录{i}正文。\n第二段{i}。",
    }
    for i in range(5)
]
ARTICLES, PARAGRAPHS = 30, 50  # the long page: 30 articles of 50 paragraphs, 3059 lines


def long_page() -> str:
    lines = []
    for i in range(ARTICLES):
        lines += [f"## 第{i}号公告：株洲市第{i}批企业复工", ""]
        for j in range(PARAGRAPHS):
            lines += [f"　　长版第{i}篇第{j}段，企业有序复工复产，工作稳步推进。", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("source-view")
    archive = root / "archive"
    archive.mkdir()
    bulk = "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n"
    (archive / "bulk.jsonl").write_text(bulk, encoding="utf-8")
    (archive / "long.md").write_text(long_page(), encoding="utf-8")
    (archive / "gbk.txt").write_text("## 湘潭市企业复工\n\n　　湘潭市第一批企业今日复工。\n", encoding="gb18030")
    return archive


@pytest.fixture(scope="module")
def client(archive):
    from search.index.sync import index_paths
    from web import create_app

    index_dir = archive.parent / "index"
    summary = index_paths(index_dir, [archive])
    assert summary.ok, summary.errors
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def article_id(client, headline: str) -> str:
    hits = client.get("/api/search", query_string={"q": f'headline:"{headline}"', "per_page": 100}).get_json()["hits"]
    found = [h["id"] for h in hits if h["headline"] == headline]
    assert len(found) == 1, (headline, [h["headline"] for h in hits])
    return found[0]


def test_a_bulk_article_shows_its_own_record_not_the_file(client, archive):
    record = RECORDS[3]
    found = article_id(client, record["headline"])
    api = client.get(f"/api/articles/{found}/source").get_json()
    assert (api["format"], api["line_start"], api["line_end"], api["lines_total"]) == ("jsonl", 4, 4, 5)
    assert api["record"] == record
    assert api["lines"] == [{"n": 4, "text": json.dumps(record, ensure_ascii=False), "in_article": True}]
    assert api["bytes"] == (archive / "bulk.jsonl").stat().st_size

    html = html_of(client, f"/articles/{found}/source")
    page = Page(html)
    assert [li["id"] for li in page.find("li", class_="line")] == ["L4"]
    text = page.all_text()
    assert "记录3正文" in text and "第3号记录" in text
    assert not any(f"记录{i}正文" in text for i in (0, 1, 2, 4)), "the other records are not on the page"
    assert "原始记录" in text and "bulk.jsonl" in text and "共 5 行" in text
    download = page.find("a", class_="download")[0]
    assert download["href"] == f"/articles/{found}/source/download" and "下载整个文件" in text


def test_the_whole_file_is_a_streamed_download(client, archive):
    found = article_id(client, RECORDS[0]["headline"])
    with client.get(f"/articles/{found}/source/download") as response:
        assert response.is_streamed, "the file is passed on as it is read, not loaded first"
        data = response.get_data()
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=bulk.jsonl"
    assert data == (archive / "bulk.jsonl").read_bytes()
    assert int(response.headers["Content-Length"]) == (archive / "bulk.jsonl").stat().st_size
    assert str(archive) not in str(response.headers), "no server paths in the headers"


def test_the_article_page_links_a_bulk_record(client):
    found = article_id(client, RECORDS[1]["headline"])
    html = html_of(client, f"/articles/{found}")
    link = Page(html).find("a", class_="source-link")[0]
    assert link["href"] == f"/articles/{found}/source#L2"
    assert "查看原始记录" in html and "第 2 行" in html


def test_a_long_page_shows_the_article_with_context(client):
    found = article_id(client, "第20号公告：株洲市第20批企业复工")
    api = client.get(f"/api/articles/{found}/source").get_json()
    start, end = api["line_start"], api["line_end"]
    # the page ends with a line break after its last (blank) line: 3059 lines, as an editor or `wc -l` counts
    assert api["format"] == "page" and api["lines_total"] == ARTICLES * (2 + 2 * PARAGRAPHS) - 1
    assert (start, end) == (2041, 2141)
    assert [line["n"] for line in api["lines"]] == list(range(start - 30, end + 31))
    assert [line["n"] for line in api["lines"] if line["in_article"]] == list(range(start, end + 1))
    assert api["lines"][30]["text"] == "## 第20号公告：株洲市第20批企业复工"

    html = html_of(client, f"/articles/{found}/source")
    page = Page(html)
    assert len(page.find("li", class_="line")) == end - start + 61
    text = page.all_text()
    assert f"共 {api['lines_total']} 行，这里显示第 {start - 30}–{end + 30} 行" in text
    assert f"前略 {start - 31} 行" in text and f"后略 {api['lines_total'] - end - 30} 行" in text
    assert "长版第0篇" not in text and "长版第25篇" not in text


def test_a_gb18030_page_is_decoded_as_ingest_read_it(client):
    found = article_id(client, "湘潭市企业复工")
    api = client.get(f"/api/articles/{found}/source").get_json()
    assert [line["text"] for line in api["lines"]][:3] == ["## 湘潭市企业复工", "", "　　湘潭市第一批企业今日复工。"]


def test_a_record_whose_file_shrank_is_reported(tmp_path):
    """The file changed since it was indexed: the article's line is gone, and the page says so (404, no traceback)."""
    from search.index.sync import index_paths
    from web import create_app

    bulk = tmp_path / "bulk.jsonl"
    bulk.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), encoding="utf-8")
    assert index_paths(tmp_path / "index", [bulk]).ok
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    found = article_id(client, RECORDS[4]["headline"])
    bulk.write_text(json.dumps(RECORDS[0], ensure_ascii=False), encoding="utf-8")
    response = client.get(f"/api/articles/{found}/source")
    assert response.status_code == 404
    assert (
        "has changed since it was indexed (bulk.jsonl has 1 lines, the article was at line 5)"
        in (response.get_json()["error"])
    )
    assert "has changed since it was indexed" in html_of(client, f"/articles/{found}/source", 404)
    bulk.unlink()
    assert "is no longer readable" in html_of(client, f"/articles/{found}/source/download", 404)


def test_file_size_labels():
    from web.views import file_size

    assert [file_size(n) for n in (0, 1023, 1024, 73_295_462, 3 << 30)] == [
        "0 字节",
        "1023 字节",
        "1.0 KB",
        "69.9 MB",
        "3.0 GB",
    ]
