"""The analyzers: ordinal positions, exact offsets, normalization, substring backbone."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search.text.analysis import NGRAMS, WORDS, normalize, normalize_query_text


def tokens(analyzer, text):
    return [(t.text, t.pos, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True)]


def test_word_positions_are_ordinals_with_subwords_at_parent_position():
    toks = tokens(WORDS, "湖南株洲市复工复产")
    assert toks == [("湖南", 0, 0, 2), ("株洲", 1, 2, 4), ("株洲市", 1, 2, 5), ("复工", 2, 5, 7), ("复产", 3, 7, 9)]


def test_offsets_point_at_the_original_characters():
    text = "　　全市规上企业，ＡＢＣ公司復工復產！"
    for tok, _, start, end in tokens(WORDS, text):
        assert normalize(text[start:end]).text == tok


def test_punctuation_is_dropped_but_keeps_phrases_apart():
    toks = tokens(WORDS, "复工，企业")
    assert [t[0] for t in toks] == ["复工", "企业"]
    assert toks[1][1] - toks[0][1] == 2  # the comma occupies a position


def test_layout_whitespace_inside_chinese_words_is_not_a_break():
    text = "全国有名的艺术小\n\n镇，人员流动大"
    words = [t[0] for t in tokens(WORDS, text)]
    assert "小镇" in words
    start, end = next((s, e) for w, _, s, e in tokens(WORDS, text) if w == "小镇")
    assert text[start:end] == "小\n\n镇"


def test_spaces_between_latin_words_stay_separators():
    assert normalize("Hello  World").text == "hello world"
    assert [t[0] for t in tokens(NGRAMS, "ab cd")] == ["ab", "b", "cd", "d"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width → half-width, case-folded
        ("復工復產", "复工复产"),  # traditional → simplified
        ("“复工”", '"复工"'),
    ],
)
def test_query_normalization(raw, expected):
    assert normalize_query_text(raw) == expected


def test_every_character_starts_exactly_one_ngram():
    text = "株洲市，复工"
    toks = tokens(NGRAMS, text)
    assert [t[1] for t in toks] == list(range(len(text)))
    assert [t[0] for t in toks] == ["株洲", "洲市", "市,", ",复", "复工", "工"]


def test_phrase_query_on_word_field_finds_adjacent_tokens(tmp_path):
    """jieba's stock ChineseAnalyzer stores character offsets as positions, so this phrase would find nothing."""
    from whoosh import index
    from whoosh.fields import TEXT, Schema

    ix = index.create_in(str(tmp_path), Schema(body=TEXT(analyzer=WORDS, stored=True)))
    with ix.writer() as w:
        w.add_document(body="全市企业复工复产有序推进")
        w.add_document(body="复工之后再复产")
    with ix.searcher() as s:
        hits = s.search(wq.Phrase("body", ["复工", "复产"]))
        assert [h["body"] for h in hits] == ["全市企业复工复产有序推进"]
