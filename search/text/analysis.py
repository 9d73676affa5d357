"""Text analysis, identical at index and query time.

Two analyzers read the same normalized text:
- `WordTokenizer`: jieba words. Positions are token ordinals (jieba's stock ChineseAnalyzer uses character offsets, which
  breaks phrase queries); search-mode sub-words (株洲 in 株洲市) sit at their parent's position so phrases still work.
- `NgramTokenizer`: overlapping character bigrams at character ordinals, the exact-substring backbone: a query word
  matches wherever its characters are contiguous, whatever jieba made of the query or the article.

`startchar`/`endchar` are always offsets into the original, unnormalized text, so highlights land on the printed
characters. The index stores these classes by the name `search.analysis.…` (search/analysis.py), whatever module
holds the code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import rjieba
from whoosh.analysis import Token, Tokenizer

# Characters that never form part of a word: whitespace, and the bar of pre-segmented text is handled at ingest.
_CJK_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
QUOTES_TO_ASCII = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "「": '"', "」": '"', "『": '"', "』": '"'})


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def _is_word_char(ch: str) -> bool:
    """Letters and digits of alphabetic scripts, the ones a space really separates."""
    return ch.isalnum() and not is_cjk(ch)


@lru_cache(maxsize=1 << 17)  # called for every word of every text; words repeat
def is_punct(text: str) -> bool:
    """True when a token carries no letter or digit (punctuation, symbols, spaces)."""
    return not any(ch.isalnum() for ch in text)


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """One original character → its searchable form: NFKC (full-width → half-width), case-folded, and traditional
    → simplified. May return several characters (NFKC expands ligatures) or the empty string (ignorables)."""
    if unicodedata.category(ch) in ("Cs", "Cf"):
        return ""  # lone surrogates cannot be stored; format characters (zero-width, RTL overrides) are invisible
    folded = unicodedata.normalize("NFKC", ch).casefold()
    return "".join(_t2s(c) for c in folded)


def _t2s(ch: str) -> str:
    from search.text.variants import to_simplified_char

    return to_simplified_char(ch)


@dataclass(frozen=True)
class Normalized:
    """Normalized text with, for each of its characters, the original span it came from.

    Layout whitespace between two non-alphabetic characters (Chinese text broken across lines, no-break spaces inside
    words) is dropped so that words broken by layout join again; whitespace between alphabetic words is kept as a
    single space separator.
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Original (start, end) of normalized characters [i, j)."""
        return self.starts[i], self.ends[j - 1]


def normalize(text: str) -> Normalized:
    """`text` normalized, with each normalized character's original span (what highlighting needs)."""
    fast = _normalize_fast(text)
    return fast if fast is not None else _normalize_slow(text)


