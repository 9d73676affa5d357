"""Metadata as real newspaper archives print it: front matter, print lines, page headers, kickers, column tags,
padded names, closing notes — and bulk records whose missing fields are read from their text.

The pages under tests/fixtures/archives/ are written for these tests in the conventions of Chinese papers (a
provincial daily's page with its header, 本报讯 and ■ sections; an e-paper article with YAML front matter and its
print line); none is copied from a labelled set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.ingest import metadata as md
from search.ingest import read_file

ARCHIVES = Path(__file__).parent / "fixtures" / "archives"


def articles(name: str):
    result = read_file(ARCHIVES / name)
    assert result.error is None, result.error
    return result.articles


def test_front_matter_outranks_the_text_and_keeps_one_article_per_file():
    [a] = articles("vault-article.md")
    assert (a.headline, a.column, a.kicker) == (
        "老区人民日子越过越好",
        "牢记初心使命 奋进复兴征程",
        "革命老区加快振兴发展",
    )
    assert a.byline == ["周欢", "李佩阳"]  # padded two-character name joined; the role word is not a name
    assert (a.date, a.date_source, a.page, a.source) == ("2026-06-11", "front_matter", "01", "人民日报")
    assert a.url == "https://example.org/rmrb/2026/06/11/01/1.html"
    assert a.dateline_date == "06-10"  # the dateline's day, apart from the issue date
    assert {k: a.sources[k] for k in ("headline", "byline", "date")} == dict.fromkeys(
        ("headline", "byline", "date"), "front_matter"
    )
    # the sub-head and the closing note stay in the article's text; the title lines do not
    assert "产业兴起来" in a.body and "（本报记者  周  欢整理）" in a.body
    assert a.line_start == 11  # line numbers are the file's, front matter included


def test_front_matter_keys_in_chinese_and_a_list_of_authors():
    [a] = articles("chinese-keys.md")
    assert (a.headline, a.byline, a.date, a.source, a.page) == (
        "乡村振兴的“数字密码”",
        ["张三", "李四"],
        "2025-12-03",
        "湖南日报",
        "A03",
    )
    assert a.dateline_date == "12-02"


@pytest.mark.parametrize(
    ("name", "message"),
    [("broken-front-matter.md", "front matter is not valid YAML"), ("notes.txt", "must be a mapping")],
)
def test_bad_front_matter_is_an_error_for_that_file_alone(name, message):
    result = read_file(ARCHIVES / name)
    assert result.articles == [] and message in result.error and name in result.error


def test_bad_front_matter_does_not_stop_the_archive(tmp_path):
    from search.index.sync import index_paths

    summary = index_paths(tmp_path / "index", [ARCHIVES])
    assert summary.failed == 2 and len(summary.errors) == 2
    assert summary.added == 6  # the vault article, the Chinese-keyed one, two on each of the two city pages


def test_a_provincial_page_header_kicker_column_tag_and_closing_notes():
    first, second = articles("zjrb-20260508-04.txt")
    # 浙江日报 / 2026年5月8日 星期五 / 第04版：要闻 is the page's header: it heads no article
    assert (first.kicker, first.headline, first.column) == (
        "坚持一张蓝图绘到底",
        "山区县走出共富新路子",
        "共同富裕看浙江",
    )
    assert (first.source, first.date, first.date_source, first.page) == ("浙江日报", "2026-05-08", "page", "04")
    assert first.dateline_date == "05-07"
    # an outlet's reporter, a correspondent, and the name in the closing （本报记者 X整理）
    assert first.byline == ["王亮", "陈思远", "李想"]
    # the chart credit closes the article above; the ■ label is the next one's column; its lone (padded) name
    assert first.body.endswith("制图：张  可")
    assert (second.headline, second.column, second.byline, second.kind) == (
        "让好政策落地生根",
        "短评",
        ["周游"],
        "commentary",
    )
    assert second.body.endswith("（作者为浙江省社科院研究员）")  # a closing note, not a headline
    assert all("本期统筹" not in a.body and a.headline != "本期统筹：刘明远" for a in (first, second))


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("湖南日报记者  曹  娴  彭可心", ["曹娴", "彭可心"]),
        ("闽北日报记者  裴礼辉  银川日报记者  闫  茜", ["裴礼辉", "闫茜"]),
        ("新华社记者  叶  婧", ["叶婧"]),
        ("本报记者 李中文 江南", ["李中文", "江南"]),
        ("记者 戴凛 通讯员 雷江华", ["戴凛", "雷江华"]),
        ("本报评论员", []),
        ("记者手记", []),
    ],
)
def test_byline_forms(line, names):
    assert [n["name"] for n in md.parse_byline(line)] == names


def test_print_line():
    assert md.print_line("> 本报记者  周  欢  李佩阳《人民日报》（2026年06月11日第 01 版）") == {
        "names": [{"name": "周欢", "role": "本报记者"}, {"name": "李佩阳", "role": "本报记者"}],
        "paper": "人民日报",
        "date": "2026-06-11",
        "page": "01",
    }
    assert md.print_line("任仲平《人民日报》（2026年01月02日第 1 版）")["names"] == []  # an institutional pen name
    assert md.print_line("这不是《人民日报》的版权行") is None


@pytest.mark.parametrize(
    ("headline", "split"),
    [
        ("老区人民日子越过越好（牢记初心使命  奋进复兴征程）", ("老区人民日子越过越好", "牢记初心使命 奋进复兴征程")),
        ("以法治护航高品质消费（人民时评）", ("以法治护航高品质消费", "人民时评")),
        ("从“十四五”看发展（上）", ("从“十四五”看发展（上）", "")),  # a part number stays in the headline
        ("（作者为某大学教授）", ("（作者为某大学教授）", "")),
    ],
)
def test_column_tags_come_off_headlines(headline, split):
    assert md.split_headline_tag(headline) == split


def test_bulk_records_get_missing_fields_from_their_text_and_say_where_each_came_from(tmp_path):
    path = tmp_path / "bulk.jsonl"
    records = [
        {"body": "高铁开进大山里\n本报记者  王  芳\n本报贵阳3月4日电  贵州省黔东南苗族侗族自治州从江县通了高铁。"},
        {
            "headline": "给定的标题",
            "body": "正文写到湖南省株洲市攸县的春耕。",
            "region": "广东省",
            "date": "2024-03-05",
        },
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    extracted, given = read_file(path).articles
    assert (extracted.headline, extracted.byline, extracted.dateline_date) == ("高铁开进大山里", ["王芳"], "03-04")
    assert extracted.region and all(r.startswith("贵州省") for r in extracted.region)
    assert extracted.sources == {"headline": "text", "byline": "text", "date": "none", "region": "text"}
    assert (given.headline, given.region, given.date, given.date_source) == (
        "给定的标题",
        ["广东省"],
        "2024-03-05",
        "given",
    )
    assert given.sources == {"headline": "given", "byline": "none", "date": "given", "region": "given"}


def test_the_api_shows_kicker_dateline_day_and_field_sources(tmp_path):
    from search.index.sync import index_paths
    from web import create_app

    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.md").write_bytes((ARCHIVES / "vault-article.md").read_bytes())
    index_paths(tmp_path / "index", [pages])
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    [hit] = client.get("/api/search?q=脐橙").get_json()["hits"]
    assert (hit["kicker"], hit["headline"], hit["date_source"]) == (
        "革命老区加快振兴发展",
        "老区人民日子越过越好",
        "front_matter",
    )
    article = client.get(f"/api/articles/{hit['id']}").get_json()["article"]
    assert (article["dateline_date"], article["sources"]["date"], article["column"]) == (
        "06-10",
        "front_matter",
        "牢记初心使命 奋进复兴征程",
    )
    page = client.get(f"/articles/{hit['id']}").get_data(as_text=True)
    assert "革命老区加快振兴发展" in page and "电头日期" in page


def test_a_city_paper_with_bracketed_labels_and_a_correspondent_in_the_dateline():
    first, second = articles("zzrb-20260509-03.txt")
    assert (first.headline, first.column, first.byline) == ("石峰区老旧小区改造全面开工", "株洲新闻", ["刘敏", "谭亮"])
    assert (first.source, first.date, first.page) == ("株洲日报", "2026-05-09", "03")
    assert "【新闻链接】" in first.body  # a box label inside the article, not a new one
    assert first.region == ["湖南省/株洲市/石峰区"]
    assert (second.headline, second.byline, second.region) == (
        "攸县春耕备耕有序推进",
        ["王伟", "李华"],
        ["湖南省/株洲市/攸县"],
    )
    assert second.dateline_date == "05-08"
