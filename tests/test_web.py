"""The browser UI with the Flask test client: pages render the API's data (highlights, facets, links), errors are
friendly pages, and text from the archive is only ever shown escaped (HTML, snippets, article page, Atom, CSV)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
ATOM = "{http://www.w3.org/2005/Atom}"
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"onerror="alert(1)'


class Page(HTMLParser):
    """Tags, attributes and text of a page, to check structure rather than substrings."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if t == tag
            and all(
                (v in (a.get(k.rstrip("_")) or "").split()) if k == "class_" else a.get(k) == v
                for k, v in attrs.items()
            )
        ]

    def all_text(self) -> str:
        return "".join(self.text)


def html_of(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# --- the search page --------------------------------------------------------------------------------------------


def test_search_page_shows_highlighted_results_and_facets(client):
    html = html_of(client, "/search?q=复工")
    api = client.get("/api/search?q=复工").get_json()
    page = Page(html)
    assert "<mark>复工</mark>" in html
    assert f"<strong>{api['total']}</strong>" in html and "毫秒" in html
    assert "理解为" in html and api["query"]["parsed"] in html
    assert page.find("input", name="q")[0]["value"] == "复工"
    # results: same hits, same order as the API (one dict, two representations)
    article_links = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/articles/")]
    assert [urlsplit(h).path.rsplit("/", 1)[1] for h in article_links] == [h["id"] for h in api["hits"]]
    assert all(parse_qs(urlsplit(h).query)["q"] == ["复工"] for h in article_links)
    # region facet: a checkbox and a toggle link to /search per item, with its count
    boxes = page.find("input", type="checkbox", name="region")
    assert [b["value"] for b in boxes] == [i["value"] for i in api["facets"]["region"]]
    toggles = [a["href"] for a in page.find("a", class_="facet-toggle")]
    assert len(toggles) == len(boxes) and all(t.startswith("/search?") for t in toggles)
    assert "湖南省" in html and "株洲市" in html
    # date histogram: a bar per bucket, each a link narrowing to it
    bars = page.find("span", class_="fill")
    assert len(bars) == len(api["facets"]["date"]) and all(re.search(r"\bw-\d+\b", b["class"]) for b in bars)
    histogram_links = [a["href"] for a in page.find("a") if "date_from=" in a.get("href", "")]
    assert histogram_links and parse_qs(urlsplit(histogram_links[0]).query)["date_from"] == ["2020-02-19"]
    assert page.find("input", name="date_from") and page.find("input", name="date_to")
    # sort selector as links
    assert {s.get("href") for s in page.find("a", class_="sort-option")} >= {"/search?q=%E5%A4%8D%E5%B7%A5&sort=-date"}
    assert "日期不详" in html  # undated results say so
    assert page.find("link", rel="search")[0]["href"] == "/opensearch.xml"


def test_home_is_a_browse_newest_first(client):
    html = html_of(client, "/")
    assert "最新在前" in html and "篇文章" in html
    assert html.count('class="result"') == 10


def test_pagination_links(client):
    page = Page(html_of(client, "/search?q=复工&per_page=3"))
    numbers = [a["href"] for a in page.find("a", class_="page-number")]
    assert numbers and all("per_page=3" in n for n in numbers)
    next_link = page.find("a", rel="next")[0]["href"]
    assert parse_qs(urlsplit(next_link).query)["page"] == ["2"]
    second = Page(html_of(client, next_link))
    assert second.find("strong", class_="page-number")  # the current page is marked
    assert second.find("a", rel="prev")


def test_filters_show_as_removable_chips(client):
    html = html_of(client, "/search?q=复工&region=湖南省&date_from=2020-02-19&date_to=2020-02-19")
    page = Page(html)
    chips = page.find("a", class_="chip")
    assert len(chips) == 2
    region_chip = chips[0]
    assert "region" not in parse_qs(urlsplit(region_chip["href"]).query)
    assert "地区：湖南省" in html and "日期：2020-02-19" in html
    date_chip = chips[1]
    query = parse_qs(urlsplit(date_chip["href"]).query)
    assert "date_from" not in query and query["region"] == ["湖南省"] and query["q"] == ["复工"]
    # the checkbox of the selected region is checked, and the hidden inputs keep the state for a new query
    assert "checked" in page.find("input", type="checkbox", value="湖南省")[0]
    assert page.find("input", type="hidden", name="region", value="湖南省")


def test_region_filtered_page_only_shows_that_region(client):
    html = html_of(client, "/search?q=复工&region=湖南省")
    blocks = re.findall(r'<p class="regions">(.*?)</p>', html, re.S)
    assert blocks and all("湖南省" in b for b in blocks)


def test_region_facet_links_drill_down_from_a_province_to_its_city(client):
    """On the page of a province, its city's link replaces the province (湖南省 17 articles → 株洲市 9); there the
    province's link widens back; a form sending both keeps the city."""

    def toggle(page: Page, label: str) -> dict:
        [link] = [a for a in page.find("a", class_="facet-toggle") if a["title"].endswith(label)]
        return link

    page = Page(html_of(client, "/search?region=湖南省"))
    city = toggle(page, "株洲市")
    assert parse_qs(urlsplit(city["href"]).query)["region"] == ["湖南省/株洲市"]
    html = html_of(client, city["href"])
    page = Page(html)
    assert re.search(r'<p class="totals">\s*共 <strong>9</strong>', html)
    assert [chip.strip() for chip in re.findall(r"地区：[^<]*", html)] == ["地区：湖南省 · 株洲市"]  # one chip
    assert {i["value"] for i in page.find("input", type="hidden", name="region")} == {"湖南省/株洲市"}
    assert [b["value"] for b in page.find("input", type="checkbox", name="region") if "checked" in b] == [
        "湖南省/株洲市"
    ]
    province = toggle(page, "只看湖南省")
    assert parse_qs(urlsplit(province["href"]).query)["region"] == ["湖南省"]
    # the facet form with the province's and the city's boxes both checked: the city
    both = html_of(client, "/search?region=湖南省&region=湖南省/株洲市")
    assert re.search(r'<p class="totals">\s*共 <strong>9</strong>', both)


def test_empty_result_page(client):
    html = html_of(client, "/search?q=没有这种词汇xyzzy")
    assert "没有找到相关文章" in html


def test_did_you_mean(client):
    page = Page(html_of(client, "/search?q=株州"))
    links = page.find("a", class_="suggestion")
    assert links and parse_qs(urlsplit(links[0]["href"]).query)["q"] == ["株洲"]
    assert links[0]["href"].startswith("/search?")


def test_html_responses_carry_a_content_security_policy(client):
    response = client.get("/search?q=复工")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert 'style="' not in response.get_data(as_text=True), "inline styles would break the policy"
    assert "Content-Security-Policy" not in client.get("/api/search").headers


def test_static_assets_and_no_external_resources(client):
    html = html_of(client, "/search?q=复工")
    page = Page(html)
    for tag, attr in (("link", "href"), ("script", "src"), ("img", "src")):
        for element in page.find(tag):
            if attr in element:
                assert not re.match(r"(https?:)?//", element[attr]), element
    for asset in ("/static/style.css", "/static/app.js"):
        with client.get(asset) as response:
            assert response.status_code == 200


# --- the article page -------------------------------------------------------------------------------------------


def test_article_page(client):
    api = client.get("/api/search?q=复工").get_json()
    hit = next(h for h in api["hits"] if h["date"])
    html = html_of(client, f"/articles/{hit['id']}?q=复工")
    full = client.get(f"/api/articles/{hit['id']}?q=复工").get_json()
    page = Page(html)
    paragraphs = [p for p in full["article"]["body"].split("\n") if p.strip()]
    assert html.count("<mark>复工</mark>") == len(full["article"]["highlights"]["body"]) + len(
        full["article"]["highlights"]["headline"]
    )
    assert len(re.findall(r"<p>", html.split('class="story-body"')[1].split("</div>")[0])) == len(paragraphs)
    assert hit["date"] in html and hit["source"] in html
    related = [
        a["href"] for a in page.find("a") if a.get("href", "").startswith("/articles/") and "/source" not in a["href"]
    ]
    assert related == [f"/articles/{r['id']}" for r in full["related"]]
    assert page.find("a", class_="region")
    file = full["article"]["file"]
    assert file.rsplit("/", 1)[-1] in html and ("/" not in file or file not in html), "no server paths on the page"


def test_undated_article_says_so(client):
    api = client.get("/api/search?q=复工&per_page=100").get_json()
    hit = next(h for h in api["hits"] if not h["date"])
    assert "日期不详" in html_of(client, f"/articles/{hit['id']}")


def test_paragraph_highlights_land_on_the_right_characters():
    from web.views import paragraphs_html

    body = "　　第一段复工。\n\n　　第二段：复工复产。"
    ranges = [[5, 7], [16, 18]]
    assert body[5:7] == body[16:18] == "复工"
    assert paragraphs_html(body, ranges) == ["第一段<mark>复工</mark>。", "第二段：<mark>复工</mark>复产。"]


# --- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, status, title, message",
    [
        ("/search?page=0", 400, "请求有误", "page: 0 is out of range"),
        ("/search?q=%22复工", 400, "检索式有误", "q: unbalanced quote at 0"),
        ("/search?date_to=2020-02-30", 400, "请求有误", "2020-02 has no day 30"),
        ("/articles/nope", 404, "找不到页面", "no article with id"),
        ("/no/such/page", 404, "找不到页面", "/no/such/page"),
        ("/search.atom?sort=foo", 400, "请求有误", "sort: 'foo'"),
    ],
)
def test_friendly_error_pages(client, url, status, title, message):
    html = html_of(client, url, status)
    assert title in html and str(status) in html
    assert message.replace("'", "&#39;") in html
    assert "Traceback" not in html


