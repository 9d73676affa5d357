"""The JSON API: /api/search, /api/articles/<id>, /api/articles/<id>/source, /api/articles/<id>/cite, /api/stats,
/api/export (its description, /api/openapi.json, is web/openapi.py's).

Responses are the engine's plain data; /api/search adds a `toggle_url` to every facet item and a `links` object.
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from search.cite import FORMATS as CITATION_FORMATS
from search.cite import citation, filename
from search.errors import BadRequest
from search.query.request import SearchRequest, shown
from web.engine import get_engine
from web.exports import EXPORT_FORMATS, EXTENSIONS, export_lines
from web.links import SearchLinks, decorate

bp = Blueprint("api", __name__, url_prefix="/api")


def search_result(endpoint: str, req: SearchRequest | None = None) -> tuple[SearchLinks, dict]:
    """Run the search (by default the one in the query string, validated) and add links for `endpoint`: the data
    both /api/search and the HTML page show."""
    if req is None:
        req = SearchRequest.from_params(request.args)
    links = SearchLinks(req, endpoint)
    return links, decorate(get_engine().search(req), links)


@bp.get("/search")
def search():
    _, result = search_result("api.search")
    return jsonify(result)


def single_param(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{name} was given {len(values)} times; give it once")
    return values[0] if values else None


@bp.get("/articles/<article_id>")
def article(article_id: str):
    """`{"article": {...}, "related": [hit, ...]}`; with `q`, the article has `highlights` (character ranges)."""
    q = single_param("q")
    engine = get_engine()
    found = engine.article(article_id, q=q or None)
    related = engine.related(article_id, current_app.config["RELATED_LIMIT"])
    return jsonify({"article": found, "related": related})


@bp.get("/articles/<article_id>/source")
def article_source(article_id: str):
    """The page file the article was cut from, line by line, the article's lines marked (`in_article`)."""
    return jsonify(get_engine().source_page(article_id))


@bp.get("/articles/<article_id>/cite")
def article_cite(article_id: str):
    """The article's citation in `format` (default RIS), as a download."""
    fmt = single_param("format") or "ris"
    if fmt not in CITATION_FORMATS:
        raise BadRequest(f"format: {shown(fmt)} is not one of {', '.join(CITATION_FORMATS)}")
    text = citation([get_engine().article(article_id)], fmt)
    response = Response(text, content_type=f"{CITATION_FORMATS[fmt].media_type}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(article_id, fmt)}"'
    return response


@bp.get("/stats")
def stats():
    stats = dict(get_engine().stats())
    stats["index_dir"] = Path(stats.get("index_dir", "")).name  # the server's directories stay on the server
    return jsonify(stats)


@bp.get("/export")
def export():
    """Matching articles, streamed as CSV, JSON Lines or citations (RIS, BibTeX, CSL-JSON), in the request's sort
    order, at most `limit` rows."""
    fmt = single_param("format") or "csv"
    if fmt not in EXPORT_FORMATS:
        raise BadRequest(f"format: {shown(fmt)} is not one of {', '.join(EXPORT_FORMATS)}")
    limit = export_limit(single_param("limit"))
    req = SearchRequest.from_params(request.args)
    articles = get_engine().iter_matches(req, limit)
    first = next(articles, None)  # any failure happens now, as an error response, not in the middle of a stream
    rows = chain([first], articles) if first is not None else iter(())
    response = Response(stream_with_context(export_lines(fmt, rows)), content_type=EXPORT_FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="newsearch-export.{EXTENSIONS[fmt]}"'
    return response


def export_limit(value: str | None) -> int:
    top = current_app.config["EXPORT_MAX_ROWS"]
    if value is None or value == "":
        return min(current_app.config["EXPORT_DEFAULT_ROWS"], top)
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"limit: {shown(value)} is not a whole number") from None
    if not 1 <= number <= top:
        raise BadRequest(f"limit: {number if len(value) <= 40 else shown(value)} is out of range (1–{top})")
    return number
