#!/usr/bin/env python3
"""The baseline: the naive jieba + Whoosh recipe that newsearch is measured against.

What a developer gets by following the jieba and Whoosh documentation, nothing tuned:

- analysis: stock `jieba.analyse.ChineseAnalyzer` on headline and body (jieba's search-mode segmentation,
  lower-casing, English stop words, Porter stemming);
- schema: the same metadata fields as newsearch — id, headline, byline, date, region (KEYWORD holding every ancestor
  path: 湖北, 湖北/武汉, 湖北/武汉/江岸区), source, body (stored);
- indexing: one `writer.add_document` per article in a single writer (Whoosh's defaults), one commit;
- search: `MultifieldParser(["headline", "body"])` (its default group is AND), region and date filters as a filter
  query, facets by `searcher.search(q, groupedby=[FieldFacet("region", allow_overlap=True), FieldFacet("date")])`
  over all hits, the page sliced out of the results, Whoosh's highlighter (`hit.highlights("body")` with a
  ContextFragmenter) for each hit of the page.

whoosh3 3.54.0 quirks worked around (not optimisations):
- `search(limit=k, groupedby=...)` ignores `limit`: the page is sliced `results[a:b]`, never iterated whole;
- `Query.existing_terms(reader)` needs `fieldname=` on some query types; the highlighter is given the terms of the
  query explicitly when whoosh's own lookup fails (see `_highlight`).

  python bench/naive.py index CORPUS.jsonl INDEX_DIR
  python bench/naive.py search INDEX_DIR '湖南 疫情' [--region 湖南] [--date-from 2020-01-01]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import jieba
from jieba.analyse import ChineseAnalyzer
from whoosh import highlight
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.qparser import MultifieldParser
from whoosh.sorting import FieldFacet

jieba.setLogLevel(logging.WARNING)


def build_schema() -> Schema:
    analyzer = ChineseAnalyzer()
    return Schema(
        id=ID(unique=True, stored=True),
        headline=TEXT(analyzer=analyzer, stored=True),
        byline=KEYWORD(stored=True),  # space-separated names, as the corpus gives them
        date=ID(stored=True, sortable=True),
        region=KEYWORD(stored=True, commas=True),
        source=ID(stored=True),
        body=TEXT(analyzer=analyzer, stored=True),
        url=STORED,
    )


def region_paths(value: str) -> list[str]:
    """'湖北/武汉/江岸区' → every ancestor path; several regions may be separated by ; or ,."""
    out = []
    for region in value.replace("；", ";").replace(",", ";").replace("，", ";").split(";"):
        parts = [p for p in region.strip().split("/") if p]
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            if path not in out:
                out.append(path)
    return out


def index_corpus(corpus: str | Path, index_dir: str | Path) -> dict:
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), build_schema())
    writer = ix.writer()
    n = 0
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            a = json.loads(line)
            doc = {
                "id": a["id"],
                "headline": a.get("headline") or "",
                "byline": a.get("byline") or "",
                "region": ",".join(region_paths(a.get("region") or "")),
                "source": a.get("source") or "",
                "body": a["body"],
                "url": a.get("url") or "",
            }
            if a.get("date"):
                doc["date"] = a["date"]
            writer.add_document(**{k: v for k, v in doc.items() if v != ""})
            n += 1
    writer.commit()
    return {"articles": n}


class NaiveSearcher:
    """One open index and searcher, as a web app would keep them."""

    def __init__(self, index_dir: str | Path):
        self.ix = whoosh_index.open_dir(str(index_dir))
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["headline", "body"], schema=self.ix.schema)  # default group: AndGroup

    def close(self):
        self.searcher.close()

    def search(
        self,
        q: str,
        region: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> dict:
        query = self.parser.parse(q)
        filters = []
        if region:
            filters.append(wq.Term("region", region))
        if date_from or date_to:
            filters.append(wq.TermRange("date", date_from, date_to))
        filt = wq.And(filters) if len(filters) > 1 else (filters[0] if filters else None)
        results = self.searcher.search(
            query,
            filter=filt,
            limit=page * per_page,
            groupedby=[FieldFacet("region", allow_overlap=True), FieldFacet("date")],
        )
        results.fragmenter = highlight.ContextFragmenter(maxchars=200, surround=40)
        total = len(results)
        region_facet = sorted(((k, len(v)) for k, v in results.groups("region").items()), key=lambda kv: -kv[1])[:10]
        months: dict[str, int] = {}
        for day, docs in results.groups("date").items():
            if day:
                months[day[:7]] = months.get(day[:7], 0) + len(docs)
        hits = []
        for hit in results[(page - 1) * per_page : page * per_page]:  # limit is ignored with groupedby: slice
            hits.append(
                {
                    "id": hit["id"],
                    "headline": hit.get("headline", ""),
                    "date": hit.get("date"),
                    "score": hit.score,
                    "snippet": _highlight(hit),
                }
            )
        return {
            "q": q,
            "parsed": str(query),
            "total": total,
            "hits": hits,
            "facets": {"region": region_facet, "date": sorted(months.items())},
        }


def _highlight(hit) -> str:
    try:
        return hit.highlights("body", top=3)
    except TypeError:  # existing_terms(reader) without fieldname= on some query types in whoosh3 3.54.0
        results = hit.results
        terms = {t[1] for t in results.q.all_terms() if t[0] == "body"}
        return highlight.highlight(
            hit["body"], terms, hit.searcher.schema["body"].analyzer, results.fragmenter, results.formatter, top=3
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("index")
    a.add_argument("corpus")
    a.add_argument("index_dir")
    a = sub.add_parser("search")
    a.add_argument("index_dir")
    a.add_argument("q")
    a.add_argument("--region")
    a.add_argument("--date-from")
    a.add_argument("--date-to")
    a.add_argument("--page", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "index":
        started = time.perf_counter()
        out = index_corpus(args.corpus, args.index_dir)
        out["seconds"] = round(time.perf_counter() - started, 3)
        print(json.dumps(out))
    else:
        s = NaiveSearcher(args.index_dir)
        json.dump(
            s.search(args.q, args.region, args.date_from, args.date_to, args.page),
            sys.stdout,
            ensure_ascii=False,
            indent=1,
            default=str,
        )
        print()


if __name__ == "__main__":
    main()
