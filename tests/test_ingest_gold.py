"""Ingest against the hand-labelled gold for the seeds (boundary F1, headline, date, byline names).

Run as a script for the figures and the misses: .venv/bin/python tests/test_ingest_gold.py
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = Path(os.environ.get("NEWSEARCH_GOLD", "/work/shared/eval/seeds-gold.json"))
_WS = re.compile(r"[\s\u3000\xa0|#]+")


def _norm(s: str | None) -> str:
    return _WS.sub("", s or "")


def _f1(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def map_gold(gold: list[dict], arts: dict) -> dict:
    """gold id -> our article key, by the gold first sentence found in our text (as the outside scorer does)."""
    texts = {k: _norm(a.headline + a.subheadline + a.body) for k, a in arts.items()}
    heads = {k: _norm(a.headline) for k, a in arts.items()}
    out, used = {}, set()
    for g in gold:
        fs = _norm(g.get("first_sentence", ""))
        keys = [k for k in (fs[:20], fs[10:30], fs[-12:]) if len(k) >= 8]
        cands = [k for k, t in texts.items() if k[0] == g["file"] and any(x in t for x in keys)]
        if not cands and g.get("headline"):
            cands = [k for k in arts if heads[k] == _norm(g["headline"])]
        cands = [k for k in cands if k not in used] or cands
        if cands:
            best = min(cands, key=lambda k: (heads[k] != _norm(g.get("headline")), len(texts[k])))
            out[g["id"]] = best
            used.add(best)
    return out


def score() -> tuple[dict, list[str]]:
    from search.ingest import read_paths

    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    arts = {}
    for res in read_paths([SEEDS]):
        assert res.error is None, res.error
        for a in res.articles:
            arts[(Path(res.path).name, a.ordinal)] = a
    g2a = map_gold(gold, arts)
    misses, head, date, byl = [], [], [], []
    for g in gold:
        k = g2a.get(g["id"])
        if k is None:
            misses.append(f"{g['id']}: not found")
            head.append(0), date.append(0), byl.append(0)
            continue
        a = arts[k]
        h = _norm(a.headline) == _norm(g["headline"])
        d = (a.date or "") == g["date"]
        b = _f1({_norm(n) for n in a.byline}, {_norm(n) for n in g["bylines"]})
        head.append(h), date.append(d), byl.append(b)
        if not h:
            misses.append(f"{g['id']}: headline {a.headline!r} want {g['headline']!r}")
        if not d:
            misses.append(f"{g['id']}: date {a.date!r} want {g['date']!r}")
        if b < 1:
            misses.append(f"{g['id']}: byline {a.byline} want {g['bylines']}")
        spans = [(b_["start_line"], b_["end_line"]) for b_ in g["boundaries"]]
        if (a.line_start, a.line_end) != spans[0]:
            misses.append(f"{g['id']}: lines {a.line_start}-{a.line_end} want {spans}")
    prec = len(set(g2a.values())) / len(arts) if arts else 0
    rec = len(g2a) / len(gold)
    figures = {
        "articles": len(arts), "gold": len(gold),
        "boundary_f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "headline": sum(head) / len(gold), "date": sum(date) / len(gold), "byline": sum(byl) / len(gold),
    }
    return figures, misses


@pytest.mark.skipif(not GOLD.exists(), reason=f"gold file {GOLD} not present")
def test_seeds_meet_the_metadata_targets():
    figures, misses = score()
    assert figures["boundary_f1"] >= 0.95, (figures, misses)
    assert figures["headline"] >= 0.95, (figures, misses)
    assert figures["date"] >= 0.95, (figures, misses)
    assert figures["byline"] >= 0.9, (figures, misses)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    figs, ms = score()
    for m in ms:
        print("  miss:", m)
    print(" ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figs.items()))
