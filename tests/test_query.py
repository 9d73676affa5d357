"""The query language: what each construct parses to, and the errors users see."""

from __future__ import annotations

import pytest

from search.errors import QueryError
from search.query.language import parse_query


@pytest.mark.parametrize(
    "q, parsed",
    [
        ("复工", "复工"),
        ("口罩 护目镜", "口罩 AND 护目镜"),
        ("口罩　护目镜", "口罩 AND 护目镜"),  # ideographic space
        ('"复工复产"', '"复工复产"'),
        ("“复工复产”", '"复工复产"'),  # full-width quotes
        ("复工 OR 复产", "复工 OR 复产"),
        ("复工 -企业", "复工 AND NOT 企业"),
        ("复工 NOT 企业", "复工 AND NOT 企业"),
        ("(复工 OR 复产) 株洲", "(复工 OR 复产) AND 株洲"),
        ("headline:公告", "headline:公告"),
        ("headline：公告", "headline:公告"),  # full-width colon
        ("title:公告", "headline:公告"),
        ('byline:"戴凛"', 'byline:"戴凛"'),
        ("region:湖南 口罩", "region:湖南 AND 口罩"),
        ("date:2020-02", "date:2020-02-01..2020-02-29"),
        ("date:2020-02-01..2020-03-15", "date:2020-02-01..2020-03-15"),
        ("date:2020..", "date:2020-01-01.."),
        ("陈瑶：柔肩挑重担", "陈瑶 AND 柔肩挑重担"),  # a colon after a non-field is text
        ("泗洪:新闻", "泗洪 AND 新闻"),
        ("復工復產", "复工复产"),
        ("1.7万", "1.7万"),
        ("COVID-19", "covid-19"),
        ("", "*"),
    ],
)
def test_parsed_form(q, parsed):
    assert parse_query(q).parsed == parsed


@pytest.mark.parametrize(
    "q, message",
    [
        ('复工 "复产', "unbalanced quote at 3"),
        ("(复工 OR 复产", "unbalanced parenthesis at 0"),
        ("复工)", "unbalanced parenthesis at 2"),
        ("autor:张三", "unknown field 'autor', did you mean 'byline'?"),
        ("headlin:公告", "unknown field 'headlin', did you mean 'headline'?"),
        ("复工 OR", "'OR' needs a search term on both sides"),
        ("OR 复工", "'OR' needs a search term on both sides"),
        ("date:2020-13", "invalid date '2020-13'"),
        ("date:2020-03..2020-01", "is empty"),
        ("headline:", "field 'headline:' needs a value"),
        ("()", "empty parentheses"),
        ('""', "empty phrase"),
        ("！！！", "nothing to search for"),
        ("复" * 1001, "too long"),
    ],
)
def test_errors_are_reported_with_their_cause(q, message):
    with pytest.raises(QueryError) as info:
        parse_query(q)
    assert message in info.value.message


def test_highlight_strings_skip_negated_terms_and_respect_fields():
    parsed = parse_query('复工 -企业 headline:公告 "疫情防控"')
    assert parsed.highlight["body"] == ["复工", "疫情防控"]
    assert parsed.highlight["headline"] == ["复工", "公告", "疫情防控"]


def test_url_like_text_is_not_a_field():
    assert parse_query("http://example.com").parsed == "http AND example.com"


@pytest.mark.parametrize(
    "q, parsed",
    [
        ("headline:(复工 OR 公告)", "headline:复工 OR headline:公告"),
        ("作者:张三", "作者 AND 张三"),  # not a field name: ordinary text
        ("author:张三", "byline:张三"),
        ("date：2020-02", "date:2020-02-01..2020-02-29"),  # full-width colon
        ("复工 AND 复产", "复工 AND 复产"),
        ("NOT 复工", "NOT 复工"),
        ("-(复工 OR 复产)", "NOT (复工 OR 复产)"),
        ("“疫情防控”　“复工复产”", '"疫情防控" AND "复工复产"'),
    ],
)
def test_more_constructs(q, parsed):
    assert parse_query(q).parsed == parsed


def test_error_position_counts_characters_of_the_query():
    with pytest.raises(QueryError) as info:
        parse_query('口罩 护目镜 "复工')
    assert info.value.message == "unbalanced quote at 7" and info.value.position == 7


def test_parts_with_nothing_to_search_are_reported_not_silently_dropped():
    parsed = parse_query("复工 ！！ 企业")
    assert parsed.parsed == "复工 AND 企业"
    assert parsed.ignored == ["!!"]
    assert parse_query("复工 企业").ignored == []


def test_a_pasted_text_keeps_every_piece_between_its_punctuation():
    parsed = parse_query("长时间戴口罩和护目镜，“90后”护士脸上满是勒痕")
    assert parsed.parsed == '长时间戴口罩和护目镜 AND "90后" AND 护士脸上满是勒痕'
    assert parsed.ignored == []


def _docs(searcher, query):
    return set(searcher.docs_for_query(query))


@pytest.mark.parametrize(
    "q",
    [
        "口罩 护目镜",
        "复工 企业",
        "陈瑶：柔肩挑重担",
        "永康 大巴 -口罩",
        "(复工 复产) OR 杨慧",
        "在基层，越是出力越能长力",
        "headline:公告 株洲",
    ],
)
def test_the_closeness_bonus_never_changes_which_articles_match(engine, q):
    """The bonus clause only reorders: the matches are exactly the AND of the words."""
    from whoosh import query as wq

    from search.query import language as qmod

    searcher = engine.searcher()
    with_bonus = parse_query(q).to_whoosh()

    def strip(node):
        if isinstance(node, wq.AndMaybe):
            return strip(node.a)
        if hasattr(node, "subqueries"):
            return node.__class__([strip(s) for s in node.subqueries])
        if isinstance(node, wq.Not):
            return wq.Not(strip(node.query))
        return node

    assert _docs(searcher, with_bonus) == _docs(searcher, strip(with_bonus))
    assert qmod.CONTIGUOUS_BOOST > qmod.PROXIMITY_BOOST > 0
