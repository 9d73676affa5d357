"""Facet arrays kept across commits: a new snapshot reuses what was read of its unchanged segments and gives exactly
the arrays a fresh read gives."""

from __future__ import annotations

import json

import numpy as np
from conftest import SEEDS


def articles(prefix: str, count: int, region: str) -> str:
    return "".join(
        json.dumps(
            {
                "id": f"{prefix}-{i}",
                "headline": f"{region}春耕备耕第{i}期",
                "body": f"{region}各地抓好春耕备耕。" * (i % 3 + 1),
                "region": region,
                "date": f"2020-03-{i % 28 + 1:02d}",
            },
            ensure_ascii=False,
        )
        + "\n"
        for i in range(count)
    )


def same_arrays(a, b) -> bool:
    return (
        a.doc_count == b.doc_count
        and a.region_terms == b.region_terms
        and all(
            np.array_equal(getattr(a, name), getattr(b, name))
            for name in ("live", "region_docs", "region_ids", "dates", "clusters", "seq")
        )
    )


def test_a_commit_rereads_only_new_or_changed_segments(tmp_path):
    from search.index.sync import delete_articles, index_paths
    from search.query.engine import SearchEngine
    from search.query.facets import FacetArrays
    from search.query.request import SearchRequest

    index_dir = tmp_path / "ix"
    assert index_paths(index_dir, [SEEDS]).ok
    engine = SearchEngine(index_dir)
    before = engine.facet_arrays(engine.searcher())
    assert before._segments and before.clusters.max() >= 0

    more = tmp_path / "more"
    more.mkdir()
    (more / "hunan.jsonl").write_text(articles("hn", 30, "湖南/长沙市"), encoding="utf-8")
    assert index_paths(index_dir, [more]).added == 30
    (more / "hebei.jsonl").write_text(articles("hb", 20, "河北/石家庄市"), encoding="utf-8")
    assert index_paths(index_dir, [more]).added == 20
    removed, unknown = delete_articles(index_dir, ["hn-3", "hb-5"])
    assert sorted(removed) == ["hb-5", "hn-3"] and not unknown

    after = engine.facet_arrays(engine.searcher())
    fresh = FacetArrays.build(engine.searcher().reader())
    assert after is not before and same_arrays(after, fresh)
    assert after.doc_count > before.doc_count and int(after.live.sum()) == int(before.live.sum()) + 48
    kept = set(before._segments) & set(after._segments)
    assert kept  # the seeds' segment, untouched by the commits
    assert all(after._segments[key] is before._segments[key] for key in kept)
    # the counts a search sees: the deleted articles are gone, the new ones counted under their regions
    result = engine.search(SearchRequest.from_params({"q": "春耕备耕", "region": "湖南", "per_page": "50"}))
    assert result["total"] == 29 and "hn-3" not in {h["id"] for h in result["hits"]}
    engine.close()
