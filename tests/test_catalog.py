"""The catalogue beside the pages: its forms, its faults, and how its paper and issue date reach each article."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import SEEDS

from search.article import Article
from search.index.sync import index_paths
from search.ingest import read_paths
from search.ingest.catalog import CatalogEntry, apply_catalog, load_catalog, parse_issue_date

P003 = "003_a8830f866c506400.txt"  # prints its page date (2020-02-19) and names 株洲日报
P004 = "004_67e6d4ce4cffcbe7.txt"  # no page date; 004#2 opens 本报讯 … 3月9日 (year-less); 004#6 a photo dated 3月9日
DATELINE_HEADLINE = "慈利县：坚持储备土地出让供应计划不减"
DATED_PAGE = """# 某县企业有序复工复产

新华社北京2020年3月1日电（记者 王小明）疫情防控期间，某县企业有序复工复产，员工陆续返岗。

第二段内容说明了具体情况。
"""


@pytest.fixture()
def archive(tmp_path):
    pages = tmp_path / "archive"
    pages.mkdir()
    for name in (P003, P004):
        shutil.copy(SEEDS / name, pages / name)
    (pages / "dated.md").write_text(DATED_PAGE, encoding="utf-8")
    return pages


def articles_by_file(pages) -> dict[str, list[Article]]:
    out: dict[str, list[Article]] = {}
    for result in read_paths([pages]):
        assert result.error is None, result.error
        out[result.path.rsplit("/", 1)[-1]] = result.articles
    return out


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2022-03-29", "2022-03-29"),
        ("2022/3/9", "2022-03-09"),
        ("2022.03.09", "2022-03-09"),
        ("20220309", "2022-03-09"),
        ("2022年3月9日", "2022-03-09"),
        (" 2020-02-29 ", "2020-02-29"),
        ("2021-02-29", None),
        ("2022-13-01", None),
        ("03-09", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_issue_dates_in_the_forms_archives_write_them(text, iso):
    assert parse_issue_date(text) == iso


def test_json_catalogue_sets_paper_page_and_dates(archive):
    (archive / "catalog.json").write_text(
        json.dumps(
            {
                P004: {
                    "paper": "人民日报",
                    "issue_date": "2020-03-10",
                    "page": "04",
                    "url": "https://example.org/0310/04",
                },
                "dated.md": {"paper": "新华每日电讯", "issue_date": "2020-03-10", "page": 2},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    pages = articles_by_file(archive)

    p004 = pages[P004]
    assert len(p004) == 8
    assert {a.source for a in p004} == {"人民日报"}
    assert {(a.page, a.issue_date, a.url) for a in p004} == {("04", "2020-03-10", "https://example.org/0310/04")}
    # Every article's date is the issue's; a year-less dateline keeps its own day apart, never completed by a guess.
    assert {(a.date, a.date_source) for a in p004} == {("2020-03-10", "catalog")}
    [dated] = [a for a in p004 if a.headline == DATELINE_HEADLINE]
    assert (dated.date_partial, dated.dateline_date) == ("03-09", "03-09")

    # A dateline with its own (earlier) day: the article is dated by the issue it was printed in, the dateline's
    # day is kept beside it.
    [own] = pages["dated.md"]
    assert (own.date, own.date_source, own.dateline_date, own.issue_date, own.page, own.source) == (
        "2020-03-10",
        "catalog",
        "03-01",
        "2020-03-10",
        "2",
        "新华每日电讯",
    )

    # A page the catalogue does not list keeps what its text says.
    assert {(a.date, a.date_source, a.source, a.page) for a in pages[P003]} == {("2020-02-19", "page", "株洲日报", "")}


def test_csv_catalogue_and_its_issue_date_over_a_printed_page_date(archive):
    (archive / "catalog.csv").write_text(
        f"file,paper,issue_date,page,url\n{P003},株洲晚报,2020-02-20,A03,\n{P004},,2020/3/10,,\n", encoding="utf-8"
    )
    pages = articles_by_file(archive)
    assert {(a.date, a.date_source, a.source, a.page) for a in pages[P003]} == {
        ("2020-02-20", "catalog", "株洲晚报", "A03")
    }
    # No paper in the catalogue: the paper named in the text stays (004 names none).
    assert {a.source for a in pages[P004]} == {""}
    assert [a.date for a in pages[P004] if a.headline == DATELINE_HEADLINE] == ["2020-03-10"]


def test_a_list_shaped_json_catalogue(archive):
    (archive / "catalog.json").write_text(
        json.dumps([{"file": P003, "paper": "株洲晚报"}], ensure_ascii=False), encoding="utf-8"
    )
    assert {a.source for a in articles_by_file(archive)[P003]} == {"株洲晚报"}


def test_the_issue_date_dates_the_article_and_a_front_matter_date_outranks_it():
    articles = [
        Article(body="本报讯 12月30日 …", date_partial="12-30", dateline_date="12-30"),
        Article(body="…", date="2021-12-31", date_source="front_matter"),
        Article(body="…", date="2021-12-29", date_source="dateline"),
    ]
    apply_catalog(articles, CatalogEntry(issue_date="2022-01-02"))
    assert [(a.date, a.date_source) for a in articles] == [
        ("2022-01-02", "catalog"),
        ("2021-12-31", "front_matter"),
        ("2022-01-02", "catalog"),
    ]
    assert articles[0].dateline_date == "12-30"


def test_malformed_json_catalogue_is_reported_with_file_and_line_and_pages_still_index(archive, tmp_path):
    (archive / "catalog.json").write_text(
        '{\n  "' + P004 + '": {"paper": "人民日报"},\n  "' + P003 + '": {"paper": "株洲晚报",}\n}\n', encoding="utf-8"
    )
    summary = index_paths(tmp_path / "ix", [archive])
    assert summary.added == 17  # 8 + 8 + 1: every page, read without the catalogue
    [error] = summary.errors
    assert error.startswith(f"{archive / 'catalog.json'}:3:")
    assert "malformed catalogue" in error and "indexed without it" in error
    assert summary.failed == 1
    from search.query.engine import SearchEngine

    assert "人民日报" not in SearchEngine(tmp_path / "ix").stats()["sources"]


def test_bad_csv_rows_and_values_are_reported_with_their_line(archive):
    (archive / "catalog.csv").write_text(
        "file,paper,issue_date,page,url\n"
        f"{P003},株洲晚报,2020-02-20,A03,\n"
        f"{P004},人民日报,2020-13-45,04,\n"
        ",人民日报,2020-03-10,04,\n"
        "dated.md,新华每日电讯,2020-03-10,02,,extra\n",
        encoding="utf-8",
    )
    catalog = load_catalog(archive)
    path = archive / "catalog.csv"
    assert catalog.errors == [
        f"{path}:3: issue_date '2020-13-45' is not a date (use YYYY-MM-DD); value ignored",
        f"{path}:4: row has no file name; row ignored",
        f"{path}:5: row has more fields than the header; row ignored",
    ]
    assert catalog.get(P003) == CatalogEntry(paper="株洲晚报", issue_date="2020-02-20", page="A03")
    assert catalog.get(P004) == CatalogEntry(paper="人民日报", page="04")  # only the bad value is dropped
    assert catalog.get("dated.md") is None


def test_a_csv_catalogue_without_a_file_column(archive):
    (archive / "catalog.csv").write_text("name,paper\na.txt,人民日报\n", encoding="utf-8")
    catalog = load_catalog(archive)
    assert catalog.entries == {}
    assert catalog.errors == [
        f'{archive / "catalog.csv"}:1: malformed catalogue (no "file" column in the header; '
        "expected file,paper,issue_date,page,url); its pages are indexed without it"
    ]


def test_a_bad_json_value_is_reported_at_its_entry_line(archive):
    (archive / "catalog.json").write_text(
        '{\n  "a.txt": {"paper": "人民日报"},\n  "b.txt": {"issue_date": "3月9日", "page": ["04"]}\n}\n',
        encoding="utf-8",
    )
    catalog = load_catalog(archive)
    path = archive / "catalog.json"
    assert catalog.errors == [
        f"{path}:3: issue_date '3月9日' is not a date (use YYYY-MM-DD); value ignored",
        f"{path}:3: page must be a string, got list; value ignored",
    ]
    assert catalog.get("a.txt") == CatalogEntry(paper="人民日报")
