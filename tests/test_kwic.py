"""The concordance (KWIC): one line per match with its context, at the snippet highlighter's exact offsets, over
the articles the same search finds — on the API, the page, the CSV export, the command line, a sharded index, and
in Chromium (lines aligned on the match column, sorting by the right context, the CSV downloaded)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from conftest import SEEDS
from markupsafe import escape

from search.query.kwic import KwicRequest, flat
from search.query.request import SearchRequest
from search.query.snippets import highlight_ranges

# Mixed text with known answers: traditional characters (searched as simplified), full-width Latin letters, a word
# broken by a line break, Latin and digits among Chinese, markup, and cells a spreadsheet would run as formulas.
MIXED = [
    {
        "id": "mixed-trad",
        "headline": "復工復產進行時",
        "date": "2020-03-01",
        "region": "湖南省/株洲市",
        "body": "株洲市各企業加快復工復產。\n　　使用ＡＰＰ預約的工人陸續返崗，5G网络覆盖车间。",
    },
    {
        "id": "mixed-break",
        "headline": "复工一线",
        "date": "2020-02-10",
        "region": "湖南省",
        "body": "企业复\n工复产稳步推进，复工复产的企业通过App登记。",
    },
    {
        "id": "mixed-markup",
        "headline": "<script>alert(1)</script>复工复产",
        "date": "2020-02-20",
        "body": '这里有<b>标记</b>复工复产<img src=x onerror="alert(1)">。',
    },
    {
        "id": "mixed-formula",
        "headline": "@复工复产",
        "date": "2020-02-25",
        "body": "-5度复工复产=SUM(A1)，+86热线",
    },
]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """(engine, client) over an index of MIXED."""
    from search.index.sync import index_paths
    from search.query.engine import SearchEngine
    from web import create_app

    root = tmp_path_factory.mktemp("kwic-mixed")
    source = root / "mixed.jsonl"
    source.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in MIXED) + "\n", encoding="utf-8")
    assert index_paths(root / "index", [source]).ok
    app = create_app({"INDEX_DIR": str(root / "index"), "TESTING": True})
    return SearchEngine(root / "index"), app.test_client()


def kwic(engine, **params) -> dict:
    return engine.kwic(KwicRequest.from_params({k: str(v) for k, v in params.items()}))


def spans(result: dict) -> list[tuple[str, str, int, str]]:
    return [(line["id"], line["field"], line["offset"], line["match"]) for line in result["lines"]]


# --- offsets ----------------------------------------------------------------------------------------------------


def test_offsets_are_exact_on_cjk_and_mixed_text(mixed):
    engine, _ = mixed
    result = kwic(engine, q="复工复产", width=6, fields="body,headline")
    assert spans(result) == [  # date order (oldest first), each article's fields in the order asked, text order
        ("mixed-break", "body", 2, "复\n工复产"),  # the line break inside the word is part of the match
        ("mixed-break", "body", 12, "复工复产"),
        ("mixed-markup", "body", 12, "复工复产"),
        ("mixed-markup", "headline", 25, "复工复产"),
        ("mixed-formula", "body", 3, "复工复产"),
        ("mixed-formula", "headline", 1, "复工复产"),
        ("mixed-trad", "body", 8, "復工復產"),  # the text's own (traditional) characters
        ("mixed-trad", "headline", 0, "復工復產"),
    ]
    first = result["lines"][0]
    assert (first["left"], first["right"]) == ("企业", "稳步推进，复")
    trad = result["lines"][6]
    assert (trad["left"], trad["right"]) == ("市各企業加快", "。\n　　使用")
    assert (trad["headline"], trad["date"], trad["region"]) == ("復工復產進行時", "2020-03-01", ["湖南省/株洲市"])
    # Latin letters match whatever their width and case; digits and letters among Chinese characters
    assert spans(kwic(engine, q="app")) == [("mixed-break", "body", 21, "App"), ("mixed-trad", "body", 18, "ＡＰＰ")]
    assert spans(kwic(engine, q="5G网络")) == [("mixed-trad", "body", 31, "5G网络")]
    assert spans(kwic(engine, q="復工", fields="headline")) == [
        ("mixed-break", "headline", 0, "复工"),
        ("mixed-markup", "headline", 25, "复工"),
        ("mixed-formula", "headline", 1, "复工"),
        ("mixed-trad", "headline", 0, "復工"),
    ]


QUERIES = ["复工", "APP", "84除菌液", '"复工企业"', "复工 OR 复产", "headline:复工", "株洲", "复工 -企业", "疫情 防控"]


@pytest.mark.parametrize("q", QUERIES)
def test_lines_are_the_highlighters_ranges_and_slices_of_the_text(engine, all_articles, client, q):
    """Every line is text[offset:offset + len(match)] with `width` characters either side, and an article's lines
    are exactly the highlight ranges the article page marks for the same query and the snippets' marks."""
    width = 9
    result = kwic(engine, q=q, width=width, fields="body,headline", limit=1000)
    assert result["lines"] and not result["capped"]
    by_article: dict[tuple[str, str], list[list[int]]] = {}
    for line in result["lines"]:
        text = all_articles[line["id"]][line["field"]]
        start, end = line["offset"], line["offset"] + len(line["match"])
        assert text[start:end] == line["match"]
        assert line["left"] == text[max(0, start - width) : start]
        assert line["right"] == text[end : end + width]
        by_article.setdefault((line["id"], line["field"]), []).append([start, end])
    highlight = SearchRequest(q=q).parsed.highlight
    for (article_id, field), ranges in by_article.items():
        assert ranges == highlight_ranges(all_articles[article_id][field], highlight.get(field, []))
        page = client.get(f"/api/articles/{article_id}?q={quote(q)}").get_json()["article"]
        assert ranges == page["highlights"][field]
    # each mark of the search's snippets is one of the lines
    lines = {(line["id"], line["offset"], line["match"]) for line in result["lines"] if line["field"] == "body"}
    for hit in client.get(f"/api/search?q={quote(q)}&per_page=100").get_json()["hits"]:
        body = all_articles[hit["id"]]["body"]
        for snippet in hit["snippets"]:
            at = body.find(snippet["text"])
            for a, b in snippet["highlights"]:
                assert (hit["id"], at + a, snippet["text"][a:b]) in lines


