"""The search service: a JSON API (`web.api`) and a server-rendered browser UI (`web.views`) over one index.

Both representations are drawn from the same plain data — the engine's search result, decorated with links by
`web.links` — so the page and the API never drift. Every error becomes one shape: `{"ok": false, "error", "status"}`
on /api, a friendly Chinese page elsewhere (`web.errors`).
"""

from __future__ import annotations

import os
import threading

from flask import Flask
from markupsafe import Markup

from search.service import default_index_dir
from search.text.synonyms import synonyms_for
from web.engine import ENGINE_KEY, SYNONYMS_KEY

# Tunables of the web layer, declared once: (default, help).
WEB_SETTINGS = {
    "EXPORT_DEFAULT_ROWS": (1000, "rows an export returns when no `limit` is given"),
    "EXPORT_MAX_ROWS": (10_000, "the largest `limit` an export accepts"),
    "RELATED_LIMIT": (5, "related articles shown with an article"),
    "FEED_SIZE": (20, "entries in an Atom feed"),
    "SEARCH_TIME_LIMIT": (10.0, "seconds a search may run before it is stopped with a 503 (0: no limit)"),
    "POSTING_CACHE_MB": (512, "decoded posting lists each worker process keeps in memory (most recently used)"),
    "SYNONYMS_FILE": (
        None,
        "the archive's own synonyms file (Solr format), added to the default list; $NEWSEARCH_SYNONYMS when set",
    ),
    "DEFAULT_SYNONYMS": (True, "expand queries with newsearch's default news aliases (False: the archive's file only)"),
}


# Bidirectional overrides and embeddings (U+202A–U+202E, U+2066–U+2069) are invisible and reorder the text after them:
# in a page they could make a headline or a file name read as something else. Pages show text without them; the JSON
# API returns the data as it is.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def without_bidi_controls(value):
    """Jinja's finalize: every value a template prints, minus bidi controls (escaped or safe, it stays what it was)."""
    if not isinstance(value, str) or _BIDI_CONTROLS.keys().isdisjoint(map(ord, value)):
        return value
    stripped = value.translate(_BIDI_CONTROLS)
    return Markup(stripped) if isinstance(value, Markup) else stripped  # removing characters adds no markup


def create_app(test_config: dict | None = None) -> Flask:
    """Configuration: defaults, then `NEWSEARCH_INDEX` (the index directory) and `NEWSEARCH_SYNONYMS` (a synonyms
    file), then `test_config` (`INDEX_DIR` …; `ENGINE`: an engine to serve instead of opening INDEX_DIR, such as a
    sharded index's search.cluster.fanout.ShardedEngine). A synonyms file that cannot be used stops the app here
    (`SynonymFileError`, naming the file and line), before it serves anything."""
    app = Flask(__name__)
    app.config.from_mapping({name: default for name, (default, _) in WEB_SETTINGS.items()})
    app.config["INDEX_DIR"] = default_index_dir()  # NEWSEARCH_INDEX when set, else the project's index/
    app.config["SYNONYMS_FILE"] = os.environ.get("NEWSEARCH_SYNONYMS") or None
    if test_config:
        app.config.update(test_config)
    # read once per process: queries expand at search time, so a changed list needs a restart, never a re-index
    app.extensions[SYNONYMS_KEY] = synonyms_for(app.config["SYNONYMS_FILE"], bool(app.config["DEFAULT_SYNONYMS"]))
    # (DefaultJSONProvider's settings: Flask types app.json as the JSONProvider base, which has none)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable in JSON (which is UTF-8)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the engine's order: query, total, … hits, facets
    app.jinja_env.finalize = without_bidi_controls
    app.extensions[ENGINE_KEY + ".lock"] = threading.Lock()
    if app.config.get("ENGINE") is not None:
        app.extensions[ENGINE_KEY] = app.config["ENGINE"]

    from web import api, errors, openapi, views

    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(views.bp)
    errors.register(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


# Everything from this origin only; no inline script or style (the histogram bars use classes, not style="").
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
