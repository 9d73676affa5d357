"""Contract tests of the JSON API over the session's seed index: shapes, paging, sorting, facet semantics (checked
against counts made independently of the facet code), toggle URLs, and one error shape for every bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from search.query.request import SearchRequest

ROOT = Path(__file__).resolve().parent.parent

SEARCH_KEYS = {
    "query",
    "total",
    "folded",
    "page",
    "per_page",
    "pages",
    "took_ms",
    "hits",
    "facets",
    "date_bucket",
    "undated",
    "suggestions",
    "links",
}
HIT_KEYS = {
    "id",
    "headline",
    "subheadline",
    "byline",
    "date",
    "date_source",
    "region",
    "source",
    "url",
    "kind",
    "headline_html",
    "score",
    "snippets",
    "snippet_html",
    "similar",
    "similar_ids",
}
REGION_ITEM_KEYS = {"value", "label", "count", "selected", "level", "parent", "toggle_url"}
DATE_ITEM_KEYS = {"value", "label", "count", "from", "to", "selected", "toggle_url"}
ERROR_KEYS = {"ok", "error", "status"}


@pytest.fixture()
def get_json(client):
    def get(url, status=200):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
        assert response.mimetype == "application/json"
        return response.get_json()

    return get


@pytest.fixture(scope="module")
def all_articles(engine) -> list[dict]:
    """Every article in the seed index, read without the facet code."""
    return list(engine.iter_matches(SearchRequest.from_params({}), 100_000))


def matching(engine, q: str) -> list[dict]:
    return list(engine.iter_matches(SearchRequest.from_params({"q": q}), 100_000))


def region_paths(article: dict) -> set[str]:
    """Every ancestor path of the article's regions ("湖南省/株洲市" → 湖南省, 湖南省/株洲市)."""
    paths = set()
    for region in article["region"]:
        parts = region.split("/")
        paths.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return paths


