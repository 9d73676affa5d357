#!/usr/bin/env python3
"""The query mix: ≥ 100 queries drawn deterministically from a corpus file.

  python bench/queries.py bench/data/synth-xwlb-10k.jsonl    # print the mix as JSON

400 articles are picked with a fixed seed (by line number, so the pick depends only on the file), segmented with
jieba (the pinned 0.42.1, default dictionary), and the queries are cut from them:

  word    30  a 2-character CJK word whose share of the sampled articles is 0.5–15 % (not a stop word that hits
              most documents, not a hapax)
  place   20  a place name from the articles' region field (prefecture or county level, 2+ characters)
  person  20  a person's name from a byline (2–3 characters, role words such as 本报记者 dropped); on a corpus
              without bylines (xwlb) these slots go to more `word` queries
  and     20  2 or 3 such words from one article, space-separated (AND in both systems)
  phrase  20  "…": 2–3 consecutive jieba words of one body sentence, 4–6 CJK characters, quoted

Every query comes from one article, and every third query is filtered by that article's province (region=…),
every third by its year (date_from/date_to), the rest unfiltered — so filtered queries still have hits.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
from collections import Counter
from pathlib import Path

SEED = 20240601
SAMPLE = 400
COUNTS = {"word": 30, "place": 20, "person": 20, "and": 20, "phrase": 20}
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
ROLE = re.compile(r"记者|通讯员|本报|摄影|摄|实习|编辑|报道|供稿|整理|特约|主持")
STOP = {
    "我们",
    "他们",
    "一个",
    "没有",
    "这个",
    "就是",
    "可以",
    "已经",
    "进行",
    "通过",
    "表示",
    "目前",
    "同时",
    "今年",
    "以来",
    "其中",
    "还是",
    "这些",
    "工作",
    "发展",
    "建设",
    "推进",
    "开展",
    "加强",
    "全面",
    "重要",
}


def _pick_lines(path: Path, rng: random.Random) -> list[dict]:
    with open(path, "rb") as f:
        n = sum(1 for _ in f)
    wanted = set(rng.sample(range(n), min(SAMPLE, n)))
    docs = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i in wanted and line.strip():
                docs.append(json.loads(line))
    return docs


def build(path: str | Path) -> list[dict]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    rng = random.Random(SEED)
    docs = _pick_lines(Path(path), rng)
    words_of = []  # per doc: its distinct 2-char CJK words, in text order
    df: Counter = Counter()
    for d in docs:
        seen = list(
            dict.fromkeys(
                w
                for w in jieba.lcut(f"{d.get('headline', '')}\n{d['body']}")
                if len(w) == 2 and CJK.match(w) and w not in STOP
            )
        )
        words_of.append(seen)
        df.update(seen)
    lo, hi = max(2, int(0.005 * len(docs))), int(0.15 * len(docs))
    ok = {w for w, c in df.items() if lo <= c <= hi}

    def filters(i: int, d: dict) -> dict:
        if i % 3 == 0 and d.get("region"):
            return {"region": d["region"].split(";")[0].split("/")[0]}
        if i % 3 == 1 and d.get("date"):
            year = d["date"][:4]
            return {"date_from": f"{year}-01-01", "date_to": f"{year}-12-31"}
        return {}

    out: list[dict] = []

    def add(cls: str, q: str, d: dict) -> None:
        i = len(out)
        out.append({"cls": cls, "q": q, "doc": d["id"], **filters(i, d)})

    order = list(range(len(docs)))
    # person names (bylines)
    persons = []
    for k in order:
        for name in re.split(r"[\s,，、;；]+", docs[k].get("byline") or ""):
            if 2 <= len(name) <= 3 and CJK.match(name) and not ROLE.search(name):
                persons.append((name, k))
    persons = sorted(dict(persons).items())  # one doc per name, names sorted
    persons = rng.sample(persons, min(COUNTS["person"], len(persons)))
    n_word = COUNTS["word"] + COUNTS["person"] - len(persons)
    # words
    pairs = sorted({(w, k) for k in order for w in words_of[k] if w in ok})
    first_doc = {}
    for w, k in pairs:
        first_doc.setdefault(w, k)
    for w in rng.sample(sorted(first_doc), min(n_word, len(first_doc))):
        add("word", w, docs[first_doc[w]])
    # places
    places = {}
    for k in order:
        for region in (docs[k].get("region") or "").split(";"):
            for part in region.split("/")[1:]:
                if len(part) >= 2:
                    places.setdefault(part, k)
    for p in rng.sample(sorted(places), min(COUNTS["place"], len(places))):
        add("place", p, docs[places[p]])
    for name, k in persons:
        add("person", name, docs[k])
    # AND of 2-3 words of one article
    rich = [k for k in order if len([w for w in words_of[k] if w in ok]) >= 3]
    for k in rng.sample(rich, min(COUNTS["and"], len(rich))):
        cand = [w for w in words_of[k] if w in ok]
        add("and", " ".join(rng.sample(cand, rng.choice((2, 3)))), docs[k])
    # quoted phrases
    made = 0
    for k in rng.sample(order, len(order)):
        if made >= COUNTS["phrase"]:
            break
        sentences = [s for s in re.split(r"[。！？\n；]", docs[k]["body"]) if len(s) >= 12]
        if not sentences:
            continue
        words = jieba.lcut(rng.choice(sentences))
        spans = []
        for i in range(len(words)):
            for j in (2, 3):
                piece = "".join(words[i : i + j])
                if (
                    i + j <= len(words)
                    and 4 <= len(piece) <= 6
                    and CJK.match(piece)
                    and all(len(w) >= 2 for w in words[i : i + j])
                ):
                    spans.append(piece)
        if spans:
            add("phrase", f'"{rng.choice(spans)}"', docs[k])
            made += 1
    return out


if __name__ == "__main__":
    mix = build(sys.argv[1])
    print(json.dumps(mix, ensure_ascii=False, indent=0))
    print(Counter(q["cls"] for q in mix), len(mix), file=sys.stderr)
