"""The query language: what each construct parses to, and the errors users see."""
from __future__ import annotations

import pytest

from search.errors import QueryError
from search.query import parse_query


@pytest.mark.parametrize("q, parsed", [
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
])
def test_parsed_form(q, parsed):
    assert parse_query(q).parsed == parsed


@pytest.mark.parametrize("q, message", [
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
])
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
