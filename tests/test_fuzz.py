"""Property tests over arbitrary Unicode: the analyzers, the query parser and the page splitter never fail in an
undocumented way, and analyzer offsets are always valid."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.errors import QueryError
from search.query.language import parse_query
from search.text.analysis import NGRAMS, WORDS, normalize

pytestmark = pytest.mark.slow  # hypothesis over the analyzer and the parser

# Every code point, lone surrogates and control characters included, weighted towards Chinese text and the
# characters the query language gives meaning to.
ANY_CHAR = st.characters(codec=None, categories=None)
SYNTAX = st.sampled_from(list('"()-:：“”　 \n|#') + ["OR", "NOT", "AND", "headline:", "byline:", "date:", "region:"])
CHINESE = st.sampled_from(list("株洲市复工复产疫情防控口罩護目鏡湖南省慈利县，。！？；、"))
TEXT = st.lists(st.one_of(ANY_CHAR, SYNTAX, CHINESE, CHINESE), max_size=80).map("".join)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(TEXT)
def test_analyzer_offsets_are_valid(text):
    for analyzer in (WORDS, NGRAMS):
        last_pos = -1
        for tok in analyzer(text, positions=True, chars=True):
            assert 0 <= tok.startchar < tok.endchar <= len(text)
            assert tok.pos >= last_pos
            last_pos = tok.pos
            assert tok.text
            tok.text.encode("utf-8")  # storable: no lone surrogates reach the index
            printed = normalize(text[tok.startchar : tok.endchar]).text
            assert all(ch in printed for ch in tok.text)  # the offsets cover the characters the token came from


@FUZZ
@given(TEXT)
def test_query_parser_returns_a_query_or_a_query_error(text):
    try:
        parsed = parse_query(text)
    except QueryError as exc:
        assert exc.message and exc.status == 400
        return
    parsed.to_whoosh()
    parsed.parsed.encode("utf-8")


def test_very_long_queries_are_refused_not_parsed():
    for text in ("复工" * 50_000, "(" * 100_000, '"' * 100_001):
        try:
            parse_query(text)
        except QueryError as exc:
            assert "too long" in exc.message
        else:
            raise AssertionError("a 100k-character query was accepted")


@FUZZ
@given(
    st.lists(
        st.one_of(
            TEXT,
            st.sampled_from(
                [
                    "",
                    "# 标题",
                    "## 小标题",
                    "本报记者 张三 李四",
                    "（记者 王五）",
                    "2020年02月19日 星期三",
                    "责编:某某",
                    "▲图为现场 记者 赵六 摄",
                ]
            ),
        ),
        max_size=12,
    ).map("\n".join)
)
def test_page_splitter_never_fails_and_keeps_spans_on_the_page(page):
    from search.ingest import split_page

    lines = page.split("\n")
    for article in split_page(page, file="fuzz.txt"):
        assert article.body or article.headline
        assert 0 <= article.line_start <= article.line_end <= len(lines) + 1


@FUZZ
@given(TEXT)
def test_fast_normalization_equals_the_offset_keeping_one(text):
    from search.index.segments import _bigram_keys, _bigram_text
    from search.text.analysis import ngram_spans, normalize_text

    norm = normalize(text).text
    assert normalize_text(text) == norm
    grouped: dict[str, list[int]] = {}
    for pos, i, j, _ in ngram_spans(norm):
        grouped.setdefault(norm[i:j], []).append(pos)
    keys, positions = _bigram_keys(norm)  # the indexer's vectorised bigrams: what NgramTokenizer emits
    found: dict[str, list[int]] = {}
    for key, pos in zip(keys.tolist(), positions.tolist()):
        found.setdefault(_bigram_text(key), []).append(pos)
    assert found == grouped


WORDY = st.sampled_from(list("aZ9１Ａ ﬁ½\u200b\u00a0\u3000\t\n\r\x00\x1f") + ["Hello", "ＡＢＣ", "s-400", "  "])


@FUZZ
@given(st.lists(st.one_of(ANY_CHAR, CHINESE, WORDY, WORDY), max_size=60).map("".join))
def test_translated_offsets_equal_the_character_loop(text):
    """normalize() takes a translation shortcut (offsets from dropped characters and whitespace runs) where every
    character folds to at most one; it must give exactly the character-by-character definition's text and spans."""
    from search.text.analysis import _normalize_slow

    assert normalize(text) == _normalize_slow(text)
