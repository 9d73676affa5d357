"""Ranking, spelling suggestions and the user dictionary, with known answers: the seed index and a small handmade one."""

from __future__ import annotations

import pytest

from search.article import Article
from search.text.analysis import WORDS, normalize

FILLER = "会议要求各地认真落实各项工作安排并做好后续保障。"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Five handmade articles whose order for each query below is known."""
    from search.index.schema import to_document
    from search.index.store import create_index
    from search.query.engine import SearchEngine

    articles = {
        "contiguous": Article(
            body=FILLER + "医院发放口罩护目镜等物资。" + FILLER, headline="物资到位", file="a.txt", date="2020-02-01"
        ),
        "near": Article(
            body=FILLER + "医院发放口罩和护目镜等物资。" + FILLER, headline="物资到位", file="b.txt", date="2020-02-03"
        ),
        # more occurrences than the others, but never near each other: plain BM25 alone would rank it first
        "apart": Article(
            body="口罩。" + FILLER + "护目镜。" + FILLER + "口罩。" + FILLER + "护目镜。",
            headline="物资到位",
            file="c.txt",
            date="2020-02-02",
        ),
        "in_headline": Article(
            body=FILLER + "各地企业陆续复工。" + FILLER, headline="企业复工有序推进", file="d.txt", date="2020-01-05"
        ),
        "in_body": Article(
            body=FILLER + "各地企业陆续复工。" + FILLER, headline="工作有序推进", file="e.txt", date="2020-03-05"
        ),
    }
    index_dir = tmp_path_factory.mktemp("small-index")
    ix = create_index(index_dir)
    with ix.writer() as writer:
        for key, article in articles.items():
            article.id = key
            writer.add_document(**to_document(article))
    return SearchEngine(index_dir)


def ranked(engine, **params) -> list[str]:
    from search.query.request import SearchRequest

    params.setdefault("per_page", "100")
    return [hit["id"] for hit in engine.search(SearchRequest.from_params(params))["hits"]]


def test_words_together_rank_above_words_apart(small):
    assert ranked(small, q="口罩 护目镜") == ["contiguous", "near", "apart"]


def test_a_phrase_finds_only_the_contiguous_string(small):
    assert ranked(small, q='"口罩护目镜"') == ["contiguous"]


def test_headline_matches_rank_above_body_matches(small):
    assert ranked(small, q="复工") == ["in_headline", "in_body"]


def test_sort_by_date_orders_the_same_matches(small):
    assert ranked(small, q="口罩 护目镜", sort="date") == ["contiguous", "apart", "near"]
    assert ranked(small, q="口罩 护目镜", sort="-date") == ["near", "apart", "contiguous"]


def test_pasting_a_gold_headline_finds_that_article_first(search, gold, gold_ids):
    checked = 0
    for g in gold:
        if not g["headline"]:
            continue
        hits = search(q=g["headline"], per_page=5)["hits"]
        assert hits and hits[0]["id"] == gold_ids[g["id"]], (g["id"], g["headline"])
        checked += 1
    assert checked >= 15


def test_multi_word_query_ranks_the_article_with_both_words_close_first(search, gold_ids):
    assert search(q="永康 大巴")["hits"][0]["id"] == gold_ids["001#0"]
    assert search(q="监察")["hits"][0]["id"] == gold_ids["002#3"]


@pytest.mark.parametrize(
    "q, inside",
    [
        ("株洲", "株洲市"),  # a word inside jieba's longer word
        ("复工", "复工复产"),
        ("大数据", "健康大数据平台"),  # printed pre-segmented 健康|大|数据
        ("焦湘平", "焦湘平和"),  # printed 焦湘|平和
    ],
)
def test_sub_word_recall(search, all_articles, q, inside):
    found = {hit["id"] for hit in search(q=q, per_page=100)["hits"]}
    holding = {
        i for i, a in all_articles.items() if inside in normalize(a["headline"] + a["subheadline"] + a["body"]).text
    }
    assert holding and holding <= found


def test_traditional_input_finds_and_highlights_simplified_text(search):
    result = search(q="復工復產", per_page=100)
    assert result["total"] == search(q="复工复产")["total"] > 0
    assert result["query"]["parsed"] == "复工复产"
    assert "<mark>复工复产</mark>" in result["hits"][0]["snippet_html"]


def test_a_misspelling_finds_nothing_but_suggests_the_spelling_in_the_index(search):
    result = search(q="株州")
    assert result["total"] == 0 and result["hits"] == []
    assert result["suggestions"][0] == {"q": "株洲", "total": search(q="株洲")["total"]}
    assert all(s["total"] > 0 for s in result["suggestions"])


def test_suggestions_keep_the_rest_of_the_query_and_its_filters(search):
    suggestion = search(q="株州 口罩", region="湖南省/株洲市")["suggestions"][0]
    assert suggestion["q"] == "株洲 口罩"
    assert suggestion["total"] == search(q="株洲 口罩", region="湖南省/株洲市")["total"]
    assert search(q="byline:戴林")["suggestions"][0]["q"] == "byline:戴凛"


def test_no_suggestions_when_there_are_hits_or_nothing_close(search):
    assert search(q="株洲")["suggestions"] == []
    assert search(q="xyzzyq")["suggestions"] == []


def test_one_edit():
    from search.query.suggest import one_edit

    assert one_edit("株州", "株洲") and one_edit("护目", "护目镜") and one_edit("护目镜", "护目")
    assert not one_edit("株洲", "株洲") and not one_edit("株州", "杭洲市") and not one_edit("ab", "ba")


def test_gazetteer_names_are_whole_words():
    words = [t.text for t in WORDS("渌口区七星关区石峰区云峰阁社区")]
    assert {"渌口区", "七星关区", "石峰区"} <= set(words)
    # words jieba already knows segment as before
    assert [t.text for t in WORDS("湖南株洲市复工复产")] == ["湖南", "株洲", "株洲市", "复工", "复产"]