# --- the articles are the search's ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"q": "复工"},
        {"q": "株洲"},
        {"q": "复工", "region": "湖南"},
        {"q": "复工", "date_from": "2020-02", "date_to": "2020-02-15"},
        {"q": "疫情 防控", "region": "湖南省/株洲市"},
        {"q": "复工 OR 口罩"},
        {"q": "source:株洲日报 复工"},
        {"q": "株州"},  # nothing
    ],
)
def test_the_article_count_is_the_search_total(client, params):
    search = client.get("/api/search", query_string=params).get_json()
    result = client.get("/api/kwic", query_string={**params, "fields": "body,headline"}).get_json()
    assert result["articles"] == search["total"]
    assert result["articles_scanned"] == search["total"]
    assert result["capped"] is False
    assert {line["id"] for line in result["lines"]} <= {
        hit["id"] for hit in client.get("/api/search", query_string={**params, "per_page": 100}).get_json()["hits"]
    }
    if search["total"] == 0:
        assert result["lines"] == [] and result["matches"] == 0 and result["pages"] == 0


def test_synonyms_are_the_search_s(client):
    """新冠 is searched with 新型冠状病毒 (the default synonyms): the lines list both forms, the count is the
    search's; synonyms=false searches the word as typed, as /api/search does."""
    for params in ({"q": "新冠"}, {"q": "新冠", "synonyms": "false"}):
        search = client.get("/api/search", query_string=params).get_json()
        result = client.get("/api/kwic", query_string={**params, "fields": "body,headline"}).get_json()
        assert result["articles"] == search["total"]
        assert result["articles_with_lines"] == result["articles"]
    both = client.get("/api/kwic?q=新冠&limit=1000").get_json()
    assert {line["match"] for line in both["lines"]} == {"新冠", "新型冠状病毒"}
    typed = client.get("/api/kwic?q=新冠&synonyms=false&limit=1000").get_json()
    assert {line["match"] for line in typed["lines"]} == {"新冠"} and typed["articles"] < both["articles"]


def test_the_seeds_answers_for_fugong(engine):
    result = kwic(engine, q="复工", limit=1000)
    assert (result["articles"], result["articles_with_lines"], result["matches"]) == (10, 10, 96)
    assert (result["page"], result["pages"], result["limit"], result["width"]) == (1, 1, 1000, 20)
    assert {line["match"] for line in result["lines"]} == {"复工"}
    assert result["query"]["parsed"] == "复工" and result["sort"] == "date" and result["fields"] == ["body"]


