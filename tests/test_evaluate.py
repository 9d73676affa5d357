"""The vectorised evaluator (search/query/evaluate.py) gives exactly Whoosh's answers: the same matching documents with the
same scores, and — through the engine — the same pages, totals and facet counts as the slow path, on the seeds and on
a generated corpus split over several segments with deleted documents."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import synth_articles
from whoosh.scoring import BM25F

from search.index.codec.formats import CompactPositions
from search.query.engine import SearchEngine
from search.query.evaluate import Evaluator, PostingCache, _decode_positions
from search.query.language import parse_query
from search.query.request import SearchRequest

# Every node type the parser builds: words (Or of word and bigram fields), multi-bigram words (phrases over bigrams),
# AND with its proximity bonus (AndMaybe), OR, NOT, quoted phrases, fields, date ranges, one-character words
# (CharPrefix), groups, browse-with-exclusion (Every).
QUERIES = [
    "复工",
    "复工复产",
    '"复工复产"',
    "株洲",
    "湖南 企业",
    "疫情防控 企业",
    "复工 OR 复产",
    "株洲 -疫情",
    '"疫情 防控"',
    "湖南 企业 -株洲",
    "date:2020-02-01..2020-03-31 复工",
    "的",
    "市",
    "headline:公告",
    "byline:记者",
    "NOT 疫情",
    "(复工 OR 复产) 湖南",
    "企业 复工 复产 防控",
    '"株洲市"',
    "source:株洲",
    "口罩",
    "口罩 订单 -企业",
    "headline:疫情 body:复工",
    "新华社",
    "交通 运输",
    "无此词汇组合甲乙",
    "市 县 -疫",
]
# Sixty one-character words ANDed and ORed: hundreds of bigrams each, read together (CharPrefix)
SIXTY = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可而子也你能下过家学工复产业企防控疫情市县区镇村发"
MANY_CHARACTERS = [" ".join(SIXTY), " OR ".join(SIXTY)]


def whoosh_scores(searcher, query) -> dict[int, float]:
    return {hit.docnum: hit.score for hit in searcher.search(query, limit=None, optimize=False)}


def evaluator_scores(searcher, query, cache=None) -> dict[int, float]:
    hits = Evaluator(searcher, cache or PostingCache()).run(query)
    reader = searcher.reader()
    return {d: s for d, s in zip(hits.docs.tolist(), hits.scores.tolist()) if not reader.is_deleted(d)}


def assert_same_scores(searcher, queries, cache=None) -> int:
    matched = 0
    for q in queries:
        query = parse_query(q).to_whoosh()
        expected, got = whoosh_scores(searcher, query), evaluator_scores(searcher, query, cache)
        assert set(got) == set(expected), q
        for docnum, score in expected.items():
            assert got[docnum] == pytest.approx(score, rel=1e-9, abs=1e-12), (q, docnum)
        matched += bool(expected)
    return matched


def comparable(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k != "took_ms"}
    for hit in out["hits"]:
        hit["score"] = round(hit["score"], 3) if hit["score"] is not None else None
    return out


def assert_same_pages(fast: SearchEngine, slow: SearchEngine, queries, extra: list[dict]) -> None:
    for q in queries:
        for params in [{}, *extra]:
            req = SearchRequest.from_params({"q": q, **params})
            a, b = comparable(fast.search(req)), comparable(slow.search(req))
            assert [h["id"] for h in a["hits"]] == [h["id"] for h in b["hits"]], (q, params)
            assert a == b, (q, params)


def test_evaluator_equals_whoosh_on_the_seeds(engine, dev_queries):
    searcher = engine.searcher()
    queries = QUERIES + MANY_CHARACTERS + [q["q"] for q in dev_queries]
    assert assert_same_scores(searcher, queries) >= 40  # most of them match something


def test_engine_pages_and_facets_equal_the_slow_path_on_the_seeds(seed_index):
    fast, slow = SearchEngine(seed_index), SearchEngine(seed_index, vectorized=False)
    extra = [
        {"page": "2", "per_page": "3"},
        {"region": "湖南"},
        {"date_from": "2020-02-01", "date_to": "2020-03-31"},
        {"collapse": "true"},
        {"sort": "date"},
    ]
    assert_same_pages(fast, slow, QUERIES, extra)
    assert_same_pages(fast, slow, MANY_CHARACTERS, [])


@pytest.fixture(scope="module")
def generated_index(tmp_path_factory) -> Path:
    """A generated corpus in three commits (three segments), then one file rewritten (deleted documents)."""
    import search.index.sync as indexer

    root = tmp_path_factory.mktemp("generated")
    articles = root / "articles"
    articles.mkdir()
    synth_articles(root / "all.jsonl", n=900, seed=7)
    lines = (root / "all.jsonl").read_text(encoding="utf-8").splitlines()
    index_dir = root / "index"
    for part in range(3):
        (articles / f"part-{part}.jsonl").write_text(
            "\n".join(lines[part * 300 : (part + 1) * 300]) + "\n", encoding="utf-8"
        )
        indexer.index_paths(index_dir, [articles])
    rewritten = [json.loads(line) for line in lines[300:600:2]]  # part 1 loses every second article
    (articles / "part-1.jsonl").write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in rewritten), encoding="utf-8"
    )
    indexer.index_paths(index_dir, [articles])
    return index_dir


def corpus_queries(index_dir: Path, count: int = 40) -> list[str]:
    """Words and pairs drawn from the generated headlines, with a fixed seed."""
    engine = SearchEngine(index_dir)
    searcher = engine.searcher()
    rng = random.Random(11)
    from search.text.analysis import word_spans

    words = sorted(
        {
            h[i:j]
            for d in searcher.all_stored_fields()
            for h in [d.get("headline", "")]
            for _, i, j, _ in word_spans(h)
            if j - i >= 2
        }
    )
    picked = rng.sample(words, count)
    return (
        picked[: count // 2]
        + [f"{a} {b}" for a, b in zip(picked[count // 2 :: 2], picked[count // 2 + 1 :: 2])]
        + [f'"{w}"' for w in picked[:5]]
        + [f"{picked[0]} -{picked[1]}", f"{picked[2]} OR {picked[3]}"]
    )


def test_evaluator_equals_whoosh_on_a_generated_corpus(generated_index):
    engine = SearchEngine(generated_index)
    searcher = engine.searcher()
    reader = searcher.reader()
    assert len(list(reader.leaf_readers())) >= 2 and reader.has_deletions()
    queries = QUERIES + MANY_CHARACTERS + corpus_queries(generated_index)
    assert assert_same_scores(searcher, queries) >= 40
    # a tiny cache (entries dropped all the time) gives the same answers
    assert assert_same_scores(searcher, queries[:20], PostingCache(max_bytes=4096)) > 0


def test_engine_pages_and_facets_equal_the_slow_path_on_a_generated_corpus(generated_index):
    fast, slow = SearchEngine(generated_index), SearchEngine(generated_index, vectorized=False)
    extra = [
        {"page": "3", "per_page": "5"},
        {"region": "河北"},
        {"date_from": "2020-01-01", "date_to": "2020-12-31"},
        {"collapse": "true"},
    ]
    assert_same_pages(fast, slow, corpus_queries(generated_index, 20), extra)


def test_one_character_words_over_a_segment_merged_by_whoosh(seed_index, tmp_path):
    """A segment merged by Whoosh's own writer is a W3 segment, whose lists a one-character word reads one by one."""
    import shutil

    from search.index.store import open_index

    shutil.copytree(seed_index, tmp_path / "index")
    open_index(tmp_path / "index").writer().commit(optimize=True)
    searcher = SearchEngine(tmp_path / "index").searcher()
    assert type(searcher.reader().leaf_readers()[0][0]._terms).__name__ == "W3TermsReader"
    assert assert_same_scores(searcher, ["的", "市 县 -疫", *MANY_CHARACTERS]) == 3


