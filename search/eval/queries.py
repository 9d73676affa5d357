"""Scoring a labelled query set against an index: recall of the expected sets, precision, MRR of the expected top hit.

The figures are computed exactly as the shared black-box scorer (`shared/eval/tools/score_queries.py`) computes them
over the JSON API, so the two agree:
- gold articles map to engine articles by the gold `first_sentence` found in the article text (whitespace, '|', '#'
  removed), one engine article per gold article, preferring an equal headline, then the shortest text;
- 003#2 and 003#7 are the two printed parts of one notice: a hit on either counts as both;
- expected = must be returned; acceptable = returned without penalty; anything else returned (including articles no
  gold article maps to) is a false positive; `top` scores 1/rank (0 when absent) for MRR.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from search.errors import SearchError

TARGETS = {"recall": 1.0, "precision": 0.95, "mrr": 0.9}
EQUIVALENT = ({"003#2", "003#7"},)  # one notice printed in two parts (see the scoring note of the query file)
_WS = re.compile(r"[\s\u3000\xa0|#]+")


def _squash(text: str | None) -> str:
    return _WS.sub("", text or "")


def gold_id(ref: dict) -> str:
    """{"file": "003_….txt", "ordinal": 5} → "003#5", the id seeds-gold.json uses."""
    return f"{ref['file'][:3]}#{ref['ordinal']}"


def map_gold(gold: list[dict], articles: dict, prefer_same_file: bool = False) -> dict[str, str]:
    """Gold id → engine id, the way the black-box scorer maps them: the gold's first sentence (or headline) found in
    the article's text, one article per gold article, an equal headline first, then the shortest text. Articles are
    dicts or `Article`s; `prefer_same_file` first narrows the candidates to the gold's own file (two reprints share
    a first sentence)."""

    def get(a, key):
        return (a.get(key) if isinstance(a, dict) else getattr(a, key, "")) or ""

    texts = {i: _squash(get(a, "headline") + get(a, "subheadline") + get(a, "body")) for i, a in articles.items()}
    heads = {i: _squash(get(a, "headline")) for i, a in articles.items()}
    files = {i: Path(get(a, "file")).name for i, a in articles.items()}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for g in gold:
        first = _squash(g.get("first_sentence", ""))
        keys = [k for k in (first[:20], first[10:30], first[-12:]) if len(k) >= 8]
        cands = [i for i, t in texts.items() if any(k in t for k in keys)]
        if not cands and g.get("headline"):
            cands = [i for i in articles if heads[i] == _squash(g["headline"])]
        if prefer_same_file:
            cands = [i for i in cands if files[i] == Path(g["file"]).name] or cands
        cands = [i for i in cands if i not in used] or cands
        if cands:
            best = min(cands, key=lambda i: (heads[i] != _squash(g.get("headline")), len(texts[i])))
            mapping[g["id"]] = best
            used.add(best)
    return mapping


@dataclass
class QueryOutcome:
    id: str
    q: str
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # gold ids, or "?<engine id>" for articles no gold maps to
    top_rank: int | None = None  # rank of the expected top hit (None: no `top`, or not returned)
    has_top: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.error or (self.has_top and self.top_rank != 1))

    def describe(self) -> str:
        parts = []
        if self.error:
            parts.append(f"error: {self.error}")
        if self.missing:
            parts.append(f"missing {', '.join(self.missing)}")
        if self.extra:
            parts.append(f"extra {', '.join(self.extra)}")
        if self.has_top and self.top_rank != 1:
            parts.append(f"top hit at rank {self.top_rank}" if self.top_rank else "top hit not returned")
        return f"{self.id} {self.q!r}: " + "; ".join(parts)


@dataclass
class QueryScore:
    queries: int
    mapped: int
    gold: int
    recall: float
    precision: float
    mrr: float
    outcomes: list[QueryOutcome]

    @property
    def misses(self) -> list[QueryOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def failed_targets(self) -> list[str]:
        return [
            f"{name} {getattr(self, name):.3f} < {target}"
            for name, target in TARGETS.items()
            if getattr(self, name) < target - 1e-9
        ]

    def to_dict(self) -> dict:
        return {
            "queries": self.queries,
            "mapped": self.mapped,
            "gold": self.gold,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "mrr": round(self.mrr, 4),
            "targets": TARGETS,
            "failed_targets": self.failed_targets(),
            "misses": [m.describe() for m in self.misses],
        }


def load_json(path: str | Path, what: str):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def score_queries(engine, gold: list[dict], queries: list[dict], synonyms: bool = True) -> QueryScore:
    """Run each labelled query through `engine.search` (first 100 hits, as the black-box scorer) and score it;
    `synonyms=False` searches the words as typed (the API's synonyms=false)."""
    from search.index.schema import from_stored
    from search.query.request import SearchRequest

    articles = {doc["id"]: from_stored(doc) for doc in engine.searcher().all_stored_fields()}
    g2e = map_gold(gold, articles)
    e2g: dict[str, set[str]] = {}
    for g, e in g2e.items():
        e2g.setdefault(e, set()).add(g)
    tp = fp = fn = 0
    reciprocal: list[float] = []
    outcomes = []
    for q in queries:
        outcome = QueryOutcome(q.get("id", "?"), q["q"], has_top=bool(q.get("top")))
        outcomes.append(outcome)
        expected = {gold_id(x) for x in q.get("expected", [])}
        allowed = expected | {gold_id(x) for x in q.get("acceptable", [])}
        params = {"q": q["q"], "per_page": "100", "synonyms": "true" if synonyms else "false"}
        params.update({k: q[k] for k in ("region", "date_from", "date_to") if q.get(k)})
        try:
            result = engine.search(SearchRequest.from_params(params))
        except SearchError as exc:
            outcome.error = exc.message
            outcome.missing = sorted(expected)
            fn += len(expected)
            if outcome.has_top:
                reciprocal.append(0.0)
            continue
        got = [e2g.get(str(h["id"]), {f"?{h['id']}"}) for h in result["hits"]]
        flat = set().union(*got) if got else set()
        for group in EQUIVALENT:
            if flat & group:
                flat |= group
        tp += len(expected & flat)
        fn += len(expected - flat)
        outcome.missing = sorted(expected - flat)
        outcome.extra = sorted(x for x in flat if x not in allowed)
        fp += len(outcome.extra)
        if outcome.has_top:
            top = gold_id(q["top"])
            outcome.top_rank = next((i + 1 for i, g in enumerate(got) if top in g), None)
            reciprocal.append(1 / outcome.top_rank if outcome.top_rank else 0.0)
    return QueryScore(
        queries=len(queries),
        mapped=len(g2e),
        gold=len(gold),
        recall=tp / (tp + fn) if tp + fn else 1.0,
        precision=tp / (tp + fp) if tp + fp else 1.0,
        mrr=sum(reciprocal) / len(reciprocal) if reciprocal else 1.0,
        outcomes=outcomes,
    )