# --- sorting, widths, pages, caps -------------------------------------------------------------------------------


def test_sort_orders(engine):
    # two lines with the same left context: by the right one (将 U+5C06 before 马 U+9A6C), code point order
    assert [line["offset"] for line in kwic(engine, q="APP", sort="date")["lines"]] == [528, 860]
    assert [line["offset"] for line in kwic(engine, q="APP", sort="right")["lines"]] == [860, 528]
    assert [line["offset"] for line in kwic(engine, q="APP", sort="left")["lines"]] == [860, 528]

    def collated(text: str) -> str:
        return flat(text).casefold()

    left = kwic(engine, q="复工", sort="left", limit=1000)["lines"]
    keys = [collated(line["left"])[::-1] for line in left]
    assert keys == sorted(keys) and len(set(keys)) > 50
    right = kwic(engine, q="复工", sort="right", limit=1000)["lines"]
    keys = [collated(line["right"]) for line in right]
    assert keys == sorted(keys)
    assert sorted(spans({"lines": left})) == sorted(spans({"lines": right}))  # the same lines, reordered

    # undated articles come last either way, as on the results page
    for sort in ("date", "-date"):
        dates = [line["date"] for line in kwic(engine, q="复工", sort=sort, limit=1000)["lines"]]
        assert dates.index(None) > 0 and set(dates[dates.index(None) :]) == {None}
    # relevance: the articles in the search's ranking, each article's lines in text order
    ranked = [hit["id"] for hit in engine.search(SearchRequest.from_params({"q": "复工", "per_page": "100"}))["hits"]]
    lines = kwic(engine, q="复工", sort="relevance", limit=1000)["lines"]
    assert list(dict.fromkeys(line["id"] for line in lines)) == ranked
    for a, b in zip(lines, lines[1:]):
        if a["id"] == b["id"]:
            assert a["offset"] < b["offset"]


def test_date_orders(mixed):
    engine, _ = mixed
    oldest = ["mixed-break", "mixed-markup", "mixed-formula", "mixed-trad"]
    assert list(dict.fromkeys(line["id"] for line in kwic(engine, q="复工", sort="date")["lines"])) == oldest
    assert list(dict.fromkeys(line["id"] for line in kwic(engine, q="复工", sort="-date")["lines"])) == oldest[::-1]


@pytest.mark.parametrize("width", [1, 5, 20, 80])
def test_widths(engine, all_articles, width):
    for line in kwic(engine, q="复工", width=width, limit=1000)["lines"]:
        text = all_articles[line["id"]]["body"]
        end = line["offset"] + len(line["match"])
        assert len(line["left"]) == min(width, line["offset"])
        assert len(line["right"]) == min(width, len(text) - end)


def test_pages_of_lines(engine):
    everything = kwic(engine, q="复工", limit=1000)["lines"]
    second = kwic(engine, q="复工", limit=7, page=2)
    assert second["lines"] == everything[7:14]
    assert (second["pages"], second["matches"]) == (14, 96)
    assert kwic(engine, q="复工", limit=7, page=15)["lines"] == []


