"""Highlight ranges and sentence-aware snippets.

A snippet is data — a fragment of the original text and the [start, end) character ranges to mark — and HTML is made
from it by escaping, then marking. Ranges are found by the same normalization the analyzers use, so a highlight lands
exactly on the printed characters of every place the query matched (繁體 input, full-width letters, words broken by
layout included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from search.text.analysis import normalize

SENTENCE_END = "。！？；!?;"
_SENTENCE = re.compile(rf"[^{SENTENCE_END}\n]*[{SENTENCE_END}]+[”’」』）)]*|[^{SENTENCE_END}\n]+")
FRAGMENT_CHARS = 110
MAX_FRAGMENTS = 2


@dataclass
class Snippet:
    text: str
    highlights: list[list[int]]

    def to_dict(self) -> dict:
        return {"text": self.text, "highlights": self.highlights}

    def html(self) -> str:
        return mark_html(self.text, self.highlights)


def highlight_ranges(text: str, terms: list[str]) -> list[list[int]]:
    """Merged, sorted [start, end) ranges of `text` where any normalized term occurs."""
    if not text or not terms:
        return []
    norm = normalize(text)
    found = []
    for term in terms:
        if not term:
            continue
        at = norm.text.find(term)
        while at >= 0:
            found.append(list(norm.span(at, at + len(term))))
            at = norm.text.find(term, at + 1)
    return merge_ranges(found)


def article_highlights(article: dict, highlight: dict[str, list[str]]) -> dict[str, list[list[int]]]:
    """The ranges to mark in an article's headline and body for a query's strings to highlight (field → strings)."""
    return {name: highlight_ranges(article[name], highlight.get(name, [])) for name in ("headline", "body")}


def merge_ranges(ranges: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def mark_html(text: str, ranges: list[list[int]]) -> str:
    """Escape `text`, wrapping each range in <mark>."""
    out, at = [], 0
    for start, end in ranges:
        out.append(escape(text[at:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: Chinese sentence ends 。！？； (and their ASCII forms) or a line break."""
    spans = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def make_snippets(
    text: str, terms: list[str], max_fragments: int = MAX_FRAGMENTS, fragment_chars: int = FRAGMENT_CHARS
) -> list[Snippet]:
    """The best sentences of `text` for `terms`, in text order; the opening when nothing matches."""
    ranges = highlight_ranges(text, terms)
    spans = sentences(text)
    if not spans:
        return []
    if not ranges:
        start, end = spans[0]
        return [_fragment(text, start, min(end, start + fragment_chars), [])]
    scored = []
    for idx, (start, end) in enumerate(spans):
        inside = [r for r in ranges if r[0] < end and r[1] > start]
        if inside:
            distinct = {text[a:b] for a, b in inside}
            scored.append((-len(distinct), -len(inside), idx))
    chosen = sorted(idx for _, _, idx in sorted(scored)[:max_fragments])
    return [_fragment(text, *_window(spans[idx], ranges, fragment_chars), ranges) for idx in chosen]


def _window(span: tuple[int, int], ranges, size: int) -> tuple[int, int]:
    """A window of about `size` characters of the sentence, around its first highlight, never cutting one."""
    start, end = span
    if end - start <= size:
        return start, end
    first = next(r for r in ranges if r[0] < end and r[1] > start)
    lo = max(start, min(first[0] - size // 3, end - size))
    hi = min(end, lo + size)
    for a, b in ranges:
        if a < lo < b:
            lo = a
        if a < hi < b:
            hi = b
    return lo, hi


def _fragment(text: str, start: int, end: int, ranges) -> Snippet:
    local = [[max(a, start) - start, min(b, end) - start] for a, b in ranges if a < end and b > start]
    return Snippet(text[start:end], local)


def snippet_html(snippets: list[Snippet]) -> str:
    return " … ".join(s.html() for s in snippets)
