"""Near-duplicates: clustering on the seeds and on synthetic reprints, persistence through the index, and collapsed
search results."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from search.article import Article
from search.index.reprints import DuplicateTracker


def clusters_of(articles) -> dict[str, str]:
    """Article id → cluster id for articles taken in order (no index): what an empty index would assign."""
    tracker = DuplicateTracker()
    return {a.id: tracker.assign(a) for a in articles}


SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def seed_articles():
    from search.ingest import read_paths

    return {(Path(r.path).name[:3], a.ordinal): a for r in read_paths([SEEDS]) for a in r.articles}


def test_seed_template_notices_cluster_and_nothing_else_merges(seed_articles):
    clusters = clusters_of(list(seed_articles.values()))
    notice4, notice6 = seed_articles["003", 4], seed_articles["003", 6]
    assert clusters[notice6.id] == clusters[notice4.id] == notice4.id  # the first-indexed member names the cluster
    merged = [a for a in seed_articles.values() if clusters[a.id] != a.id]
    assert merged == [notice6]
    # same 株洲 campaign, same people, different text: not a reprint
    assert clusters[seed_articles["000", 0].id] != clusters[seed_articles["003", 0].id]


def _reprint(article: Article) -> Article:
    sentences = article.body.split("。")
    edited = sentences[:]
    for i in (1, 4, 7):
        edited[i] = edited[i][: len(edited[i]) // 2] + "，记者了解到有关情况"
    return Article(body="。".join(edited), headline="另一家报纸的新标题", byline=["王小明"], file="other-paper.txt")


def test_a_reprint_with_new_headline_byline_and_edited_sentences_clusters(seed_articles):
    original = seed_articles["003", 0]
    copy = _reprint(original)
    tracker = DuplicateTracker()
    assert tracker.assign(original) == original.id
    assert tracker.assign(copy) == original.id
    other_story = seed_articles["000", 0]
    assert tracker.assign(other_story) == other_story.id


def _index(index_dir, articles):
    """What the indexer does, with the tracker: clusters against the index and the run, then the documents."""
    from search.index.schema import to_document
    from search.index.store import open_or_create

    ix = open_or_create(index_dir)
    with ix.reader() as reader:
        tracker = DuplicateTracker.from_reader(reader)
    writer = ix.writer()
    for article in articles:
        article.cluster = tracker.assign(article)
        writer.add_document(**to_document(article))
    writer.commit()


def test_a_later_run_finds_its_reprint_in_the_index(tmp_path, seed_articles):
    original = dataclasses.replace(seed_articles["003", 0])
    _index(tmp_path, [original, dataclasses.replace(seed_articles["000", 0])])
    copy = _reprint(original)
    _index(tmp_path, [copy])
    from search.query.engine import SearchEngine

    article = SearchEngine(tmp_path).article(copy.id)
    assert article["cluster"] == original.id


@pytest.fixture(scope="module")
def dup_engine(tmp_path_factory, seed_articles):
    from search.query.engine import SearchEngine

    index_dir = tmp_path_factory.mktemp("dup-index")
    articles = [dataclasses.replace(a) for a in seed_articles.values()]
    reprint = _reprint(seed_articles["003", 0])
    _index(index_dir, articles + [reprint])
    return SearchEngine(index_dir), articles, reprint


def run(engine, **params):
    from search.query.request import SearchRequest

    return engine.search(SearchRequest.from_params(params))


def test_search_collapses_a_cluster_to_its_best_ranked_member(dup_engine, seed_articles):
    engine, _, _ = dup_engine
    notices = {seed_articles["003", k].id for k in (4, 6, 7)}
    folded = run(engine, q="headline:公告", per_page=100, collapse="true")
    assert folded["total"] == 2 == len(folded["hits"])
    hit = next(h for h in folded["hits"] if h["similar"])
    assert hit["similar"] == 1 and {hit["id"], *hit["similar_ids"]} == {seed_articles["003", k].id for k in (4, 6)}
    every = run(engine, q="headline:公告", per_page=100, collapse="false")
    assert {h["id"] for h in every["hits"]} == notices and every["total"] == 3
    assert all(h["similar"] == 0 and h["similar_ids"] == [] for h in every["hits"])
    # facet counts count articles, folded or not
    assert folded["facets"]["region"] == every["facets"]["region"]


def test_collapsed_paging_shows_each_cluster_once(dup_engine):
    engine, articles, _ = dup_engine
    seen = []
    for page in (1, 2, 3):
        seen += [h["id"] for h in run(engine, q="株洲", per_page=3, page=page, collapse="1")["hits"]]
    total = run(engine, q="株洲", collapse="1")["total"]
    assert len(seen) == len(set(seen)) == min(total, 9)
    assert total == run(engine, q="株洲", collapse="0")["total"] - 2  # the notice pair and the reprint pair


def test_browse_lists_every_copy_unless_asked_to_collapse(dup_engine):
    engine, articles, _ = dup_engine
    assert run(engine, per_page=100)["total"] == len(articles) + 1
    assert run(engine, per_page=100, collapse="true")["total"] == len(articles) - 1


def test_api_and_cli_requests_list_every_copy_unless_asked_to_collapse(dup_engine):
    engine, _, _ = dup_engine
    assert run(engine, q="headline:公告")["total"] == 3
    from search.query.request import SearchRequest

    folding = SearchRequest.from_params({"q": "headline:公告"})
    folding.default_collapse = True  # what the HTML page asks for
    assert engine.search(folding)["total"] == 2


@pytest.mark.parametrize("value", ["yes", "2", "none"])
def test_bad_collapse_is_a_bad_request_naming_the_parameter(value):
    from search.errors import BadRequest
    from search.query.request import SearchRequest

    with pytest.raises(BadRequest, match="^collapse: "):
        SearchRequest.from_params({"collapse": value})


def test_key_index_finds_what_a_dict_of_lists_would(monkeypatch):
    """The LSH index (sorted runs merged as they grow, and a buffer) answers exactly like a plain dict of lists,
    across many flushes and merges."""
    import random

    import numpy as np

    from search.index.reprints import _KeyIndex

    monkeypatch.setattr(_KeyIndex, "BUFFER", 50)
    rng = random.Random(5)
    index, plain = _KeyIndex(), {}
    pool = [rng.getrandbits(64) for _ in range(400)]  # a small pool, so keys repeat across members
    for member in range(3000):
        keys = np.array(rng.sample(pool, 4), dtype=np.uint64)
        index.add(keys, member)
        for k in keys.tolist():
            plain.setdefault(k, []).append(member)
        if member % 97 == 0:
            probe = np.array(rng.sample(pool, 6) + [rng.getrandbits(64)], dtype=np.uint64)
            assert index.lookup(probe) == {m for k in probe.tolist() for m in plain.get(k, ())}
    assert len(index.runs) < 12  # merged: a logarithmic number of runs, not one per flush


def test_signatures_survive_the_index_column(tmp_path, seed_articles):
    """What a later run reads back from the `minhash` column is the signature and keys this run computed."""
    import numpy as np

    from search.index.reprints import _parse_record, minhash_record, shingles, signature

    body = seed_articles["003", 0].body
    sig, keys = _parse_record(minhash_record(body))
    assert np.array_equal(sig, signature(shingles(body))) and keys.size == 32
    short_sig, short_keys = _parse_record(minhash_record("公告"))
    assert short_sig is None and short_keys.size == 1
    assert _parse_record(minhash_record(""))[1].size == 0
