"""Resource bounds: every request is bounded in size (query length, terms, page depth, per_page, export rows,
region values) and in time (a per-search budget that ends with a clear 503 instead of holding a worker), and the
one-character query word — a prefix over the bigram field — is cheap however common the character."""

from __future__ import annotations

import time

import pytest

from search.errors import SearchTimeout
from search.query.engine import SearchEngine
from search.query.request import SearchRequest


def error_of(response, status: int = 400) -> str:
    assert response.status_code == status, response.data[:300]
    data = response.get_json()
    assert set(data) == {"ok", "error", "status"} and data["ok"] is False and data["status"] == status
    return data["error"]


@pytest.mark.parametrize(
    "url, message",
    [
        ("/api/search?q=" + "复" * 1001, "q: the query is too long (1001 characters; the limit is 1000)"),
        ("/api/search?q=" + "+".join(f"w{i}" for i in range(65)), "q: the query has too many terms (the limit is 64)"),
        ("/api/search?page=1001", "page: 1001 is out of range (1–1000)"),
        ("/api/search?per_page=101", "per_page: 101 is out of range (1–100)"),
        ("/api/search?per_page=0", "per_page: 0 is out of range (1–100)"),
        ("/api/search?facet_size=101", "facet_size: 101 is out of range (1–100)"),
        ("/api/search?" + "&".join(["region=湖南省"] * 51), "region: too many values (the limit is 50)"),
        ("/api/export?limit=10001", "limit: 10001 is out of range (1–10000)"),
        (
            "/api/search?page=" + "9" * 5000,
            "page: '9999999999999999999999999999999999999999'… (5000 characters) is not a whole number",
        ),
        (
            "/api/search?sort=" + "x" * 100,
            "sort: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'… (100 characters) is not one of relevance, date, -date",
        ),
    ],
)
def test_size_bounds_give_clear_errors(client, url, message):
    assert error_of(client.get(url)) == message


def test_deep_pages_within_the_bound_answer(client):
    data = client.get("/api/search?page=1000&per_page=100").get_json()
    assert data["page"] == 1000 and data["hits"] == []


def test_tiny_time_budget_is_a_clear_503(seed_index):
    from web import create_app

    client = create_app({"INDEX_DIR": str(seed_index), "TESTING": True, "SEARCH_TIME_LIMIT": 1e-9}).test_client()
    message = error_of(client.get("/api/search?q=复工"), 503)
    assert message.startswith("the search took longer than 1e-09 s; narrow the query")
    assert error_of(client.get("/api/export?q=复工"), 503).startswith("the search took longer than")
    page = client.get("/search?q=复工")
    assert page.status_code == 503 and "narrow the query" in page.get_data(as_text=True)


def test_time_budget_in_the_engine(seed_index):
    engine = SearchEngine(seed_index, time_limit=1e-9)
    with pytest.raises(SearchTimeout, match="took longer than"):
        engine.search(SearchRequest.from_params({"q": "复工 OR 疫情"}))
    # the scored part alone: a budget that runs out inside Whoosh's collector
    from search.query.engine import _timed_search, deadline

    searcher = engine.searcher()
    deadline.start(1e-9)
    with pytest.raises(SearchTimeout):
        _timed_search(searcher, SearchRequest(q="复工").parsed.to_whoosh(), limit=10, filter=None)
    # each search gets a fresh budget: a normal budget after a timed-out one works
    engine.time_limit = 30
    assert engine.search(SearchRequest.from_params({"q": "复工"}))["total"] > 0


def test_default_budget_is_set_and_configurable(seed_index):
    from search.query.engine import DEFAULT_TIME_LIMIT
    from web import WEB_SETTINGS

    assert SearchEngine(seed_index).time_limit == DEFAULT_TIME_LIMIT > 0
    assert WEB_SETTINGS["SEARCH_TIME_LIMIT"][0] > 0
    assert SearchEngine(seed_index, time_limit=0).search(SearchRequest(q="复工"))["total"] > 0  # 0: no limit