def test_a_capped_scan_says_so(engine, monkeypatch):
    import search.query.engine as engine_module
    import search.query.kwic as kwic_module

    monkeypatch.setattr(engine_module, "MAX_ARTICLES", 3)
    result = kwic(engine, q="复工", sort="relevance", limit=1000)
    assert (result["articles"], result["articles_scanned"], result["capped"]) == (10, 3, True)
    ranked = [hit["id"] for hit in engine.search(SearchRequest.from_params({"q": "复工"}))["hits"]][:3]
    assert list(dict.fromkeys(line["id"] for line in result["lines"])) == ranked  # the best three
    monkeypatch.setattr(engine_module, "MAX_ARTICLES", 2000)
    monkeypatch.setattr(kwic_module, "MAX_LINES", 5)
    result = kwic(engine, q="复工", limit=1000)
    assert (result["matches"], result["capped"]) == (5, True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=", "q: give a query: a concordance shows the places a query matched"),
        ("width=3", "q: give a query"),
        ("q=byline:戴凛", "q: 'byline:戴凛' has no words to find in the body (byline:, region:"),
        ("q=region:湖南", "has no words to find in the body"),
        ("q=-复工", "has no words to find in the body"),
        ("q=headline:复工&fields=body", "has no words to find in the body"),
        ('q="复工', "q: unbalanced quote at 0"),
        ("q=复工&width=0", "width: 0 is out of range (1–80)"),
        ("q=复工&width=81", "width: 81 is out of range (1–80)"),
        ("q=复工&width=wide", "width: 'wide' is not a whole number"),
        ("q=复工&limit=1001", "limit: 1001 is out of range (1–1000)"),
        ("q=复工&page=0", "page: 0 is out of range (1–1000)"),
        ("q=复工&sort=date&sort=left", "sort was given 2 times; give it once"),
        ("q=复工&sort=middle", "sort: 'middle' is not one of date, -date, relevance, left, right"),
        ("q=复工&fields=byline", "fields: 'byline' is not one of body, headline"),
        ("q=复工&format=xlsx", "format: 'xlsx' is not one of json, csv"),
        ("q=复工&region=火星", "region: '火星' is not a known administrative division"),
        ("q=复工&date_from=2020-13", "date_from:"),
    ],
)
def test_bad_parameters_are_400_with_the_reason(client, query, message):
    response = client.get(f"/api/kwic?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400 and message in body["error"], body
    page = client.get(f"/kwic?{query}")
    if "format=" in query:  # the page has no formats
        assert page.status_code == 200
    elif re.search(r"(^|&)q=[^&]", query):  # with a query the page says the same; without one it shows the form
        assert page.status_code == 400 and message in unescape(page.get_data(as_text=True))
    else:
        assert page.status_code == 200 and "kwic-line" not in page.get_data(as_text=True)


def test_a_tiny_time_budget_is_a_clear_503(seed_index):
    from web import create_app

    client = create_app({"INDEX_DIR": str(seed_index), "TESTING": True, "SEARCH_TIME_LIMIT": 1e-9}).test_client()
    for url in ("/api/kwic?q=复工", "/api/kwic?q=复工&format=csv"):
        response = client.get(url)
        assert response.status_code == 503
        assert response.get_json()["error"].startswith("the search took longer than 1e-09 s; narrow the query")
    page = client.get("/kwic?q=复工")
    assert page.status_code == 503 and "narrow the query" in page.get_data(as_text=True)


def test_the_fields(engine):
    headline = kwic(engine, q="复工", fields="headline")["lines"]
    assert [(line["field"], line["offset"], line["match"]) for line in headline] == [("headline", 8, "复工")]
    assert kwic(engine, q="复工", fields="headline")["articles_with_lines"] == 1
    both = kwic(engine, q="复工", fields="body,headline", limit=1000)
    assert both["matches"] == 96 + 1 and both["fields"] == ["body", "headline"]
    assert kwic(engine, q="复工", fields="headline,body", limit=1000)["fields"] == ["headline", "body"]


# --- CSV --------------------------------------------------------------------------------------------------------


def test_csv_export_has_every_line_in_order(client):
    response = client.get("/api/kwic?q=复工&format=csv&sort=right&limit=5&page=3")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="newsearch-kwic.csv"' in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeffid,date,headline,region,source,field,offset,left,match,right\r\n")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    lines = client.get("/api/kwic?q=复工&sort=right&limit=1000").get_json()["lines"]
    assert len(rows) == 96  # page and limit are a page's: the export has every line
    assert [(r["id"], int(r["offset"]), r["match"]) for r in rows] == [
        (line["id"], line["offset"], line["match"]) for line in lines
    ]
    assert all("\n" not in r["left"] + r["right"] for r in rows)  # one line each
    assert rows[0]["right"] == flat(lines[0]["right"])


def test_csv_export_neutralises_formulas(mixed):
    _, client = mixed
    text = client.get("/api/kwic?q=复工复产&format=csv&width=3&fields=body,headline").data.decode("utf-8-sig")
    rows = {(r["id"], r["field"]): r for r in csv.DictReader(io.StringIO(text))}
    body, headline = rows[("mixed-formula", "body")], rows[("mixed-formula", "headline")]
    assert (body["left"], body["right"]) == ("'-5度", "'=SU")
    assert (headline["left"], headline["headline"]) == ("'@", "'@复工复产")
    for row in rows.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    lines = client.get("/api/kwic?q=复工复产&width=3&fields=body,headline").get_json()["lines"]
    assert next(line for line in lines if line["id"] == "mixed-formula")["right"] == "=SU"  # JSON: as printed


# --- the page ---------------------------------------------------------------------------------------------------


def test_the_page_lists_aligned_lines_with_links(client):
    response = client.get("/kwic?q=复工&width=10&limit=20&region=湖南")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'style="' not in html  # the Content-Security-Policy forbids inline styles
    rows = re.findall(r'<tr class="kwic-line">(.*?)</tr>', html, re.S)
    api = client.get("/api/kwic?q=复工&width=10&limit=20&region=湖南").get_json()
    assert len(rows) == len(api["lines"]) == 20
    for row, line in zip(rows, api["lines"]):
        assert f'<span class="ctx">{escape(flat(line["left"]))}</span>' in row
        assert "<mark>复工</mark>" in row
        href = re.search(r'<td class="kwic-match"><a href="([^"]+)"', row).group(1).replace("&amp;", "&")
        path, _, fragment = href.partition("#")
        assert path == f"/articles/{line['id']}?q=%E5%A4%8D%E5%B7%A5"
        assert fragment.startswith(":~:text=") and "%E5%A4%8D%E5%B7%A5" in fragment
    assert f"<strong>{api['articles']}</strong> 篇文章匹配" in html
    links = dict(re.findall(r'data-sort="([^"]+)" href="([^"]+)"', html))
    assert set(links) == {"-date", "relevance", "left", "right"}  # date is the current one
    assert parse_qs(urlsplit(links["right"].replace("&amp;", "&")).query) == {
        "q": ["复工"],
        "width": ["10"],
        "limit": ["20"],
        "region": ["湖南"],
        "sort": ["right"],
    }
    csv_link = re.search(r'<a class="kwic-csv" href="([^"]+)" download>导出 CSV</a>', html).group(1)
    query = parse_qs(urlsplit(csv_link.replace("&amp;", "&")).query)
    assert urlsplit(csv_link).path == "/api/kwic" and query["format"] == ["csv"] and "limit" not in query
    assert client.get(csv_link.replace("&amp;", "&")).mimetype == "text/csv"
    assert (
        'href="/kwic?q=%E5%A4%8D%E5%B7%A5&amp;width=10&amp;limit=20&amp;region=%E6%B9%96%E5%8D%97&amp;page=2"' in html
    )


def test_the_form_without_a_query_and_the_link_from_the_results(client):
    html = client.get("/kwic").get_data(as_text=True)
    assert "语境" in html and 'action="/kwic"' in html and "kwic-line" not in html
    results = client.get("/search?q=复工&region=湖南省").get_data(as_text=True)
    link = re.search(r'<a class="kwic-link" href="([^"]+)">语境</a>', results).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"q": ["复工"], "region": ["湖南省"]}
    assert client.get(link).status_code == 200
    assert 'class="kwic-link"' not in client.get("/search").get_data(as_text=True)  # a browse has no matches