def test_error_page_keeps_the_query_in_the_box(client):
    page = Page(html_of(client, "/search?q=%22复工", 400))
    assert page.find("input", name="q")[0]["value"] == '"复工'


def test_html_405(client):
    response = client.post("/search")
    assert response.status_code == 405 and "不支持的请求方法" in response.get_data(as_text=True)


def test_no_index_page_is_503(tmp_path):
    from web import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    html = html_of(client, "/search?q=复工", 503)
    assert "索引暂不可用" in html and "no index" in html


# --- feeds and OpenSearch ---------------------------------------------------------------------------------------


def test_opensearch_description(client):
    response = client.get("/opensearch.xml")
    assert response.status_code == 200 and response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    ns = "{http://a9.com/-/spec/opensearch/1.1/}"
    templates = {u.get("type"): u.get("template") for u in root.findall(f"{ns}Url")}
    assert templates["text/html"] == "http://localhost/search?q={searchTerms}"
    assert templates["application/atom+xml"].endswith("/search.atom?q={searchTerms}")


def test_atom_feed(client):
    response = client.get("/search.atom?q=复工")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    api = client.get("/api/search?q=复工&sort=-date&per_page=20").get_json()
    assert [e.find(f"{ATOM}title").text for e in entries] == [h["headline"] or "（无标题）" for h in api["hits"]]
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith("http://localhost/articles/")
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", entry.find(f"{ATOM}updated").text)
    assert "<mark>复工</mark>" in "".join(e.find(f"{ATOM}summary").text or "" for e in entries)
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/search.atom?q=%E5%A4%8D%E5%B7%A5"