def test_one_character_words_are_cheap(engine):
    """A one-character word is a prefix over the bigram field; a query of many of them must not hang. (On the
    10k-article synthetic index: 的 alone took 21 s before CharPrefix, 0.8 s after; ten one-character words 87 s →
    3.5 s. See bench/RESULTS-load.md.)"""
    for q in [
        "市",
        "的",
        "市 的 国 人 大 在 是 发 展 工",
        " ".join("市的国人大在是发展工作会议经济建设中有年月日一二三四五"),
    ]:
        started = time.perf_counter()
        result = engine.search(SearchRequest.from_params({"q": q}))
        assert time.perf_counter() - started < 5, q
        assert result["total"] >= 0


def test_one_character_prefix_finds_the_documents_holding_the_character(engine, all_articles):
    for ch in "市县复疫":
        result = engine.search(SearchRequest.from_params({"q": ch, "per_page": "1"}))
        holding = [
            i for i, a in all_articles.items() if any(ch in (a[f] or "") for f in ("headline", "body", "source"))
        ]
        # a character last in every run it appears in has no bigram starting with it: those may be missed
        assert result["total"] <= len(all_articles) and result["total"] >= 0.9 * len(holding), (
            ch,
            result["total"],
            len(holding),
        )


# Sixty common characters, each a one-character word (the case: 6.3 s ANDed, 5.6 s ORed on 20k articles).
SIXTY = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可而子也你能下过家学工复产业企防控疫情市县区镇村发"


def test_a_one_character_word_is_read_once_per_segment_and_field(engine):
    """A one-character word expands to every bigram starting with it, hundreds per field (的 on the seeds: 300 in
    body_ng alone); they are read together into one cached document list per segment and bigram field — not one
    posting list per bigram, which cost about a millisecond each, and on a cold cache several seconds a query."""
    from search.query.evaluate import Evaluator, PostingCache
    from search.query.language import parse_query

    searcher = engine.searcher()
    leaves = len(list(searcher.reader().leaf_readers()))
    assert sum(1 for _ in searcher.reader().expand_prefix("body_ng", "的")) > 100
    cache = PostingCache()
    hits = Evaluator(searcher, cache).run(parse_query("的").to_whoosh())
    assert hits.docs.size > 10
    # per segment: 5 bigram fields' prefixes, the headline and body word terms, their two length columns
    assert len(cache._entries) <= 9 * leaves


def test_did_you_mean_never_matches_one_character_words():
    """A query that finds nothing gets suggestions for its words of two characters or more; a single character has
    no spelling to offer, so it is not matched against the index (Whoosh's matchers: about a second each for a
    common character on a 20k-article index)."""
    from search.query.language import parse_query
    from search.query.suggest import did_you_mean

    class Vocabulary:
        asked: list[str] = []

        def matches(self, word):
            self.asked.append(word.text)
            return False

        def candidates(self, word):
            return ["株洲"] if word == "株州" else []

        def frequencies(self, word):
            return {"株洲": 9} if word == "株州" else {}

        def occurrences(self, term):
            return 1.0

    vocabulary = Vocabulary()
    q = " ".join(SIXTY[:3]) + " 株州"
    found = did_you_mean(vocabulary, q, parse_query(q), count=lambda q: 1)
    assert vocabulary.asked == ["株州"]
    assert found == [{"q": " ".join(SIXTY[:3]) + " 株洲", "total": 1}]


@pytest.mark.parametrize("join", [" ", " OR "])
def test_sixty_one_character_words_answer_fast(client, join):
    assert len(set(SIXTY)) == 60
    q = join.join(SIXTY)
    started = time.perf_counter()
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200 and time.perf_counter() - started < 2
    data = response.get_json()
    assert data["total"] == (0 if join == " " else 22)  # no seed article holds all sixty; every one holds some
