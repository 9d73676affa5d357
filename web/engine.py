"""The app's engine, shared by the API and the views: opened once per process on first use."""

from __future__ import annotations

from flask import current_app

from search.service import Engine, open_engine
from search.text.synonyms import Synonyms

ENGINE_KEY = "newsearch.engine"
SYNONYMS_KEY = "newsearch.synonyms"


def get_synonyms() -> Synonyms:
    """The synonyms the app's searches expand with (read by create_app: the default list and SYNONYMS_FILE)."""
    return current_app.extensions[SYNONYMS_KEY]


def get_engine() -> Engine:
    """The app's engine, opened on first use (so a missing index is a 503 per request, not a crash at
    start-up, and begins to work once the index is built). The engine keeps one searcher per thread itself."""
    app = current_app
    engine = app.extensions.get(ENGINE_KEY)
    if engine is None:
        with app.extensions[ENGINE_KEY + ".lock"]:
            engine = app.extensions.get(ENGINE_KEY)
            if engine is None:
                engine = open_engine(
                    app.config["INDEX_DIR"],  # raises IndexUnavailable (503)
                    time_limit=app.config["SEARCH_TIME_LIMIT"],
                    posting_cache_mb=int(app.config["POSTING_CACHE_MB"]),
                )
                app.extensions[ENGINE_KEY] = engine
    return engine
