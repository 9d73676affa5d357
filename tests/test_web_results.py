"""The results page's totals say how many near-duplicates were folded into other results."""

from __future__ import annotations

from tests.test_web import html_of


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