def under(article: dict, regions: list[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for path in article["region"] for r in regions)


def follow(get_json, url: str) -> dict:
    assert url.startswith("/api/search"), url
    return get_json(url)


# --- shape ------------------------------------------------------------------------------------------------------


def test_search_response_shape(get_json):
    data = get_json("/api/search?q=复工")
    assert set(data) == SEARCH_KEYS
    assert data["query"]["q"] == "复工" and data["query"]["parsed"]
    assert set(data["query"]["filters"]) == {"region", "date_from", "date_to", "sort"}
    assert data["suggestions"] == []
    assert data["total"] > 0 and data["page"] == 1 and data["per_page"] == 10
    assert data["pages"] == -(-data["total"] // data["per_page"])
    assert isinstance(data["took_ms"], (int, float)) and data["took_ms"] >= 0
    assert data["date_bucket"] in ("year", "month", "day")
    assert set(data["links"]) == {"self", "prev", "next", "html", "json", "atom"}
    assert data["links"]["html"].startswith("/search?") and data["links"]["json"].startswith("/api/search?")
    for hit in data["hits"]:
        assert set(hit) >= HIT_KEYS
        assert isinstance(hit["region"], list) and isinstance(hit["byline"], list)
        for snippet in hit["snippets"]:
            assert set(snippet) == {"text", "highlights"}
    assert any("<mark>复工</mark>" in hit["snippet_html"] for hit in data["hits"])
    assert data["facets"]["region"] and data["facets"]["date"]
    for item in data["facets"]["region"]:
        assert set(item) == REGION_ITEM_KEYS and item["toggle_url"].startswith("/api/search")
    for item in data["facets"]["date"]:
        assert set(item) == DATE_ITEM_KEYS and item["toggle_url"].startswith("/api/search")


def test_json_is_utf8_not_escaped(client):
    response = client.get("/api/search?q=复工")
    assert response.mimetype == "application/json"  # JSON is UTF-8 by definition (RFC 8259)
    assert "复工".encode() in response.data and b"\\u" not in response.data


def test_browse_without_query_is_newest_first(get_json, all_articles):
    data = get_json("/api/search?per_page=100")
    assert data["total"] == len(all_articles)
    assert data["query"]["filters"]["sort"] == "-date"
    dates = [h["date"] for h in data["hits"]]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[: len(dated)] == dated, "undated articles come after the dated ones"


def test_browse_with_only_filters(get_json):
    data = get_json("/api/search?region=湖南省&per_page=100")
    assert data["total"] > 0
    assert all(any(r.startswith("湖南省") for r in h["region"]) for h in data["hits"])


# --- paging and sorting -----------------------------------------------------------------------------------------


def test_paging(get_json):
    first = get_json("/api/search?q=复工&per_page=3")
    second = get_json("/api/search?q=复工&per_page=3&page=2")
    assert first["total"] == second["total"] > 3
    ids1, ids2 = [h["id"] for h in first["hits"]], [h["id"] for h in second["hits"]]
    assert len(ids1) == 3 and ids2 and not set(ids1) & set(ids2)
    assert first["links"]["prev"] is None and first["links"]["next"]
    assert get_json(first["links"]["next"])["hits"] == second["hits"]
    beyond = get_json(f"/api/search?q=复工&per_page=3&page={first['pages'] + 1}")
    assert beyond["hits"] == [] and beyond["total"] == first["total"] and beyond["links"]["next"] is None


@pytest.mark.parametrize("sort, descending", [("date", False), ("-date", True)])
def test_sort_by_date(get_json, sort, descending):
    data = get_json(f"/api/search?q=复工&sort={sort}&per_page=100")
    assert data["query"]["filters"]["sort"] == sort
    dated = [h["date"] for h in data["hits"] if h["date"]]
    assert dated, "the seed index has dated matches for 复工"
    assert dated == sorted(dated, reverse=descending)
    assert all(h["score"] is None for h in data["hits"])


def test_relevance_is_default_for_a_query(get_json):
    data = get_json("/api/search?q=复工&per_page=100")
    assert data["query"]["filters"]["sort"] == "relevance"
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)


# --- facets -----------------------------------------------------------------------------------------------------


def test_region_facet_counts_match_an_independent_count(get_json, engine):
    data = get_json("/api/search?q=复工&facet_size=100&per_page=1")
    expected = Counter(path for a in matching(engine, "复工") for path in region_paths(a))
    shown = {item["value"]: item["count"] for item in data["facets"]["region"]}
    assert shown, "some regions"
    for value, count in shown.items():
        assert count == expected[value], value
    # every province and city is listed (counties only under a selected region)
    assert {p for p in expected if p.count("/") <= 1} == set(shown)


def test_date_facet_counts_match_an_independent_count(get_json, all_articles):
    data = get_json("/api/search?facet_size=100&per_page=1")
    assert data["date_bucket"] == "day"  # the seeds' dates span one day
    expected = Counter(a["date"] for a in all_articles if a["date"])
    assert {item["value"]: item["count"] for item in data["facets"]["date"]} == dict(expected)
    assert data["undated"] == sum(1 for a in all_articles if not a["date"])


def test_region_multi_select_is_a_union(get_json, engine):
    articles = matching(engine, "复工")
    a, b = "湖南省", "浙江省"
    union = get_json(f"/api/search?q=复工&region={a}&region={b}&per_page=100")
    only_a = get_json(f"/api/search?q=复工&region={a}&per_page=100")
    only_b = get_json(f"/api/search?q=复工&region={b}&per_page=100")
    ids = {h["id"] for h in union["hits"]}
    assert ids == {h["id"] for h in only_a["hits"]} | {h["id"] for h in only_b["hits"]}
    assert ids == {x["id"] for x in articles if under(x, [a, b])}
    assert union["total"] == len(ids) > only_a["total"] > 0
    for hit in union["hits"]:
        assert under(hit, [a, b]), hit["region"]
    assert union["query"]["filters"]["region"] == [a, b]
    assert {i["value"] for i in union["facets"]["region"] if i["selected"]} == {a, b}


# Seed counts: 湖南省 17 articles, its cities 株洲市 9 and 张家界市 8, 浙江省 2.
@pytest.mark.parametrize(
    "regions, applied, total",
    [
        (["湖南省"], ["湖南省"], 17),
        (["湖南省/株洲市"], ["湖南省/株洲市"], 9),
        (["湖南省", "湖南省/株洲市"], ["湖南省/株洲市"], 9),  # a child of a chosen region narrows to the child
        (["湖南省/株洲市", "湖南省"], ["湖南省/株洲市"], 9),  # whichever comes first
        (["湖南", "株洲"], ["湖南省/株洲市"], 9),  # short names too
        (["湖南省/株洲市", "湖南省/张家界市"], ["湖南省/株洲市", "湖南省/张家界市"], 17),  # siblings OR
        (["湖南省", "湖南省/株洲市", "浙江省"], ["湖南省/株洲市", "浙江省"], 11),  # unrelated regions OR
    ],
)
def test_a_chosen_region_inside_another_narrows_to_it(get_json, regions, applied, total):
    data = get_json("/api/search?" + "&".join(f"region={r}" for r in regions))
    assert data["query"]["filters"]["region"] == applied
    assert data["total"] == total
    assert sorted(i["value"] for i in data["facets"]["region"] if i["selected"]) == sorted(applied)


def test_region_links_drill_down_and_back_up(get_json):
    """A city's link under the chosen province replaces the province; the province's link over a chosen city
    replaces the city; a chosen region's link removes it."""
    province = get_json("/api/search?region=湖南省")
    city = next(i for i in province["facets"]["region"] if i["value"] == "湖南省/株洲市")
    assert parse_qs(urlsplit(city["toggle_url"]).query)["region"] == ["湖南省/株洲市"]
    down = follow(get_json, city["toggle_url"])
    assert down["total"] == 9 and down["query"]["filters"]["region"] == ["湖南省/株洲市"]
    sibling = next(i for i in down["facets"]["region"] if i["value"] == "湖南省/张家界市")
    both = follow(get_json, sibling["toggle_url"])
    assert both["query"]["filters"]["region"] == ["湖南省/株洲市", "湖南省/张家界市"] and both["total"] == 17
    up = next(i for i in both["facets"]["region"] if i["value"] == "湖南省")
    assert not up["selected"]
    back = follow(get_json, up["toggle_url"])
    assert back["query"]["filters"]["region"] == ["湖南省"] and back["total"] == 17
    chosen = next(i for i in down["facets"]["region"] if i["value"] == "湖南省/株洲市")
    assert chosen["selected"] and follow(get_json, chosen["toggle_url"])["query"]["filters"]["region"] == []


def test_region_counts_ignore_the_region_filter(get_json):
    plain = get_json("/api/search?q=复工&facet_size=100")
    chosen = get_json("/api/search?q=复工&facet_size=100&region=湖南省")
    counts = lambda d: {i["value"]: i["count"] for i in d["facets"]["region"] if i["level"] <= 2}  # noqa: E731
    assert counts(chosen) == counts(plain)
    # the date facet, a different facet, is narrowed by the region filter (AND across facets)
    assert sum(i["count"] for i in chosen["facets"]["date"]) <= sum(i["count"] for i in plain["facets"]["date"])


def test_date_counts_ignore_the_date_filter_but_region_counts_do_not(get_json, all_articles):
    plain = get_json("/api/search?facet_size=100")
    dated = get_json("/api/search?facet_size=100&date_from=2020-02-19&date_to=2020-02-19")
    assert [(i["value"], i["count"]) for i in dated["facets"]["date"]] == [
        (i["value"], i["count"]) for i in plain["facets"]["date"]
    ]
    assert [i["selected"] for i in dated["facets"]["date"]] == [True]
    expected = Counter(path for a in all_articles if a["date"] == "2020-02-19" for path in region_paths(a))
    assert {i["value"]: i["count"] for i in dated["facets"]["region"]} == {
        p: c for p, c in expected.items() if p.count("/") <= 1
    }


def test_date_bounds_are_inclusive(get_json, all_articles):
    expected = {a["id"] for a in all_articles if "003_" in a["file"]}
    assert expected and all(a["date"] for a in all_articles if a["id"] in expected)
    assert expected == {a["id"] for a in all_articles if a["date"]}, "the 003 page holds the only dated articles"
    data = get_json("/api/search?date_from=2020-02-19&date_to=2020-02-19&per_page=100")
    assert {h["id"] for h in data["hits"]} == expected and data["total"] == len(expected)
    for params in ("date_from=2020-02&date_to=2020-02", "date_from=2020", "date_to=2020-02-19", "date_from=2020-02-19"):
        assert get_json(f"/api/search?{params}&per_page=100")["total"] == len(expected), params
    assert get_json("/api/search?date_from=2020-02-20")["total"] == 0
    assert get_json("/api/search?date_to=2020-02-18")["total"] == 0


def test_query_and_region_returns_only_hunan(get_json, engine):
    data = get_json("/api/search?q=复工&region=湖南省&per_page=100")
    assert data["total"] == len(data["hits"]) > 0
    assert data["total"] == sum(1 for a in matching(engine, "复工") if under(a, ["湖南省"]))
    for hit in data["hits"]:
        assert hit["region"] and all(r.split("/")[0] == "湖南省" for r in hit["region"]), hit["region"]


def test_region_toggle_url_round_trips(get_json):
    start = get_json("/api/search?q=复工&sort=-date&page=2&per_page=2")
    item = next(i for i in start["facets"]["region"] if i["value"] == "湖南省")
    assert not item["selected"]
    on = follow(get_json, item["toggle_url"])
    query = parse_qs(urlsplit(item["toggle_url"]).query)
    assert query["q"] == ["复工"] and query["sort"] == ["-date"] and query["per_page"] == ["2"]
    assert "page" not in query, "a toggle goes back to page 1"
    assert on["query"]["filters"]["region"] == ["湖南省"] and on["page"] == 1
    assert all(any(r.startswith("湖南省") for r in h["region"]) for h in on["hits"])
    item_on = next(i for i in on["facets"]["region"] if i["value"] == "湖南省")
    assert item_on["selected"]
    # adding a second region keeps the first
    zhejiang = next(i for i in on["facets"]["region"] if i["value"] == "浙江省")
    both = follow(get_json, zhejiang["toggle_url"])
    assert both["query"]["filters"]["region"] == ["湖南省", "浙江省"]
    off = follow(get_json, item_on["toggle_url"])
    assert off["query"]["filters"]["region"] == [] and off["total"] == start["total"]
    assert off["query"]["filters"]["sort"] == "-date"


def test_date_toggle_url_round_trips(get_json):
    start = get_json("/api/search?q=复工")
    item = start["facets"]["date"][0]
    on = follow(get_json, item["toggle_url"])
    assert (on["query"]["filters"]["date_from"], on["query"]["filters"]["date_to"]) == (item["from"], item["to"])
    assert on["total"] == item["count"]
    item_on = next(i for i in on["facets"]["date"] if i["value"] == item["value"])
    assert item_on["selected"]
    off = follow(get_json, item_on["toggle_url"])
    assert off["query"]["filters"]["date_from"] is None and off["total"] == start["total"]


def test_region_short_names_mean_full_paths(get_json):
    data = get_json("/api/search?q=复工&region=湖南")
    assert data["query"]["filters"]["region"] == ["湖南省"]
    assert [i["value"] for i in data["facets"]["region"] if i["selected"]] == ["湖南省"]
    item = next(i for i in data["facets"]["region"] if i["value"] == "湖南省")
    assert "region" not in parse_qs(urlsplit(item["toggle_url"]).query), "deselecting works from a short name too"


def test_suggestions_carry_a_url_with_the_same_filters(get_json):
    data = get_json("/api/search?q=株州&region=湖南省")
    assert data["total"] == 0 and data["suggestions"]
    first = data["suggestions"][0]
    assert first["q"] == "株洲"
    query = parse_qs(urlsplit(first["url"]).query)
    assert query["q"] == ["株洲"] and query["region"] == ["湖南省"]
    assert get_json(first["url"])["total"] == first["total"] > 0


def test_selected_region_without_matches_still_listed(get_json):
    data = get_json("/api/search?q=复工&region=西藏自治区")
    assert data["total"] == 0
    item = next(i for i in data["facets"]["region"] if i["value"] == "西藏自治区")
    assert item["selected"] and item["count"] == 0
    assert "region" not in parse_qs(urlsplit(item["toggle_url"]).query)


# --- articles, stats, export, openapi ---------------------------------------------------------------------------


def test_article_with_highlights_and_related(get_json):
    hit = get_json("/api/search?q=复工")["hits"][0]
    data = get_json(f"/api/articles/{hit['id']}?q=复工")
    assert set(data) == {"article", "related"}
    article = data["article"]
    assert article["id"] == hit["id"] and article["body"]
    ranges = article["highlights"]["body"]
    assert ranges and all(article["body"][a:b] == "复工" for a, b in ranges)
    assert hit["id"] not in {r["id"] for r in data["related"]}
    assert all(set(r) >= HIT_KEYS for r in data["related"])
    assert "highlights" not in get_json(f"/api/articles/{hit['id']}")["article"]


PROVENANCE_KEYS = {"file", "line_start", "line_end", "page", "paper", "issue_date"}


def test_article_provenance(get_json):
    article = get_json("/api/articles/fbf28e304e8bae6d")["article"]
    assert set(article["provenance"]) == PROVENANCE_KEYS
    assert article["provenance"] == {
        "file": "003_a8830f866c506400.txt",
        "line_start": 123,
        "line_end": 130,
        "page": article["page"],
        "paper": "株洲日报",
        "issue_date": article["issue_date"],
    }
    assert article["date_source"] == "page" and article["date"] == "2020-02-19"


def test_article_source(get_json):
    data = get_json("/api/articles/fbf28e304e8bae6d/source")
    assert set(data) == {"id", "file", "line_start", "line_end", "format", "bytes", "lines_total", "lines", "record"}
    assert (data["format"], data["record"]) == ("page", None)
    assert data["bytes"] == (ROOT / "seeds" / "003_a8830f866c506400.txt").stat().st_size
    assert data["lines_total"] == len(data["lines"])  # a page of a few hundred lines is shown whole
    assert (data["id"], data["file"], data["line_start"], data["line_end"]) == (
        "fbf28e304e8bae6d",
        "003_a8830f866c506400.txt",
        123,
        130,
    )
    assert [line["n"] for line in data["lines"]] == list(range(1, len(data["lines"]) + 1))
    assert [line["n"] for line in data["lines"] if line["in_article"]] == list(range(123, 131))
    assert data["lines"][122]["text"] == "## [2020]网挂第003号地块恢复出让公告"
    assert all(set(line) == {"n", "text", "in_article"} for line in data["lines"])


@pytest.mark.parametrize("value, total", [("", 2), ("false", 2), ("0", 2), ("true", 1), ("1", 1), ("TRUE", 1)])
def test_collapse_parameter(get_json, value, total):
    """恢复出让 matches two copies of one land notice: listed both unless collapse is asked."""
    data = get_json(f"/api/search?q=恢复出让&collapse={value}")
    assert data["total"] == total and len(data["hits"]) == total
    assert [h["similar"] for h in data["hits"]] == ([1] if total == 1 else [0, 0])
    assert all(len(h["similar_ids"]) == h["similar"] for h in data["hits"])


def test_stats(get_json, all_articles):
    data = get_json("/api/stats")
    assert data["articles"] == len(all_articles)
    assert data["dated"] == sum(1 for a in all_articles if a["date"])
    assert data["date_min"] == data["date_max"] == "2020-02-19"


def test_export_jsonl_follows_the_search(client, get_json):
    response = client.get("/api/export?format=jsonl&q=复工&region=湖南省&limit=100")
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    import json

    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    search = get_json("/api/search?q=复工&region=湖南省&per_page=100")
    assert [r["id"] for r in rows] == [h["id"] for h in search["hits"]]
    assert all(r["body"] for r in rows)
    limited = client.get("/api/export?format=jsonl&q=复工&limit=2").get_data(as_text=True).splitlines()
    assert len(limited) == 2


def test_export_csv(client):
    import csv
    import io

    response = client.get("/api/export?q=复工&limit=3")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "date", "headline"] and len(rows) == 4


