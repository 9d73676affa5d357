"""`newsearch eval metadata`: the ingest pipeline against a labelled gold file.

Figures are computed as the black-box scorer (shared/eval/tools/score_metadata.py) computes them, over the articles
that ingest makes of the gold's files (`evaluate`), or over those an index of given files or directories holds
(`evaluate_paths`: a temporary index, so catalogues and stored clusters count as the JSON API shows them): boundary
F1 from the gold articles found / articles made, headline exact (whitespace-insensitive), date (first 10
characters), byline names F1 and region F1 (most specific full names) per article, averaged. Gold articles map to
ours by the gold first sentence found in our text, preferring the gold's own file, compared by file name (reprints
in two files share their first sentence; a gold `file` may be a path inside an archive tree). Near-duplicates: the
gold's `duplicate_of` pairs are "found" when the DuplicateTracker, run over the articles in file order, puts both
in one cluster; a "false merge" is any pair in one cluster that the gold does not group.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from search.eval.queries import map_gold

_WS = re.compile(r"[\s\u3000\xa0|#]+")
_SEP = re.compile(r"[/›>\s]+")

TARGETS = {"boundary_f1": 0.95, "headline": 0.95, "date": 0.95, "byline": 0.9, "region": 0.9, "duplicates": 0.9}
# The targets for a real archive (the rmrb-dev set): stricter on boundaries, dates and bylines.
STRICT_TARGETS = {"boundary_f1": 0.97, "headline": 0.95, "date": 0.98, "byline": 0.95, "region": 0.9, "duplicates": 0.9}
TARGET_SETS = {"seeds": TARGETS, "strict": STRICT_TARGETS}


def norm(text: str | None) -> str:
    return _WS.sub("", text or "")


def f1(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def most_specific(regions: list[str]) -> set[str]:
    values = [_SEP.sub("", r) for r in regions]
    return {v for v in values if v and not any(o != v and o.startswith(v) for o in values)}


def load_gold(path: str | Path) -> list[dict]:
    """A gold file: a JSON list of labelled articles; `file` is a page file's name or a path relative to the
    directory scored (an archive tree), matched to articles by its file name."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"gold file {path} is a directory (give a JSON file with --gold)")
    if not path.is_file():
        raise FileNotFoundError(f"gold file {path} not found (give one with --gold)")
    try:
        gold = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(gold, list) or not all(isinstance(g, dict) and "file" in g for g in gold):
        raise ValueError(f"{path}: expected a JSON list of labelled articles with 'file'")
    for g in gold:
        g.setdefault("id", f"{g['file'][:3]}#{g.get('ordinal', 0)}")
    return gold


@dataclass
class MetadataScore:
    articles: int = 0
    gold: int = 0
    figures: dict = field(default_factory=dict)
    duplicate_pairs: int = 0
    duplicate_found: int = 0
    false_merges: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    targets: dict = field(default_factory=lambda: dict(TARGETS))

    def failed_targets(self) -> list[str]:
        failed = [
            f"{k} {self.figures.get(k, 0):.3f} < {t}"
            for k, t in self.targets.items()
            if self.figures.get(k, 0) < t - 1e-9
        ]
        if self.false_merges:
            failed.append(f"{len(self.false_merges)} false merges")
        return failed

    def to_dict(self) -> dict:
        return {
            "articles": self.articles,
            "gold": self.gold,
            "figures": self.figures,
            "duplicate_pairs": self.duplicate_pairs,
            "duplicate_found": self.duplicate_found,
            "false_merges": self.false_merges,
            "misses": self.misses,
            "targets": self.targets,
            "failed": self.failed_targets(),
        }


def ingest_gold_files(gold: list[dict], seeds_dir: str | Path) -> list:
    """Articles of the gold's files, in gold file order then page order."""
    from search.ingest import read_file

    seeds_dir = Path(seeds_dir)
    articles = []
    for name in dict.fromkeys(g["file"] for g in gold):
        path = seeds_dir / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: a file named in the gold is not in {seeds_dir} (give the directory that holds them as PATHS)"
            )
        result = read_file(path)
        if result.error:
            raise ValueError(result.error)
        articles += result.articles
    return articles


def index_articles(index_dir: str | Path) -> list:
    """Every article an index holds, with its stored cluster (what the black-box scorer sees through the API)."""
    from search.article import Article
    from search.index.schema import from_stored
    from search.index.store import open_index

    names = set(Article.__dataclass_fields__)
    with open_index(index_dir).searcher() as searcher:
        docs = sorted(searcher.all_stored_fields(), key=lambda d: (d.get("file", ""), d.get("ordinal", 0)))
        return [Article(**{k: v for k, v in from_stored(d).items() if k in names}) for d in docs]