# --- hostile content: a separate index whose text tries to inject markup and formulas ---------------------------

HOSTILE = [
    {
        "id": "xss-1",
        "headline": f"复工新闻{SCRIPT}{ATTRIBUTE}",
        "date": "2020-03-01",
        "region": "湖南省",
        "source": f"报社{SCRIPT}",
        "byline": "张三",
        "body": f"各地复工复产进展顺利。{SCRIPT}混入正文。\n第二段 <img src=x {ATTRIBUTE}> 复工继续。",
    },
    {
        "id": "csv-1",
        "headline": '=HYPERLINK("http://evil","复工")',
        "date": "2020-03-02",
        "region": "湖南省",
        "source": "+source",
        "byline": "@李四",
        "body": "=cmd|' /C calc'!A0 复工复产。",
    },
    {"id": "csv-2", "headline": "-2+3 复工", "body": "@SUM(1+1) 复工。"},
]


def client_over(articles: list[dict], root):
    """A test client of an app over a fresh index of `articles` (bulk JSON lines written under `root`)."""
    from search.index.sync import index_paths
    from web import create_app

    source = root / "articles.jsonl"
    source.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles) + "\n", encoding="utf-8")
    summary = index_paths(root / "index", [source])
    assert summary.ok and summary.added == len(articles), summary.errors
    return create_app({"INDEX_DIR": str(root / "index"), "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    return client_over(HOSTILE, tmp_path_factory.mktemp("hostile"))


def assert_inert(html: str) -> None:
    """The hostile strings appear only escaped: no script element or event handler attribute came from data."""
    assert SCRIPT not in html and ATTRIBUTE not in html and "<img src=x" not in html
    page = Page(html)
    scripts = page.find("script")
    assert all(s.get("src") == "/static/app.js" for s in scripts), scripts
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert tag != "img", attrs


def test_hostile_search_page_is_escaped(hostile_client):
    html = html_of(hostile_client, "/search?q=复工")
    assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>复工</mark>" in html


def test_hostile_snippets_are_escaped(hostile_client):
    data = hostile_client.get("/api/search?q=复工").get_json()
    hit = next(h for h in data["hits"] if h["id"] == "xss-1")
    assert SCRIPT in hit["headline"]  # JSON carries the text as it is …
    assert_inert(hit["headline_html"])  # … and the HTML forms escaped
    assert_inert(hit["snippet_html"])
    assert "&lt;script&gt;" in hit["headline_html"] and "<mark>复工</mark>" in hit["headline_html"]


def test_hostile_query_is_escaped(hostile_client):
    html = html_of(hostile_client, f"/search?q={SCRIPT}", 200)
    assert_inert(html)
    assert Page(html).find("input", name="q")[0]["value"] == SCRIPT


def test_hostile_article_page_is_escaped(hostile_client):
    html = html_of(hostile_client, "/articles/xss-1?q=复工")
    assert_inert(html)
    assert "&lt;img src=x" in html and "<mark>复工</mark>" in html


def test_hostile_atom_feed_is_escaped(hostile_client):
    response = hostile_client.get("/search.atom?q=复工")
    text = response.get_data(as_text=True)
    assert SCRIPT not in text and ATTRIBUTE not in text
    root = ET.fromstring(response.data)  # well-formed XML
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert HOSTILE[0]["headline"] in titles  # escaped exactly once: the parsed text is the original
    summaries = [e.find(f"{ATOM}summary") for e in root.findall(f"{ATOM}entry")]
    assert all(s.get("type") == "html" for s in summaries)
    for summary in summaries:
        assert_inert(summary.text or "")  # the HTML a feed reader renders is escaped too


def test_hostile_error_page_is_escaped(hostile_client):
    html = html_of(hostile_client, f"/articles/{SCRIPT}", 404)
    assert_inert(html)


def test_csv_export_neutralises_formulas(hostile_client):
    response = hostile_client.get("/api/export?format=csv&q=复工&sort=date")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {a["id"] for a in HOSTILE}
    assert by_id["csv-1"]["body"].startswith("'=cmd")
    assert by_id["csv-1"]["headline"].startswith("'=HYPERLINK")
    assert by_id["csv-1"]["source"] == "'+source"
    assert by_id["csv-1"]["byline"] == "'@李四"
    assert by_id["csv-2"]["headline"] == "'-2+3 复工" and by_id["csv-2"]["body"].startswith("'@SUM")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    # JSON Lines carries the text unchanged
    lines = hostile_client.get("/api/export?format=jsonl&q=复工").get_data(as_text=True).splitlines()
    assert any(json.loads(line)["body"].startswith("=cmd") for line in lines)


def test_hostile_source_page_is_escaped(hostile_client):
    html = html_of(hostile_client, "/articles/xss-1/source")
    assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- near-duplicates folded on the search page ------------------------------------------------------------------

REPRINT_BODY = (
    "株洲市芦淞区各服装企业陆续复工复产，工人们戴好口罩、测量体温后进入车间，生产线逐步恢复运转。"
    "区里派出工作组上门服务，帮助企业解决用工、原料和物流难题。"
)
REPRINT_SOURCES = ["株洲日报", "湖南日报", "新华社", "人民网", "红网", "长沙晚报", "潇湘晨报"]
REPRINTS = [
    {
        "id": f"r{i}",
        "headline": f"芦淞服装企业复工（{source}）",
        "source": source,
        "date": f"2020-02-2{i}",
        "region": "湖南省株洲市",
        "body": REPRINT_BODY,
    }
    for i, source in enumerate(REPRINT_SOURCES)
] + [
    {"id": "other", "headline": "开福区植树", "body": "长沙市开福区今天举行植树活动，市民踊跃参加，种下樟树苗两千株。"}
]


@pytest.fixture(scope="module")
def reprint_client(tmp_path_factory):
    """One story printed by seven papers (one near-duplicate cluster) and one unrelated article."""
    return client_over(REPRINTS, tmp_path_factory.mktemp("reprints"))


def similar_block(html: str) -> list[str]:
    return re.findall(r'<details class="similar">(.*?)</details>', html, re.S)


def test_search_page_folds_a_reprint_the_api_lists_both(client):
    """恢复出让 matches two land notices of one cluster: the API lists both, the page one with "另有 1 篇"."""
    api = client.get("/api/search?q=恢复出让").get_json()
    assert api["total"] == 2 and [h["similar"] for h in api["hits"]] == [0, 0]
    assert all(h["similar_ids"] == [] for h in api["hits"])
    folded = client.get("/api/search?q=恢复出让&collapse=true").get_json()
    assert folded["total"] == 1 and folded["hits"][0]["similar"] == 1
    kept, other = folded["hits"][0]["id"], folded["hits"][0]["similar_ids"][0]
    assert {kept, other} == {h["id"] for h in api["hits"]}

    html = html_of(client, "/search?q=恢复出让")
    page = Page(html)
    assert html.count('class="result"') == 1 and "<strong>1</strong>" in html
    [block] = similar_block(html)
    assert "另有 1 篇相似报道" in block
    other_headline = client.get(f"/api/articles/{other}").get_json()["article"]["headline"]
    assert other_headline in block and f"/articles/{other}?q=" in block
    # "逐篇列出": the same search with collapse=false shows both, unfolded, and its links keep collapse=false
    show_all = page.find("a", class_="show-all")[0]["href"]
    assert parse_qs(urlsplit(show_all).query) == {"q": ["恢复出让"], "collapse": ["false"]}
    unfolded_html = html_of(client, show_all)
    unfolded = Page(unfolded_html)
    assert unfolded_html.count('class="result"') == 2 and not similar_block(unfolded_html)
    assert all("collapse=false" in a["href"] for a in unfolded.find("a", class_="sort-option"))
    assert unfolded.find("input", type="hidden", name="collapse", value="false")
    assert "合并相似报道" in unfolded_html


def test_folded_hit_lists_at_most_five_similar_articles(reprint_client):
    api = reprint_client.get("/api/search?q=服装&collapse=true").get_json()
    [hit] = api["hits"]
    assert hit["similar"] == 6 and len(hit["similar_ids"]) == 6
    html = html_of(reprint_client, "/search?q=服装")
    [block] = similar_block(html)
    assert "另有 6 篇相似报道" in block and "还有 1 篇未列出" in block
    listed = re.findall(r'href="/articles/(r\d)\?', block)
    assert listed == hit["similar_ids"][:5]
    for article_id in listed:  # each with its own headline, date and paper
        source = REPRINT_SOURCES[int(article_id[1])]
        assert f"芦淞服装企业复工（{source}）" in block and f"2020-02-2{article_id[1]} · {source}" in block


def test_similar_counts_only_members_that_match(reprint_client):
    html = html_of(reprint_client, "/search?q=服装 -新华社")
    [block] = similar_block(html)
    assert "另有 5 篇相似报道" in block and "新华社" not in block


def test_collapse_is_kept_in_links_and_states_cross_over(client):
    """Page and API differ in their default, so their links to each other say collapse explicitly."""
    html_result = html_of(client, "/search?q=恢复出让")
    json_link = Page(html_result).find("link", type="application/json")[0]["href"]
    assert parse_qs(urlsplit(json_link).query)["collapse"] == ["true"]
    assert client.get(json_link).get_json()["total"] == 1
    api = client.get("/api/search?q=恢复出让").get_json()
    assert parse_qs(urlsplit(api["links"]["html"]).query)["collapse"] == ["false"]
    assert html_of(client, api["links"]["html"]).count('class="result"') == 2
    explicit = client.get("/api/search?q=恢复出让&collapse=1&per_page=1").get_json()
    assert "collapse=1" in explicit["links"]["self"] and all(
        "collapse=1" in item["toggle_url"] for item in explicit["facets"]["region"]
    )


@pytest.mark.parametrize("sort, label", [("", "最新在前"), ("-date", "最新在前"), ("date", "最早在前")])
def test_browse_page_names_its_order(client, sort, label):
    line = html_of(client, f"/search?sort={sort}").split('class="totals"')[1].split("</p>")[0]
    (other,) = {"最新在前", "最早在前"} - {label}
    assert label in line and other not in line


def test_browse_page_is_not_folded(client):
    html = html_of(client, "/search?per_page=100")
    assert html.count('class="result"') == client.get("/api/stats").get_json()["articles"]
    assert not similar_block(html)


# --- the article page: provenance; the source page view ---------------------------------------------------------

NOTICE = "fbf28e304e8bae6d"  # [2020]网挂第003号地块恢复出让公告, lines 123–130 of 003_a8830f866c506400.txt


def test_article_page_shows_provenance_and_date_source(client):
    html = html_of(client, f"/articles/{NOTICE}")
    page = Page(html)
    block = html.split('class="provenance"')[1].split("</section>")[0]
    assert "株洲日报" in block and "003_a8830f866c506400.txt" in block and "第 123–130 行" in block
    assert page.find("a", class_="source-link")[0]["href"] == f"/articles/{NOTICE}/source#L123"
    assert "查看原版面" in block
    assert re.search(r"<dt>日期来源</dt><dd[^>]*>版面日期", html)


def test_article_with_only_a_yearless_date(client, all_articles):
    partial = next(a for a in all_articles.values() if a["date_partial"] == "03-09" and not a["date"])
    html = html_of(client, f"/articles/{partial['id']}")
    meta = html.split('class="story-meta"')[1].split("</dl>")[0]
    assert "仅知 3月9日" in meta and "日期不详" not in meta
    assert re.search(r"<dt>日期来源</dt><dd[^>]*>未知", html)


def test_month_day_filter():
    from web.views import month_day

    assert month_day("03-09") == "3月9日" and month_day("12-31") == "12月31日" and month_day("odd") == "odd"


def test_source_page_marks_the_articles_lines(client):
    api = client.get(f"/api/articles/{NOTICE}/source").get_json()
    assert (api["line_start"], api["line_end"]) == (123, 130)
    html = html_of(client, f"/articles/{NOTICE}/source")
    page = Page(html)
    rows = page.find("li", class_="line")
    assert [r["id"] for r in rows] == [f"L{n}" for n in range(1, len(api["lines"]) + 1)]
    marked = [r["id"] for r in page.find("li", class_="in-article")]
    assert marked == [f"L{n}" for n in range(123, 131)]
    assert "[2020]网挂第003号地块恢复出让公告" in html.split('id="L123"')[1].split("</li>")[0]
    assert "003_a8830f866c506400.txt" in html and page.find("a", href=f"/articles/{NOTICE}")


def test_source_page_of_a_missing_article_is_404(client):
    html = html_of(client, "/articles/nope/source", 404)
    assert "no article with id" in html


@pytest.fixture()
def gone_file_client(tmp_path):
    """An index of one page file that has since been deleted."""
    import shutil

    from search.index.sync import index_paths
    from web import create_app

    page = tmp_path / "archive" / "003_a8830f866c506400.txt"
    page.parent.mkdir()
    shutil.copy(ROOT / "seeds" / page.name, page)
    summary = index_paths(tmp_path / "index", [page])
    assert summary.ok, summary.errors
    page.unlink()
    return create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()


def test_source_page_when_the_file_is_gone(gone_file_client):
    article_id = gone_file_client.get("/api/search").get_json()["hits"][0]["id"]
    html = html_of(gone_file_client, f"/articles/{article_id}/source", 404)
    assert "is no longer readable" in html and "003_a8830f866c506400.txt" in html
    assert str(ROOT) not in html and "/archive/" not in html, "no server paths on the page"
    response = gone_file_client.get(f"/api/articles/{article_id}/source")
    body = response.get_json()
    assert response.status_code == 404 and set(body) == {"ok", "error", "status"}
    assert "no longer readable" in body["error"]
    assert html_of(gone_file_client, f"/articles/{article_id}")  # the article itself still shows


# --- query language help and query errors -----------------------------------------------------------------------


def readme_query_examples() -> list[str]:
    """Every `example` in the "You type" column of README's query language table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Query language", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [example for row in rows for example in re.findall(r"`([^`]+)`", row.split("|")[1])]


def test_help_page_has_every_construct_with_a_working_example(client):
    examples = readme_query_examples()
    assert len(examples) >= 14  # the table is read, not skipped
    page = Page(html_of(client, "/help"))
    links = {parse_qs(urlsplit(a["href"]).query)["q"][0]: a["href"] for a in page.find("a", class_="example")}
    missing = [e for e in examples if e not in links]
    assert not missing, f"README examples without a link on /help: {missing}"
    for q, href in links.items():
        html = html_of(client, href)
        assert "理解为" in html, q
        assert "<strong>0</strong>" not in html, f"the example {q!r} finds nothing on the seeds"


def test_search_box_links_to_the_help(client):
    for url in ("/", "/search?q=复工", f"/articles/{NOTICE}"):
        assert Page(html_of(client, url)).find("a", class_="syntax-help")[0]["href"] == "/help"


@pytest.mark.parametrize(
    "q, before, at, message",
    [
        ('复工 "企业', "复工 ", '"', "q: unbalanced quote at 3"),
        ("(复工 OR 复产", "", "(", "q: unbalanced parenthesis at 0"),
        ("复工)", "复工", ")", "q: unbalanced parenthesis at 2"),
        ("autor:张三", "", "a", "q: unknown field &#39;autor&#39;, did you mean &#39;byline&#39;? at 0"),
        ("date:2020-13", "date:", "2", "at 5"),
    ],
)
def test_query_error_is_shown_on_the_search_page_with_a_marker(client, q, before, at, message):
    html = html_of(client, f"/search?q={quote(q)}&region=湖南省", 400)
    page = Page(html)
    assert page.find("input", name="q")[0]["value"] == q
    assert page.find("input", type="hidden", name="region", value="湖南省"), "the filters wait for the fixed query"
    assert message in html and 'class="search-error"' in html
    marker = re.search(r'<p class="query-marker".*?<code>(.*?)<span class="fault">(.*?)<span class="caret"', html, re.S)
    assert marker and unescape(marker.group(1)) == before and unescape(marker.group(2)) == at
    assert page.find("a", href="/help")


def test_query_error_at_the_end_marks_the_end(client):
    html = html_of(client, f"/search?q={quote('复工 OR')}", 400)
    assert "&#39;OR&#39; needs a search term on both sides at 3" in html
    assert re.search(r'<code>复工 <span class="fault">O<span class="caret"', html)


def test_parameter_error_on_the_search_page_drops_the_bad_filters(client):
    html = html_of(client, "/search?q=复工&date_to=2020-02-30&region=湖南省", 400)
    page = Page(html)
    assert page.find("input", name="q")[0]["value"] == "复工"
    assert not page.find("input", type="hidden", name="date_to") and 'class="query-marker"' not in html
    assert "2020-02 has no day 30" in html


def test_query_error_on_the_article_page_is_marked_too(client):
    html = html_of(client, f"/articles/{NOTICE}?q={quote('复工)')}", 400)
    assert re.search(r'<code>复工<span class="fault">\)<span class="caret"', html)


def test_bad_collapse_value(client):
    html = html_of(client, "/search?q=复工&collapse=maybe", 400)
    assert "collapse: &#39;maybe&#39; is not one of true, false, 1, 0" in html


@pytest.mark.parametrize("params", ["date_from=", "date_to=", "per_page=", "collapse=", "sort=", "q=&region="])
def test_blank_parameters_are_no_filter(client, params):
    html = html_of(client, f"/search?{params}")
    assert html.count('class="result"') == 10


# --- small screens and the keyboard (the browser side is in tests/test_browser.py) -------------------------------


def tab_stops(page: Page) -> list[tuple[str, dict]]:
    """Links, buttons and visible fields in page order: the elements Tab reaches (without scripts)."""
    return [
        (tag, attrs)
        for tag, attrs in page.tags
        if (tag == "a" and "href" in attrs)
        or tag in ("button", "select", "textarea", "summary")
        or (tag == "input" and attrs.get("type") != "hidden")
    ]


def test_results_come_before_the_facets_behind_a_filter_button(client):
    page = Page(html_of(client, "/search?q=复工"))
    ids = [attrs.get("id") for _, attrs in page.tags]
    assert ids.index("results") < ids.index("filters"), "the facets follow the results in the page"
    toggle = page.find("a", class_="filter-toggle")
    assert toggle == [{"class": "filter-toggle", "href": "#filters"}]  # the drawer's button, a link without scripts
    assert page.tags.index(("a", toggle[0])) < ids.index("results")


def test_a_skip_link_first_and_few_tab_stops_from_the_box_to_the_first_result(client):
    page = Page(html_of(client, "/search?q=复工"))
    stops = tab_stops(page)
    assert stops[0] == ("a", {"class": "skip-link", "href": "#results"})
    box = stops.index(("input", page.find("input", id="q")[0]))
    first_hit = next(i for i, (tag, attrs) in enumerate(stops) if attrs.get("href", "").startswith("/articles/"))
    between = stops[box + 1 : first_hit]
    assert [attrs.get("class") for _, attrs in between[:2]] == [None, "syntax-help"]  # the search button, the help
    assert not any(attrs.get("name") in ("region", "date_from", "date_to") for _, attrs in between)
    assert len(between) <= 7, between  # was 35 with the facets first


def test_active_filters_are_counted_on_the_drawer_button(client):
    html = html_of(client, "/search?q=复工&region=湖南省&date_from=2020-02")
    assert '<a class="filter-toggle" href="#filters">筛选<span class="filter-count">（2）</span></a>' in html


@pytest.mark.parametrize("url", ["/help", f"/articles/{NOTICE}", "/search?q=%22复工", "/no/such/page"])
def test_other_pages_skip_to_their_content(client, url):
    response = client.get(url)
    page = Page(response.get_data(as_text=True))
    assert tab_stops(page)[0] == ("a", {"class": "skip-link", "href": "#content"}), url
    assert page.find("main", id="content"), url


def test_the_help_table_scrolls_in_its_own_box(client):
    page = Page(html_of(client, "/help"))
    classes = [attrs.get("class") for tag, attrs in page.tags if tag in ("div", "table")]
    assert classes[classes.index("syntax") - 1] == "table-scroll"
