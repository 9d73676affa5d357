"""The results page and the way back to it: each result's link carries the search (query, filters, sort, page), so
the article page's "‹ 返回检索结果" returns to the same results; the totals say how many near-duplicates were folded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.test_web import Page, html_of

STATE = {
    "q": ["株洲"],
    "region": ["湖南省"],
    "date_from": ["2020-01"],
    "date_to": ["2020-12"],
    "sort": ["-date"],
    "collapse": ["false"],
    "per_page": ["2"],
    "page": ["2"],
}
SEARCH = "/search?q=株洲&region=湖南省&date_from=2020-01&date_to=2020-12&sort=-date&collapse=false&per_page=2&page=2"


def hit_ids(html: str) -> list[str]:
    links = [a["href"] for a in Page(html).find("a") if a.get("href", "").startswith("/articles/")]
    return [urlsplit(href).path.rsplit("/", 1)[1] for href in links]


def back_link(html: str) -> dict:
    page = Page(html)
    index = next(i for i, (tag, attrs) in enumerate(page.tags) if tag == "p" and attrs.get("class") == "back")
    return page.tags[index + 1][1]


def test_result_links_carry_the_search_and_the_article_page_leads_back_to_it(client):
    results = html_of(client, SEARCH)
    ids = hit_ids(results)
    assert len(ids) == 2
    links = [a["href"] for a in Page(results).find("a") if a.get("href", "").startswith("/articles/")]
    assert all(parse_qs(urlsplit(link).query) == STATE for link in links)

    article = html_of(client, links[0])
    back = back_link(article)["href"]
    assert urlsplit(back).path == "/search" and parse_qs(urlsplit(back).query) == STATE
    assert "‹ 返回检索结果" in article
    assert "<mark>株洲</mark>" in article  # the query still highlights the article
    assert hit_ids(html_of(client, back)) == ids, "back to the same results page"

    # by way of the source page and back to the article, the search is still carried
    source = Page(article).find("a", class_="source-link")[0]["href"]
    assert parse_qs(urlsplit(source).query) == STATE
    to_article = back_link(html_of(client, source))["href"]
    assert parse_qs(urlsplit(to_article).query) == STATE
    assert parse_qs(urlsplit(back_link(html_of(client, to_article))["href"]).query) == STATE


def test_folded_similar_links_carry_the_search(client):
    html = html_of(client, "/search?q=恢复出让&sort=-date")
    similar = html.split('class="similar"')[1].split("</details>")[0]
    link = Page(similar).find("a")[0]["href"]
    assert urlsplit(link).path.startswith("/articles/")
    assert parse_qs(urlsplit(link).query) == {"q": ["恢复出让"], "sort": ["-date"]}


def test_an_article_opened_without_a_search_offers_the_browse(client):
    article_id = hit_ids(html_of(client, "/search?q=株洲"))[0]
    article = html_of(client, f"/articles/{article_id}")
    back = back_link(article)
    assert back["href"] == "/search" and "‹ 浏览全部文章" in article


def test_blank_and_foreign_parameters_are_not_carried(client):
    results = html_of(client, "/search?q=株洲&date_from=&region=&utm_source=x")
    link = next(a["href"] for a in Page(results).find("a") if a.get("href", "").startswith("/articles/"))
    assert parse_qs(urlsplit(link).query) == {"q": ["株洲"]}
    article_id = urlsplit(link).path.rsplit("/", 1)[1]
    article = html_of(client, f"/articles/{article_id}?q=株洲&page=&utm_source=x")
    assert parse_qs(urlsplit(back_link(article)["href"]).query) == {"q": ["株洲"]}


# --- near-duplicates folded: the totals say so -------------------------------------------------------------------


def test_the_page_says_how_many_similar_articles_it_folded(client):
    """株洲 matches 9 seed articles, two of them copies of one land notice: the page lists 8 results and says
    the ninth was folded; the API lists all 9 unless asked to fold, and then carries the same figure."""
    api = client.get("/api/search?q=株洲").get_json()
    folded = client.get("/api/search?q=株洲&collapse=true").get_json()
    assert (api["total"], api["folded"]) == (9, 0)
    assert (folded["total"], folded["folded"]) == (8, 1)
    assert sum(hit["similar"] for hit in folded["hits"]) == 1

    html = html_of(client, "/search?q=株洲")
    totals = html.split('class="totals"')[1].split("</p>")[0]
    assert "找到 <strong>8</strong> 篇相关文章" in totals and "另有 1 篇相似报道已合并" in totals
    listed = html_of(client, "/search?q=株洲&collapse=false")
    totals = listed.split('class="totals"')[1].split("</p>")[0]
    assert "找到 <strong>9</strong> 篇相关文章" in totals and "相似" not in totals


def test_totals_add_up_with_folding(client):
    """For any query, total + folded = the articles the unfolded search counts."""
    for q in ("株洲", "公告", "地块", "复工", "恢复出让"):
        every = client.get("/api/search", query_string={"q": q}).get_json()
        folded = client.get("/api/search", query_string={"q": q, "collapse": "true"}).get_json()
        assert folded["total"] + folded["folded"] == every["total"], q
