"""Shared fixtures: one seed index per test session, the Flask app and clients over it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = ROOT / "tests" / "data"  # labelled data shipped with the project (tests/data/README.md)
GOLD_FILE = DATA / "seeds-gold.json"
QUERIES_FILE = DATA / "seeds-queries-dev.json"
SYNTH = DATA / "tools" / "synth.py"

collect_ignore = ["data"]  # labelled data and the scripts copied with it, not tests


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """The seeds, indexed once for the whole session. Tests must not write to it."""
    from search.index.sync import index_paths

    index_dir = tmp_path_factory.mktemp("seed-index")
    summary = index_paths(index_dir, [SEEDS])
    assert summary.ok and summary.added > 0, summary.errors
    return index_dir


@pytest.fixture(scope="session")
def engine(seed_index):
    from search.query.engine import SearchEngine

    return SearchEngine(seed_index)


@pytest.fixture(scope="session")
def gold() -> list[dict]:
    return json.loads(GOLD_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def dev_queries() -> list[dict]:
    return json.loads(QUERIES_FILE.read_text(encoding="utf-8"))["queries"]


@pytest.fixture(scope="session")
def app(seed_index):
    """The web app over the seed index."""
    from web import create_app

    return create_app({"INDEX_DIR": str(seed_index), "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def search(engine):
    """Run a search with API-style parameters and return the result dict."""
    from search.query.request import SearchRequest

    def run(**params):
        return engine.search(SearchRequest.from_params(params))

    return run


def synth_articles(out: Path, n: int, seed: int) -> Path:
    """`n` generated articles (JSON Lines, the bulk-import format) from the seed sentences: tests/data/tools/synth.py,
    deterministic in (n, seed)."""
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, str(SYNTH), "--n", str(n), "--seed", str(seed), "--seeds", str(SEEDS), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def _squash(text: str) -> str:
    import re

    return re.sub(r"[\s\u3000\xa0|#]+", "", text or "")


@pytest.fixture(scope="session")
def all_articles(engine) -> dict[str, dict]:
    """Every indexed seed article, by id, read straight from the stored documents."""
    searcher = engine.searcher()
    from search.index.schema import from_stored

    return {doc["id"]: from_stored(doc) for doc in searcher.all_stored_fields()}


@pytest.fixture(scope="session")
def gold_ids(gold, all_articles) -> dict[str, str]:
    """Gold article id ("003#5") → engine id, found by the gold first sentence inside the article text."""
    texts = {i: _squash(a["headline"] + a["subheadline"] + a["body"]) for i, a in all_articles.items()}
    mapping = {}
    for g in gold:
        first = _squash(g["first_sentence"])
        keys = [k for k in (first[:20], first[10:30], first[-12:]) if len(k) >= 8]
        found = [i for i, t in texts.items() if any(k in t for k in keys) and i not in mapping.values()]
        if found:
            mapping[g["id"]] = min(
                found, key=lambda i: (_squash(all_articles[i]["headline"]) != _squash(g["headline"]), len(texts[i]))
            )
    return mapping


REAL_INDEX = os.environ.get("NEWSEARCH_REAL_INDEX")  # an index of a real archive (the 36k 新闻联播 corpus), read only


def pytest_collection_modifyitems(config, items):
    """Tests that start Ray carry the `ray` mark, whichever module they are in: they need the fixture that starts it.
    Tests marked `real_archive` run only when NEWSEARCH_REAL_INDEX names a real archive's index: without one they
    are deselected (the real text is not ours to ship), never skipped."""
    for item in items:
        if "ray_session" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.ray)
    if not REAL_INDEX:
        left_out = [item for item in items if item.get_closest_marker("real_archive")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("real_archive")]