def test_the_page_escapes_the_archive_text(mixed):
    _, client = mixed
    html = client.get("/kwic?q=复工复产&width=12&fields=body,headline").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>标记" not in html
    assert "&lt;b&gt;标记&lt;/b&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;复工复产" in html


def test_the_help_page_mentions_it(client):
    html = client.get("/help").get_data(as_text=True)
    assert 'href="/kwic?q=%E5%A4%8D%E5%B7%A5%E5%A4%8D%E4%BA%A7"' in html


def test_openapi_documents_it(client):
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/kwic"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["width"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 80, "default": 20}
    assert parameters["limit"]["schema"]["maximum"] == 1000
    assert parameters["sort"]["schema"]["enum"] == ["date", "-date", "relevance", "left", "right"]
    assert parameters["q"]["required"] is True
    assert {"region", "date_from", "date_to", "fields", "format", "page"} <= set(parameters)
    assert set(operation["responses"]) >= {"200", "400", "503"}


# --- the command line -------------------------------------------------------------------------------------------


def test_cli_prints_aligned_lines(seed_index):
    from click.testing import CliRunner

    from search.cli import display_width, main

    result = CliRunner().invoke(main, ["kwic", "复工", "--index", str(seed_index), "--width", "8", "--sort", "right"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.startswith("10 articles match 复工 (all read): 96 lines, page 1 of 1")
    assert len(lines) == 96
    as_json = CliRunner().invoke(
        main, ["kwic", "复工", "--index", str(seed_index), "--width", "8", "--sort", "right", "--json"]
    )
    columns = set()
    for printed, line in zip(lines, json.loads(as_json.output)["lines"]):
        before = flat(line["left"]) + " "
        assert printed.lstrip(" ").startswith(before.lstrip(" ") + "复工 ")
        columns.add(display_width(printed[: printed.index(before + "复工 ") + len(before)]))
    assert len(columns) == 1, "the matches stand in one column"

    as_csv = CliRunner().invoke(main, ["kwic", "APP", "--index", str(seed_index), "--csv", "--sort", "right"])
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [int(r["offset"]) for r in rows] == [860, 528]
    as_json = json.loads(CliRunner().invoke(main, ["kwic", "APP", "--index", str(seed_index), "--json"]).output)
    assert as_json["articles"] == 1 and [line["offset"] for line in as_json["lines"]] == [528, 860]


def test_cli_follows_the_synonyms_as_search_does(seed_index):
    from click.testing import CliRunner

    from search.cli import main

    def matches(*args: str) -> set[str]:
        result = CliRunner().invoke(main, ["kwic", "新冠", "--index", str(seed_index), "--json", *args])
        assert result.exit_code == 0, result.output
        return {line["match"] for line in json.loads(result.output)["lines"]}

    assert matches() == {"新冠", "新型冠状病毒"}
    assert matches("--no-synonyms") == {"新冠"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["byline:戴凛"], "has no words to find in the body"),
        (['"复工'], "q: unbalanced quote at 0"),
        (["复工", "--region", "火星"], "region: '火星' is not a known administrative division"),
        (["复工", "--width", "0"], "Invalid value for '--width'"),
    ],
)
def test_cli_errors_are_messages(seed_index, args, message):
    from click.testing import CliRunner

    from search.cli import main

    result = CliRunner().invoke(main, ["kwic", *args, "--index", str(seed_index)])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_display_width_counts_full_width_characters_twice():
    from search.cli import display_width, pad

    assert display_width("复工ＡＰＰ App 5G") == 2 * 5 + 7
    assert pad("复工", 6, right_align=True) == "  复工" and pad("ab", 4) == "ab  "