def _normalize_slow(text: str) -> Normalized:
    """The definition: one character at a time (texts with characters that fold to several)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pending_space: int | None = None  # original offset of a whitespace run not yet decided
    for i, ch in enumerate(text):
        if ch.isspace() or unicodedata.category(ch) == "Cc":  # control characters separate like spaces
            if pending_space is None:
                pending_space = i
            continue
        folded = fold_char(ch)
        if not folded:
            continue
        if pending_space is not None:
            if out and _is_word_char(out[-1]) and _is_word_char(folded[0]):
                out.append(" ")
                starts.append(pending_space)
                ends.append(i)
            pending_space = None
        for c in folded:
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
    return Normalized("".join(out), tuple(starts), tuple(ends))


_FOLD_TABLE: dict[int, str | None] = {}  # character → its folded form (None: dropped; " ": a separator)
_COMPLEX: set[str] = set()  # characters whose folded form holds a space: only `normalize` handles them
_FOLD_LENGTH: dict[str, int] = {}  # characters that fold to nothing (0) or to several characters (…→...: 3)
_KNOWN: set[str] = set()  # characters already classified
_RUNS = re.compile(" +")


def _classify(text: str) -> None:
    """Add the folded form of each character not seen before to the translation table."""
    new = set(text) - _KNOWN
    if not new:
        return
    table = _FOLD_TABLE
    for ch in new:
        if ch.isspace() or unicodedata.category(ch) == "Cc":
            table[ord(ch)] = " "
        else:
            folded = fold_char(ch)
            if any(c.isspace() or unicodedata.category(c) == "Cc" for c in folded):
                _COMPLEX.add(ch)
            else:
                table[ord(ch)] = folded or None
                if len(folded) != 1:
                    _FOLD_LENGTH[ch] = len(folded)
        _KNOWN.add(ch)


def normalize_text(text: str) -> str:
    """`normalize(text).text` without the offset maps (indexing needs positions, not offsets): one `str.translate`
    and one pass over whitespace runs instead of a Python loop over every character."""
    _classify(text)
    if _COMPLEX and not _COMPLEX.isdisjoint(text):
        return _normalize_slow(text).text
    return _RUNS.sub(_keep_separator, text.translate(_FOLD_TABLE))


def code_points(text: str) -> np.ndarray:
    """The text's code points as uint32 (a lone surrogate, possible in a str, is its own code point)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _normalize_fast(text: str) -> Normalized | None:
    """`normalize` by translation: the offset maps come from the characters that fold to other than one character
    and from the whitespace runs, not from a loop over every character. None when a character folds to text with a
    space in it."""
    _classify(text)
    if _COMPLEX and not _COMPLEX.isdisjoint(text):
        return None
    translated = text.translate(_FOLD_TABLE)
    kept = np.arange(len(text), dtype=np.int64)  # the original index of each translated character
    resized = _FOLD_LENGTH.keys() & set(text) if _FOLD_LENGTH else ()
    if resized:
        points = code_points(text)
        lengths = np.ones(len(text), dtype=np.int64)
        for ch in resized:
            lengths[points == ord(ch)] = _FOLD_LENGTH[ch]
        kept = np.repeat(kept, lengths)
    pieces, indexes, spaces = [], [], []  # normalized text, its translated indexes, (kept space, run end)
    at, prev = 0, 0
    for run in _RUNS.finditer(translated):
        start, end = run.span()
        pieces.append(translated[prev:start])
        indexes.append(np.arange(prev, start))
        at += start - prev
        if (
            start > 0
            and end < len(translated)
            and _is_word_char(translated[start - 1])
            and _is_word_char(translated[end])
        ):
            pieces.append(" ")
            indexes.append(np.array([start]))
            spaces.append((at, end))
            at += 1
        prev = end
    pieces.append(translated[prev:])
    indexes.append(np.arange(prev, len(translated)))
    starts = kept[np.concatenate(indexes)] if len(translated) else np.empty(0, dtype=np.int64)
    ends = starts + 1
    for position, run_end in spaces:  # a kept space spans its whole run, up to the next character
        ends[position] = kept[run_end]
    return Normalized("".join(pieces), tuple(starts.tolist()), tuple(ends.tolist()))


def _keep_separator(m: re.Match) -> str:
    """A whitespace run stays (as one space) only between two letters or digits of alphabetic scripts."""
    text, start, end = m.string, m.start(), m.end()
    if start == 0 or end == len(text):
        return ""
    return " " if _is_word_char(text[start - 1]) and _is_word_char(text[end]) else ""


def normalize_query_text(text: str) -> str:
    """The normalized form of a piece of query text (what the analyzers see)."""
    return normalize(text.translate(QUOTES_TO_ASCII)).text


def _load_dictionary() -> None:
    from search.text.userdict import load

    load()  # gazetteer place names, added once before any segmentation (see search/text/userdict.py)


def segment(text: str) -> list[str]:
    """jieba's words for already-normalized text.

    The segmenter is jieba-rs (`rjieba`): jieba's own dictionary, DAG and HMM, in Rust — on news text it agrees with
    jieba 0.42.1 on 99.95% of tokens (the rest are Latin/number runs such as `s-400`, kept whole) at thirty times the
    speed. Index and query time use the same one; the index records it (search.index.store.ANALYZERS)."""
    _load_dictionary()
    return rjieba.cut(text, hmm=True)


