"""Traditional → simplified Chinese, character by character, from OpenCC's table.

Applied to every character at index and query time, so `復工復產` finds and highlights `复工复产`. Character-level
conversion keeps offsets one-to-one (OpenCC's phrase tables can change lengths), which highlighting relies on; the rare
one-to-many characters take OpenCC's first (most common) choice on both sides, so matching stays consistent.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table = {}
    text = (files("opencc") / "dictionary" / "TSCharacters.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        trad, _, simp = line.partition("\t")
        choice = simp.split(" ", 1)[0]
        if len(trad) == 1 and len(choice) == 1 and choice != trad:
            table[trad] = choice
    return table


def to_simplified_char(ch: str) -> str:
    return _table().get(ch, ch)