def score_metadata(
    gold: list[dict], articles: list, stored_clusters: bool = False, targets: dict | None = None
) -> MetadataScore:
    from search.index.reprints import DuplicateTracker

    arts = {a.id: a for a in articles}
    g2a = map_gold(gold, arts, prefer_same_file=True)
    score = MetadataScore(articles=len(arts), gold=len(gold), targets=dict(targets or TARGETS))
    per: dict[str, list[float]] = {"headline": [], "date": [], "byline": [], "region": []}
    for g in gold:
        a = arts.get(g2a.get(g["id"], ""))
        if a is None:
            score.misses.append(f"{g['id']}: not found as an article")
            for values in per.values():
                values.append(0)
            continue
        h = norm(a.headline) == norm(g["headline"])
        d = (a.date or "")[:10] == (g.get("date") or "")
        b = f1({norm(n) for n in a.byline if n}, {norm(n) for n in g["bylines"]})
        r = f1(most_specific(a.region), {_SEP.sub("", x) for x in g["regions"]})
        for name, value in (("headline", h), ("date", d), ("byline", b), ("region", r)):
            per[name].append(float(value))
        if not h:
            score.misses.append(f"{g['id']}: headline {a.headline!r} want {g['headline']!r}")
        if not d:
            score.misses.append(f"{g['id']}: date {a.date!r} want {g.get('date')!r}")
        if b < 1:
            score.misses.append(f"{g['id']}: byline {sorted(norm(n) for n in a.byline)} want {g['bylines']}")
        if r < 1:
            score.misses.append(f"{g['id']}: region {sorted(most_specific(a.region))} want {g['regions']}")
    mapped = set(g2a.values())
    prec = len(mapped) / len(arts) if arts else 0.0
    rec = len(g2a) / len(gold) if gold else 0.0
    figures = {"boundary_f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}
    figures.update({k: sum(v) / len(v) if v else 0.0 for k, v in per.items()})

    # Near-duplicates: gold groups (union of duplicate_of links) against the tracker's clusters.
    tracker = DuplicateTracker()
    cluster = {a.id: (a.cluster or a.id) if stored_clusters else tracker.assign(a) for a in articles}
    by_place = {(g["file"], g.get("ordinal")): g["id"] for g in gold}
    group = {g["id"]: g["id"] for g in gold}

    def root(x: str) -> str:
        while group[x] != x:
            x = group[x]
        return x

    pairs = []
    for g in gold:
        dup = g.get("duplicate_of")
        if dup:
            other = by_place.get((dup.get("file"), dup.get("ordinal")))
            if other is not None:
                pairs.append((g["id"], other))
                group[root(g["id"])] = root(other)
    a2g = {a: g for g, a in g2a.items()}
    found = 0
    for x, y in pairs:
        ax, ay = g2a.get(x), g2a.get(y)
        if ax and ay and cluster[ax] == cluster[ay]:
            found += 1
        else:
            score.misses.append(f"{x}: near-duplicate of {y} not clustered")
    members: dict[str, list[str]] = {}
    for article_id, c in cluster.items():
        members.setdefault(c, []).append(article_id)
    for ids in members.values():
        for i, p in enumerate(ids):
            for q in ids[i + 1 :]:
                gp, gq = a2g.get(p), a2g.get(q)
                if gp is None or gq is None or root(gp) != root(gq):
                    label = lambda a, gid: gid or f"{Path(arts[a].file).name}#{arts[a].ordinal}"
                    score.false_merges.append(f"{label(p, gp)} + {label(q, gq)}")
    score.misses += [f"false merge: {m}" for m in score.false_merges]
    score.duplicate_pairs, score.duplicate_found = len(pairs), found
    figures["duplicates"] = found / len(pairs) if pairs else 1.0
    score.figures = figures
    return score


def evaluate(
    gold_file: str | Path,
    seeds_dir: str | Path,
    index_dir: str | Path | None = None,
    targets: dict | None = None,
) -> MetadataScore:
    """Ingest the gold's files from `seeds_dir` and score them; with `index_dir`, score what that index holds."""
    gold = load_gold(gold_file)
    if index_dir is not None:
        return score_metadata(gold, index_articles(index_dir), stored_clusters=True, targets=targets)
    return score_metadata(gold, ingest_gold_files(gold, seeds_dir), targets=targets)


def evaluate_paths(gold_file: str | Path, paths: list[str | Path], targets: dict | None = None) -> MetadataScore:
    """Index `paths` (files or directories, with their catalogues, as `newsearch index` takes them) into a temporary
    index and score the articles it holds with their stored clusters: the figures the JSON API would show."""
    import tempfile

    from search.index.sync import index_paths

    gold = load_gold(gold_file)
    with tempfile.TemporaryDirectory(prefix="newsearch-eval-") as tmp:
        summary = index_paths(Path(tmp) / "index", paths)
        if not summary.ok:
            raise ValueError("; ".join(summary.errors))
        articles = index_articles(Path(tmp) / "index")
    return score_metadata(gold, articles, stored_clusters=True, targets=targets)