def word_spans(text: str) -> list[tuple[int, int, int, bool]]:
    """(position, start, end, is_subword) in normalized coordinates for each indexable word of normalized `text`."""
    spans = []
    pos = 0
    at = 0
    for word in segment(text):
        start, at = at, at + len(word)
        kind = _word_kind(word)
        if kind is _SPACE:
            continue
        if kind is _PUNCT:
            pos += 1  # punctuation is a character: a phrase may not reach across it
            continue
        for k, n in kind:
            spans.append((pos, start + k, start + k + n, True))
        spans.append((pos, start, at, False))
        pos += 1
    return spans


def word_pieces(word: str) -> tuple[str, ...] | None:
    """The terms a segmented word puts at its position — its dictionary sub-words, then itself; () for punctuation,
    which takes a position and puts nothing there; None for whitespace, which takes none (as `word_spans`)."""
    kind = _word_kind(word)
    if kind is _SPACE:
        return None
    if kind is _PUNCT:
        return ()
    return (*(word[k : k + n] for k, n in kind), word)


_SPACE, _PUNCT = ("space",), ("punct",)
_KINDS: dict[str, tuple] = {}  # word → _SPACE, _PUNCT, or the (offset, length) of its dictionary sub-words
_KINDS_MAX = 1_000_000


def _word_kind(word: str) -> tuple:
    """What a segmented word is: whitespace, punctuation, or a word with these search-mode sub-words (the 2- and
    3-character pieces of a longer word that are themselves in the dictionary). Cached: news text repeats words."""
    kind = _KINDS.get(word)
    if kind is None:
        if word.isspace():
            kind = _SPACE
        elif is_punct(word):
            kind = _PUNCT
        else:
            subs = []
            if len(word) > 2:
                for n in (2, 3):
                    for k in range(len(word) - n + 1):
                        sub = word[k : k + n]
                        if sub != word and rjieba.has_word(sub):
                            subs.append((k, n))
            kind = tuple(subs)
        if len(_KINDS) >= _KINDS_MAX:
            _KINDS.clear()
        _KINDS[word] = kind
    return kind


class _OffsetTokenizer(Tokenizer):
    """Shared Whoosh plumbing: emit (text, pos, startchar, endchar) tuples as reused Token objects."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __hash__(self):
        return hash(self.__class__.__name__)

    def spans(self, text: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        norm = normalize(value) if chars else None  # offset maps only when offsets are asked for
        text = norm.text if norm is not None else normalize_text(value)
        for pos, i, j, _ in self.spans(text):
            token.text = text[i:j]
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = start_pos + pos
            if chars:
                s, e = norm.span(i, j)
                token.startchar = start_char + s
                token.endchar = start_char + e
            yield token


class WordTokenizer(_OffsetTokenizer):
    """jieba words with ordinal positions and exact character offsets."""

    def spans(self, text):
        return word_spans(text)


class NgramTokenizer(_OffsetTokenizer):
    """Character bigrams at character ordinals; a character followed by a separator or the end also stands alone,
    so every character starts exactly one token and a one-character query is a prefix query."""

    def spans(self, text):
        return ngram_spans(text)


def ngram_spans(text: str) -> list[tuple[int, int, int, bool]]:
    spans = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        if i < last and text[i + 1] != " ":
            spans.append((i, i, i + 2, False))
        else:
            spans.append((i, i, i + 1, False))
    return spans


def query_bigrams(word: str) -> list[str]:
    """The bigram sequence a normalized query word must match contiguously (a lone character: itself)."""
    if len(word) < 2:
        return [word]
    return [word[k : k + 2] for k in range(len(word) - 1)]


# The stored name (see search/analysis.py): pickles of the schema must not depend on where the code lives.
WordTokenizer.__module__ = NgramTokenizer.__module__ = "search.analysis"

WORDS = WordTokenizer()
NGRAMS = NgramTokenizer()