# --- a sharded index --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sharded_seeds(tmp_path_factory):
    """The seeds in three shards, written and searched in this process (no Ray)."""
    from search.cluster.layout import index_sharded
    from search.service import open_engine

    root = tmp_path_factory.mktemp("kwic-sharded") / "index"
    assert index_sharded(root, [SEEDS], shards=3, in_process=True).ok
    engine = open_engine(root)
    yield root, engine
    engine.close()


@pytest.mark.parametrize("params", [{"q": "复工"}, {"q": "复工", "sort": "right"}, {"q": "株洲", "sort": "relevance"}])
def test_a_sharded_index_answers_as_one_index(engine, sharded_seeds, params):
    _, sharded = sharded_seeds

    def comparable(result: dict) -> dict:
        return {k: v for k, v in result.items() if k != "took_ms"}

    full = {**params, "limit": 1000, "fields": "body,headline"}
    assert comparable(kwic(sharded, **full)) == comparable(kwic(engine, **full))


def test_a_sharded_index_with_a_shard_down_refuses(sharded_seeds):
    from search.cluster.actors import ShardDown
    from search.cluster.fanout import ShardedEngine
    from web import create_app

    root, engine = sharded_seeds

    class OneShardDown:
        count, replicas = engine.shards.count, 1

        def run(self, method, args=(), shards=None, tolerate=False, report_down=False):
            wanted = list(range(self.count) if shards is None else shards)
            out = engine.shards.run(method, args, shards=[s for s in wanted if s != 1], tolerate=tolerate)
            if 1 in wanted:
                out[1] = ShardDown(1, "test: down")
            return out

        def close(self):
            pass

    client = create_app({"TESTING": True, "ENGINE": ShardedEngine(root, OneShardDown()), "INDEX_DIR": str(root)})
    response = client.test_client().get("/api/kwic?q=复工")
    assert response.status_code == 503
    assert response.get_json()["error"] == "shards 1 are unavailable: a concordance would be incomplete"


# --- in Chromium ------------------------------------------------------------------------------------------------


def _x_positions(browser, selector: str) -> list[float]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getBoundingClientRect().left)",
        selector,
    )


