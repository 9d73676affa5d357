"""Nothing a document or a query contains can run in a reader's browser; spreadsheet exports do not run formulas;
every HTML response carries the Content-Security-Policy.

The hostile corpus (tests/fixtures/hostile/) holds headlines, bylines, sources, urls and bodies with <script>,
attribute breakouts, event handlers, javascript:/data: links, </title> and </textarea> tricks, RTL overrides and
template syntax; its payloads set window.__pwned, document.title or call alert(). The server-side checks parse every
page; the browser check loads the pages in headless Chromium from the real server and asserts no payload ran.
(tests/test_web.py has the first XSS checks; these go further.)
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.live import chrome, served

HOSTILE_DIR = Path(__file__).parent / "fixtures" / "hostile"
RECORDS = [json.loads(line) for line in (HOSTILE_DIR / "hostile.jsonl").read_text(encoding="utf-8").splitlines()]
IDS = [r["id"] for r in RECORDS]
HOSTILE_QUERIES = [
    "<script>window.__pwned='q'</script>",
    '"><img src=x onerror=alert(1)>',
    '复工 " onmouseover="alert(1)',
    "</title><script>alert(1)</script>",
    "{{7*7}} 复工",
    "javascript:alert(1)",
    "复工\u202e",
    "headline:<svg/onload=alert(1)>",
    "'-alert(1)-'",
]
MARKERS = ("window.__pwned", "alert(", "onerror=", "onload=", "onmouseover=", "onfocus=")


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def assert_inert(html: str, where: str) -> None:
    """No element, attribute or URL in the page came from the hostile data."""
    page = Page(html)
    assert not page.scripts, (where, page.scripts)  # no inline script at all
    for tag, attrs in page.tags:
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), (where, attrs)
        assert tag not in ("img", "svg", "iframe", "object", "embed"), (where, tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (where, tag, attrs)
        assert "autofocus" not in attrs, (where, tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (where, tag, attrs)
    titles = [i for i, (tag, _) in enumerate(page.tags) if tag == "title"]
    assert len(titles) == 1, (where, "one <title>")


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    from search.index.sync import index_paths

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    shutil.copytree(HOSTILE_DIR, corpus)
    summary = index_paths(root / "index", [corpus])
    assert summary.ok, summary.errors
    return root / "index"


@pytest.fixture(scope="module")
def client(hostile_index):
    from web import create_app

    return create_app({"INDEX_DIR": str(hostile_index), "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def page_article_id(client) -> str:
    hits = client.get("/api/search?q=本报讯&per_page=5").get_json()["hits"]
    assert hits
    return hits[0]["id"]


def html_pages(page_article_id) -> list[str]:
    urls = [
        "/",
        "/search?q=复工",
        "/search?q=复工&sort=date",
        "/search?q=复工&per_page=2&page=2",
        "/search?q=复工&region=湖南省",
        "/search?q=本报讯",
        f"/articles/{page_article_id}",
        f"/articles/{page_article_id}/source",
        f"/articles/{page_article_id}?q=复工",
    ]
    for article_id in IDS:
        urls += [
            f"/articles/{quote(article_id, safe='')}",
            f"/articles/{quote(article_id, safe='')}?q=复工",
            f"/articles/{quote(article_id, safe='')}/source",
        ]
    urls += [f"/search?q={quote(q)}" for q in HOSTILE_QUERIES]
    urls += ["/kwic?q=复工", "/kwic?q=复工&sort=right&fields=body,headline&width=40", "/kwic?q=本报讯"]
    urls += [f"/kwic?q={quote(q)}" for q in HOSTILE_QUERIES]
    urls += [f"/articles/{quote(q, safe='')}" for q in HOSTILE_QUERIES[:3]]  # 404 pages echo the id
    urls += ["/search?page=abc<script>", "/search?region=<script>alert(1)</script>", "/no/such<script>"]
    return urls


def test_every_html_page_of_the_hostile_index_is_inert(client, page_article_id):
    seen_statuses = set()
    for url in html_pages(page_article_id):
        response = client.get(url)
        seen_statuses.add(response.status_code)
        assert response.status_code < 500, url
        assert response.mimetype == "text/html", url
        html = response.get_data(as_text=True)
        assert_inert(html, url)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in policy and "object-src 'none'" in policy and "base-uri 'none'" in policy, url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert {200, 400, 404} <= seen_statuses


def test_hostile_text_is_shown_escaped_not_dropped(client):
    html = client.get("/articles/h-script?q=复工").get_data(as_text=True)
    assert "&lt;script&gt;window.__pwned=" in html  # readers see the text as written
    html = client.get("/articles/h-template").get_data(as_text=True)
    assert "{{7*7}}" in html and "{{ config }}" in html  # template syntax in data is text, not evaluated
    assert "SECRET_KEY" not in html


def test_non_http_article_urls_are_not_links(client):
    for article_id in ("h-script", "h-attr", "h-title"):
        page = Page(client.get(f"/articles/{article_id}").get_data(as_text=True))
        hrefs = [attrs.get("href", "") for tag, attrs in page.tags if tag == "a"]
        assert not any(h.strip().lower().startswith(("javascript:", "data:")) for h in hrefs), (article_id, hrefs)


def test_rtl_override_cannot_reorder_a_page(client, page_article_id):
    """U+202E (and the other bidi controls) in the data never reach a page, where they would reorder what follows;
    the JSON API still returns the data as it is."""
    exported = client.get("/api/export?format=jsonl&limit=100").get_data(as_text=True)
    articles = [json.loads(line) for line in exported.splitlines() if line.strip()]
    assert any("\u202e" in a["headline"] + a["body"] for a in articles)  # the hostile corpus does carry them
    for url in (
        "/search?q=复工",
        "/search?q=" + quote("\u202e复工"),
        f"/articles/{page_article_id}",
        f"/articles/{page_article_id}/source",
        "/search.atom?q=复工",
    ):
        text = client.get(url).get_data(as_text=True)
        assert not any(ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), url


def test_json_api_carries_text_verbatim_and_safe_for_html_embedding(client):
    response = client.get("/api/search?q=复工&per_page=50")
    assert response.mimetype == "application/json"
    data = response.get_json()
    by_id = {h["id"]: h for h in data["hits"]}
    assert "<script>" in by_id["h-script"]["headline"]  # JSON holds the data as it is
    for hit in data["hits"]:
        assert_inert(f"<html><title>x</title>{hit['headline_html']}{hit['snippet_html']}</html>", hit["id"])


def test_atom_feed_is_well_formed_and_escaped(client):
    for q in ["复工", *HOSTILE_QUERIES]:
        response = client.get(f"/search.atom?q={quote(q)}")
        if response.status_code == 400:
            continue
        root = ET.fromstring(response.data)  # well-formed, whatever the data
        text = response.get_data(as_text=True)
        assert "<script" not in text and "<img" not in text, q
        ns = "{http://www.w3.org/2005/Atom}"
        for entry in root.findall(f"{ns}entry"):
            summary = entry.find(f"{ns}summary")
            assert_inert(f"<html><title>x</title>{summary.text or ''}</html>", "atom summary")
            for link in entry.findall(f"{ns}link"):
                assert link.get("href", "").startswith("http://localhost/"), link.attrib


def test_csv_export_neutralises_every_formula(client):
    response = client.get("/api/export?format=csv&q=复工&limit=100")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(body) >= 7
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    by_id = {row[header.index("id")]: dict(zip(header, row)) for row in body}
    assert by_id["h-csv"]["headline"].startswith("'=HYPERLINK")
    assert by_id["h-csv2"]["body"].startswith("'@SUM")
    assert by_id["h-csv"]["source"] == "'+cmd"
    # the file column names the file, not the server's directories
    assert all("/" not in row[header.index("file")] for row in body), [row[header.index("file")] for row in body]


def test_no_server_paths_in_any_output(client, hostile_index, page_article_id):
    secret = str(hostile_index.parent)
    for url in [
        "/api/search?q=复工",
        f"/api/articles/{page_article_id}",
        "/search?q=复工",
        f"/articles/{page_article_id}",
        f"/articles/{page_article_id}/source",
        "/search.atom?q=复工",
        "/api/export?format=jsonl&q=复工",
        "/api/export?format=csv&q=复工",
        "/api/articles/nope",
    ]:
        text = client.get(url).get_data(as_text=True)
        assert secret not in text, url


# --- a real browser: no payload runs -------------------------------------------------------------------------


def test_no_injected_script_runs_in_a_real_browser(hostile_index, tmp_path, page_article_id):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    with served(hostile_index, tmp_path) as base, chrome(tmp_path, browser_log=True) as driver:
        for url in html_pages(page_article_id):
            driver.get(base + url)
            driver.find_element(By.TAG_NAME, "body")
            # hover and focus everything a breakout could have attached a handler to
            driver.execute_script(
                "document.querySelectorAll('*').forEach(function (e) {"
                " ['mouseover', 'focus', 'click'].forEach(function (t) {"
                "  if (t !== 'click' || e.tagName !== 'A') e.dispatchEvent(new Event(t)); }); });"
            )
            try:
                alert = driver.switch_to.alert
                text = alert.text
                alert.dismiss()
                pytest.fail(f"{url}: an alert opened: {text!r}")
            except NoAlertPresentException:
                pass
            assert driver.execute_script("return typeof window.__pwned") == "undefined", (
                url,
                driver.execute_script("return window.__pwned"),
            )
            assert driver.title != "PWNED", url
            logs = [entry for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]
            assert not logs, (url, logs)  # nothing even tried to run inline
