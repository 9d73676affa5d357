"""Known answers over the seed index: substring recall, exact phrases, AND, filters, highlight offsets."""

from __future__ import annotations

import pytest

from search.text.analysis import normalize


def article_text(article: dict) -> str:
    return normalize("\n".join([article["headline"], article["subheadline"], article["column"], article["body"]])).text


def ids(result) -> set[str]:
    return {hit["id"] for hit in result["hits"]}


def test_quoted_phrase_returns_exactly_the_contiguous_matches(search, all_articles):
    expected = {i for i, a in all_articles.items() if "复工复产" in article_text(a)}
    result = search(q='"复工复产"', per_page=100)
    assert ids(result) == expected and len(expected) >= 5


def test_phrase_does_not_match_separated_words(search, all_articles):
    """复工 and 企业 co-occur in many articles, but contiguously in only a few."""
    both = {i for i, a in all_articles.items() if "复工" in article_text(a) and "企业" in article_text(a)}
    contiguous = {i for i, a in all_articles.items() if "复工企业" in article_text(a)}
    assert ids(search(q='"复工企业"', per_page=100)) == contiguous
    assert ids(search(q="复工 企业", per_page=100)) == both
    assert len(both) > len(contiguous) > 0


def test_place_short_form_finds_the_articles_about_the_city(search, gold_ids):
    found = ids(search(q="株洲", per_page=100))
    zhuzhou = {"000#0", "003#0", "003#1", "003#2", "003#3", "003#4", "003#5", "003#6", "003#7"}
    assert {gold_ids[g] for g in zhuzhou} <= found


def test_two_words_are_an_and(search, gold_ids):
    assert ids(search(q="口罩 护目镜", per_page=100)) == {gold_ids["003#3"]}
    assert ids(search(q="口罩", per_page=100)) > {gold_ids["003#3"]}


def test_words_split_differently_by_the_segmenter_still_match(search, gold_ids):
    # 000 is printed pre-segmented as 焦湘|平和 and 健康|大|数据; the query segments 焦湘平 and 大数据 whole.
    assert gold_ids["000#0"] in ids(search(q="焦湘平"))
    assert gold_ids["000#0"] in ids(search(q="大数据"))


def test_a_misspelling_finds_nothing_rather_than_something_fuzzy(search):
    assert search(q="株州")["total"] == 0


def test_traditional_input_finds_simplified_text(search):
    assert ids(search(q="復工復產", per_page=100)) == ids(search(q="复工复产", per_page=100))


def test_field_queries(search, gold_ids):
    assert ids(search(q="headline:公告", per_page=100)) == {gold_ids[g] for g in ("003#4", "003#6", "003#7")}
    assert ids(search(q="byline:戴凛", per_page=100)) == {gold_ids["003#0"], gold_ids["003#1"]}


def test_negation_and_or(search):
    all_docs = search(q="", per_page=1)["total"]
    with_word = search(q="复工")["total"]
    assert search(q="-复工")["total"] == all_docs - with_word
    assert search(q="杨慧 OR 焦湘平")["total"] == search(q="杨慧")["total"] + search(q="焦湘平")["total"]


def test_date_filter_is_inclusive_and_excludes_undated(search):
    result = search(q="复工", date_from="2020-02-19", date_to="2020-02-19", per_page=100)
    assert result["total"] > 0
    assert all(hit["date"] == "2020-02-19" for hit in result["hits"])
    assert search(q="复工", date_from="2020-02-20")["total"] == 0


def test_region_filter_includes_everything_below_it(search):
    result = search(q="口罩", region="湖南省/株洲市", per_page=100)
    assert result["total"] > 0
    assert all(any(r.startswith("湖南省/株洲市") for r in hit["region"]) for hit in result["hits"])


def covered_by_terms(marked: str, terms: set[str]) -> bool:
    """Every character of a highlighted (possibly merged) range lies inside an occurrence of a query term."""
    covered = [False] * len(marked)
    for term in terms:
        at = marked.find(term)
        while at >= 0:
            covered[at : at + len(term)] = [True] * len(term)
            at = marked.find(term, at + 1)
    return bool(marked) and all(covered)


@pytest.mark.parametrize(
    "q, terms",
    [
        ("复工", {"复工"}),
        ("株洲", {"株洲"}),
        ("口罩 护目镜", {"口罩", "护目镜"}),
        ('"疫情防控"', {"疫情防控"}),
        ("復工復產", {"复工复产"}),
        ("ＡＰＰ", {"app"}),
    ],
)
def test_highlights_cover_exactly_the_query_terms(search, q, terms):
    result = search(q=q, per_page=100)
    assert result["hits"]
    marked = 0
    for hit in result["hits"]:
        for snippet in hit["snippets"]:
            for start, end in snippet["highlights"]:
                assert covered_by_terms(normalize(snippet["text"][start:end]).text, terms)
                marked += 1
    assert marked >= len(result["hits"])


def test_headline_field_query_marks_the_headline(search):
    for hit in search(q="headline:公告")["hits"]:
        assert "<mark>公告</mark>" in hit["headline_html"]


def test_snippets_are_escaped_then_marked(search):
    hit = search(q="复工")["hits"][0]
    assert "<mark>复工</mark>" in hit["snippet_html"]
    assert "<script" not in hit["snippet_html"]


def test_browse_is_newest_first(search):
    result = search(q="", per_page=100)
    dates = [hit["date"] or "" for hit in result["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert result["total"] == 22


def test_warm_up_builds_the_suggestion_index_in_the_background(seed_index):
    from search.query import suggest
    from search.query.engine import SearchEngine

    engine = SearchEngine(seed_index)
    with suggest._cache_lock:
        suggest._cache.clear()
    engine.warm_up().join(timeout=60)
    assert suggest._snapshot_key(engine.searcher().reader()) in suggest._cache
    engine.close()


def test_warm_up_builds_the_facet_arrays_the_first_request_uses(seed_index):
    from search.query.engine import SearchEngine

    engine = SearchEngine(seed_index)
    assert engine._facets is None
    engine.warm_up().join(timeout=60)
    reader = engine.searcher().reader()
    generation, arrays = engine._facets
    assert generation == reader.generation() and arrays.doc_count == reader.doc_count_all()
    assert engine.facet_arrays(engine.searcher()) is arrays  # not built again
    engine.close()