def test_export_of_nothing_is_just_a_header(client):
    response = client.get("/api/export?q=没有这种词汇xyzzy&limit=3")
    assert response.status_code == 200
    assert response.data.decode("utf-8-sig").strip().startswith("id,date")
    assert len(response.data.decode("utf-8-sig").strip().splitlines()) == 1


def test_openapi_document(get_json, app):
    doc = get_json("/api/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    paths = doc["paths"]
    api_rules = {
        rule.rule.replace("<article_id>", "{id}") for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
    }
    assert api_rules == set(paths), "every API endpoint is documented, and only those"
    schemas = doc["components"]["schemas"]
    assert {"Error", "SearchResult", "Hit", "RegionFacetItem", "DateFacetItem", "Article", "Stats"} <= set(schemas)
    assert schemas["Error"]["required"] == ["ok", "error", "status"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    for path, item in paths.items():
        for method, operation in item.items():
            assert method == "get" and operation["operationId"] and "200" in operation["responses"]
            for response in operation["responses"].values():
                assert response["description"]
            for param in operation.get("parameters", []):
                assert {"name", "in", "schema"} <= set(param)
                assert param["in"] in ("query", "path") and (param["in"] != "path" or param["required"])
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path
    search_params = {p["name"]: p["schema"] for p in paths["/api/search"]["get"]["parameters"]}
    assert set(search_params) == {
        "q",
        "region",
        "date_from",
        "date_to",
        "sort",
        "collapse",
        "synonyms",
        "page",
        "per_page",
        "facet_size",
    }
    assert search_params["collapse"]["enum"] == ["true", "false", "1", "0"]
    assert search_params["synonyms"] == {"type": "string", "enum": ["true", "false", "1", "0"], "default": "true"}
    export_params = {p["name"] for p in paths["/api/export"]["get"]["parameters"]}
    assert "collapse" not in export_params and "q" in export_params and "synonyms" in export_params
    assert search_params["per_page"]["maximum"] == 100 and search_params["page"]["minimum"] == 1
    assert search_params["sort"]["enum"] == ["relevance", "date", "-date"]
    assert search_params["region"]["type"] == "array"
    assert paths["/api/search"]["get"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_the_documented_regions_are_the_ones_the_server_takes(get_json):
    """Every RegionPath value of the document is a region filter as it is; what the document calls a 400 is one."""
    import re

    schema = get_json("/api/openapi.json")["components"]["schemas"]["RegionPath"]
    paths = schema["enum"]
    assert len(paths) > 3000 and {"湖南省", "湖南省/株洲市", "湖南省/株洲市/石峰区"} <= set(paths)
    pattern = re.compile(schema["pattern"])
    for path in paths:
        assert pattern.match(path) and len(path) <= schema["maxLength"], path
        assert SearchRequest.from_params({"region": [path]}).regions == [path], path
    param = next(
        p for p in get_json("/api/openapi.json")["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "region"
    )
    assert param["schema"]["items"] == {"$ref": "#/components/schemas/RegionPath"} and param["schema"]["maxItems"] == 50
    for bad in ("湖南省/杭州市", "株洲市/湖南省", "湖" * 101, "foo"):
        error = get_json(f"/api/search?region={quote(bad)}", 400)["error"]
        assert error.startswith("region:") and "is not a known administrative division" in error, error
    assert get_json("/api/search?region=湖南&region=株洲")["query"]["filters"]["region"] == ["湖南省/株洲市"]


def test_search_result_satisfies_its_schema(get_json):
    """The documented required keys are really there (a small structural check, no validator dependency)."""
    doc = get_json("/api/openapi.json")
    schemas = doc["components"]["schemas"]
    data = get_json("/api/search?q=复工&region=湖南省")
    assert set(schemas["SearchResult"]["required"]) <= set(data)
    for hit in data["hits"]:
        assert set(schemas["Hit"]["required"]) <= set(hit)
    for item in data["facets"]["region"]:
        assert set(schemas["RegionFacetItem"]["required"]) <= set(item)
    article = get_json(f"/api/articles/{data['hits'][0]['id']}")
    assert set(schemas["Article"]["required"]) <= set(article["article"])
    assert set(schemas["Provenance"]["required"]) == set(article["article"]["provenance"])
    folded = get_json("/api/search?q=恢复出让&collapse=true")["hits"][0]
    assert folded["similar"] == 1 and set(schemas["Hit"]["required"]) <= set(folded)
    source = get_json(f"/api/articles/{data['hits'][0]['id']}/source")
    assert set(schemas["SourcePage"]["required"]) == set(source)
    assert set(schemas["SourcePage"]["properties"]["lines"]["items"]["required"]) == set(source["lines"][0])
    assert set(schemas["Stats"]["required"]) <= set(get_json("/api/stats"))


# --- errors -----------------------------------------------------------------------------------------------------

BAD_SEARCHES = [
    ("page=0", "page: 0 is out of range"),
    ("page=abc", "page: 'abc' is not a whole number"),
    ("page=1001", "page: 1001 is out of range"),
    ("per_page=10000", "per_page: 10000 is out of range (1–100)"),
    ("per_page=0", "per_page: 0 is out of range"),
    ("facet_size=0", "facet_size: 0 is out of range"),
    ("facet_size=x", "facet_size: 'x' is not a whole number"),
    ("date_from=2020-13", "date_from: invalid date '2020-13'"),
    ("date_to=2020-02-30", "date_to: invalid date '2020-02-30': 2020-02 has no day 30"),
    ("date_from=yesterday", "date_from: invalid date 'yesterday'"),
    ("date_from=2020-03&date_to=2020-02", "the date range is empty: 2020-03 is after 2020-02"),
    ("sort=foo", "sort: 'foo' is not one of relevance, date, -date"),
    ("collapse=maybe", "collapse: 'maybe' is not one of true, false, 1, 0"),
    ("collapse=true&collapse=false", "collapse was given 2 times"),
    ("q=%22复工", "unbalanced quote"),
    ("q=(复工 OR 复产", "unbalanced parenthesis"),
    ("q=复工)", "unbalanced parenthesis"),
    ("q=autor:张三", "unknown field 'autor'"),
    ("q=" + "复" * 2000, "the query is too long (2000 characters; the limit is 1000)"),
    ("q=复工&q=复产", "q was given 2 times; give it once"),
    ("sort=date&sort=-date", "sort was given 2 times"),
    ("region=" + "x" * 200, "region: 'xxxxxxxxxx"),
    ("region=火星", "region: '火星' is not a known administrative division"),
]


def assert_error(response, status: int, fragment: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS and body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    if fragment:
        assert fragment in body["error"], body["error"]
    assert "Traceback" not in body["error"]
    return body


@pytest.mark.parametrize("params, message", BAD_SEARCHES, ids=[p[:40] for p, _ in BAD_SEARCHES])
@pytest.mark.parametrize("endpoint", ["/api/search", "/api/export"])
def test_bad_parameters(client, endpoint, params, message):
    assert_error(client.get(f"{endpoint}?{params}"), 400, message)


@pytest.mark.parametrize(
    "url, message",
    [
        ("/api/export?format=xlsx", "format: 'xlsx' is not one of csv, jsonl"),
        ("/api/export?limit=0", "limit: 0 is out of range (1–10000)"),
        ("/api/export?limit=10001", "limit: 10001 is out of range"),
        ("/api/export?limit=many", "limit: 'many' is not a whole number"),
        ("/api/export?format=csv&format=jsonl", "format was given 2 times"),
    ],
)
def test_bad_export_parameters(client, url, message):
    assert_error(client.get(url), 400, message)


def test_article_errors(client, get_json):
    assert_error(client.get("/api/articles/nonexistent"), 404, "no article with id 'nonexistent'")
    assert_error(client.get("/api/articles/nonexistent/source"), 404, "no article with id 'nonexistent'")
    some_id = get_json("/api/search")["hits"][0]["id"]
    assert_error(client.get(f"/api/articles/{some_id}?q=%22复工"), 400, "unbalanced quote")
    assert_error(client.get(f"/api/articles/{some_id}?q=a&q=b"), 400, "q was given 2 times")


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/nothing-here"), 404, "/api/nothing-here")
    body = assert_error(client.post("/api/search"), 405, "POST")
    assert "GET" in body["error"]
    assert client.post("/api/search").headers["Allow"]


def test_no_index_is_503(tmp_path):
    from web import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "missing"), "TESTING": True}).test_client()
    for url in ("/api/search?q=复工", "/api/stats", "/api/articles/x", "/api/articles/x/source", "/api/export"):
        assert_error(client.get(url), 503, "no index")
    assert client.get("/api/openapi.json").status_code == 200  # the document needs no index


def test_unexpected_error_is_a_bare_500(app, monkeypatch):
    engine = app.extensions["newsearch.engine"] if "newsearch.engine" in app.extensions else None
    if engine is None:
        app.test_client().get("/api/stats")
        engine = app.extensions["newsearch.engine"]

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine, "stats", boom)
    response = app.test_client().get("/api/stats")
    body = assert_error(response, 500)
    assert "secret" not in body["error"]


ODD_INPUTS = [
    "",
    " ",
    "%00",
    "%ff%fe",
    "\\",
    "*",
    "?",
    "复工~",
    "复工^2",
    "headline:",
    ":",
    "NOT",
    "AND 复工",
    "OR",
    "-",
    "--复工",
    "复工 -",
    '""',
    "()",
    "(((复工)))",
    "date:2020-99",
    "date:..",
    "region:",
    "byline:*",
    "<script>",
    "%E5%A4",
    "a" * 999,
    "复工 " * 300,
    "\u200b",
    "𠀀𠀁",
    "ｆｕｌｌ",
    "復工",
]


@pytest.mark.parametrize("q", ODD_INPUTS, ids=range(len(ODD_INPUTS)))
def test_no_input_reaches_the_500_handler(client, q):
    for url in (f"/api/search?q={q}", f"/api/export?limit=1&q={q}", f"/search?q={q}"):
        response = client.get(url)
        assert response.status_code in (200, 400), (url, response.status_code)
        if url.startswith("/api") and response.status_code == 400:
            assert_error(response, 400)


@pytest.mark.parametrize(
    "params",
    [
        "region=湖南省&region=湖南省",
        "region=%20",
        "region=湖南省/不存在市",
        "date_from=0000",
        "date_from=9999-12-31",
        "page=1000",
        "per_page=100&page=1000",
        "page=-1",
        "page=1e3",
        "page=%EF%BC%91",
        "sort=",
        "date_to=",
        "facet_size=100",
    ],
)
def test_odd_parameters_never_500(client, params):
    response = client.get(f"/api/search?{params}")
    assert response.status_code in (200, 400), (params, response.status_code)
    if response.status_code == 400:
        assert_error(response, 400)