def _read_and_export(browser, base: str, q: str, downloads: Path, tmp_path: Path, name: str) -> dict:
    """Open /kwic?q=…, check the alignment, sort by the right context, download the CSV; returns the API's answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(f"{base}/kwic?q={quote(q)}&width=12")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.kwic-line")))
    lines = browser.find_elements(By.CSS_SELECTOR, "tr.kwic-line")
    assert len(lines) > 5
    # the match column is at one x on every line, and every left context ends where its match begins
    marks = _x_positions(browser, ".kwic-match mark")
    assert max(marks) - min(marks) < 0.5, marks
    cells = _x_positions(browser, ".kwic-match")
    assert max(cells) - min(cells) < 0.5
    left_ends = browser.execute_script(
        "return Array.from(document.querySelectorAll('.kwic-left .ctx')).map(e => e.getBoundingClientRect().right)"
    )
    assert all(abs(end - cells[0]) < 1 for end in left_ends), (left_ends, cells[0])
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    shot = tmp_path / f"{name}-date.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    browser.find_element(By.CSS_SELECTOR, 'a.sort-option[data-sort="right"]').click()
    wait.until(EC.url_contains("sort=right"))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.kwic-line")))
    rights = browser.execute_script(
        "return Array.from(document.querySelectorAll('.kwic-right .ctx')).map(e => e.textContent)"
    )
    assert rights == sorted(rights, key=str.casefold) and len(rights) > 5
    marks = _x_positions(browser, ".kwic-match mark")
    assert max(marks) - min(marks) < 0.5
    shot = tmp_path / f"{name}-right.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser.find_element(By.CSS_SELECTOR, "a.kwic-csv").click()
    target = downloads / "newsearch-kwic.csv"
    deadline = time.monotonic() + 60
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert target.exists(), list(downloads.iterdir())
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    api = json.loads(_fetch(f"{base}/api/kwic?q={quote(q)}&width=12&sort=right&limit=1000"))
    search = json.loads(_fetch(f"{base}/api/search?q={quote(q)}"))
    assert api["articles"] == search["total"]
    assert len(rows) == api["matches"] and rows[0]["right"] == rights[0]
    assert [(r["id"], int(r["offset"])) for r in rows][: len(api["lines"])] == [
        (line["id"], line["offset"]) for line in api["lines"]
    ]

    # a line leads to its article, the query marked there
    browser.find_element(By.CSS_SELECTOR, ".kwic-match a").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".story-body mark")))
    shot = tmp_path / f"{name}-article.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    return api


def _fetch(url: str) -> str:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=60) as response:
        return response.read().decode("utf-8")


@pytest.mark.browser
def test_in_chromium_the_lines_align_sort_and_export(seed_index, tmp_path):
    from tests.live import chrome, served

    index_copy = tmp_path / "index"
    shutil.copytree(seed_index, index_copy)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with served(index_copy, tmp_path) as base, chrome(tmp_path) as browser:
        api = _read_and_export(browser, base, "复工", downloads, tmp_path, "kwic-seeds")
        assert (api["articles"], api["matches"]) == (10, 96)
        # from the results page, the 语境 link
        browser.get(f"{base}/search?q={quote('复工')}")
        from selenium.webdriver.common.by import By

        browser.find_element(By.CSS_SELECTOR, "a.kwic-link").click()
        assert "/kwic?" in browser.current_url and browser.find_elements(By.CSS_SELECTOR, "tr.kwic-line")
        # on a phone the page never scrolls sideways, and the match column stays in view
        browser.set_window_size(390, 844)
        browser.get(f"{base}/kwic?q={quote('复工')}")
        width = browser.execute_script("return window.innerWidth")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        marks = _x_positions(browser, ".kwic-match mark")
        assert max(marks) - min(marks) < 0.5 and width / 4 < marks[0] < width * 3 / 4
        shot = tmp_path / "kwic-seeds-390.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5_000


@pytest.mark.browser
@pytest.mark.real_archive
def test_in_chromium_on_a_real_archive(tmp_path):
    """The issue's check: on a real archive (the 36k-article 新闻联播 corpus) a reader reads the lines of 复工复产
    and exports them. The index is read, never written."""
    from tests.live import chrome, served

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with served(Path(os.environ["NEWSEARCH_REAL_INDEX"]), tmp_path) as base, chrome(tmp_path) as browser:
        api = _read_and_export(browser, base, "复工复产", downloads, tmp_path, "kwic-real")
        assert api["matches"] > 100 and not api["capped"]