def test_posting_cache_stays_within_its_budget(generated_index):
    searcher = SearchEngine(generated_index).searcher()
    cache = PostingCache(max_bytes=64 << 10)
    for q in corpus_queries(generated_index):
        Evaluator(searcher, cache).run(parse_query(q).to_whoosh())
        assert cache._bytes <= cache.max_bytes or len(cache._entries) == 1


def test_vectorised_position_decoding_matches_the_format():
    fmt = CompactPositions()
    rng = random.Random(3)
    lists = [sorted(rng.sample(range(1, 50_000), rng.randint(1, 40))) for _ in range(300)] + [[0], [0, 1, 2]]
    docs = np.arange(len(lists), dtype=np.int64)
    got_docs, got_positions = _decode_positions(docs, [fmt.encode(p) for p in lists], fmt)
    assert got_docs.tolist() == [d for d, p in zip(docs.tolist(), lists) for _ in p]
    assert got_positions.tolist() == [x for p in lists for x in p]


def test_whoosh_weighting_is_what_the_evaluator_assumes(engine):
    """The evaluator hard-codes BM25F's defaults; the engine's searchers must use exactly those."""
    weighting = engine.searcher().weighting
    assert isinstance(weighting, BM25F) and (weighting.B, weighting.K1, weighting._field_B) == (0.75, 1.2, {})


def test_related_articles_are_whooshs_more_like(engine):
    """The article page's related list: the same articles and scores as Whoosh's own more_like."""
    searcher = engine.searcher()
    checked = 0
    for docnum in list(searcher.reader().all_doc_ids())[:12]:
        stored = searcher.stored_fields(docnum)
        text = f"{stored.get('headline', '')}\n{stored.get('body', '')}"
        expected = [
            (searcher.stored_fields(h.docnum)["id"], h.score)
            for h in searcher.more_like(docnum, "body", text=text, top=5)
        ]
        got = [(h["id"], h["score"]) for h in engine.related(stored["id"], 5)]
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert [s for _, s in got] == pytest.approx([round(s, 4) for _, s in expected], abs=1e-4)
        checked += bool(expected)
    assert checked >= 8
