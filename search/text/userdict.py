"""newsearch's additions to jieba's dictionary: place names of the gazetteer, so that 渌口区 or 七星关区 stay one word.

jieba's dictionary is process-wide state, so the additions are fixed data (no corpus, no order dependence), made once,
before the first segmentation, identically at index and query time. Only names jieba does not know are added, at one
fixed frequency: words jieba already has keep their own frequency, so ordinary text segments as before.

Matching never depends on this (the bigram fields find any contiguous string); it makes names whole tokens of the
word fields, which is what ranking and spelling suggestions read.
"""

from __future__ import annotations

import threading

import rjieba

NAME_FREQ = 20  # enough to keep a name whole against jieba's splits of rare characters, low enough not to swallow words
_lock = threading.Lock()
_loaded = False


def place_words() -> list[str]:
    """Gazetteer names (full and short forms) of two or more characters, in a fixed order."""
    from search.text.regions import place_names

    return sorted(n for n in place_names() if len(n) >= 2 and not any(ch.isspace() for ch in n))


def load() -> None:
    """Add the names to jieba's dictionary once per process (idempotent, thread-safe)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for name in place_words():
            if not rjieba.has_word(name):
                rjieba.add_word(name, NAME_FREQ, None)
        _loaded = True
