"""jieba-pre-segmented text: tokens separated by '|', paragraph breaks as runs of U+3000 tokens."""

from __future__ import annotations

import re

from search.ingest.decode import page_lines

_PARA_BREAK = re.compile(r"(?:\u3000\|?){2,}")


def is_segmented(text: str) -> bool:
    """Most lines are tokens joined by '|': many bars, and short average pieces."""
    sample = text[:20000]
    bars = sample.count("|")
    if bars < 20:
        return False
    pieces = [p for p in sample.split("|") if p]
    return bool(pieces) and sum(map(len, pieces)) / len(pieces) <= 4.0 and bars > len(sample) / 12


def tokens(text: str) -> list[str]:
    return text.split("|")


def paragraphs(text: str) -> list[tuple[str, list[str]]]:
    """Each paragraph of a segmented text as (joined text, its tokens). Runs of U+3000 tokens separate paragraphs."""
    out: list[tuple[str, list[str]]] = []
    for line in page_lines(text):
        for chunk in _PARA_BREAK.split(line):
            toks = [t for t in chunk.split("|") if t]
            joined = "".join(toks).strip()
            if joined:
                out.append((joined, [t for t in toks if t.strip()]))
    return out
