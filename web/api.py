"""The JSON API: /api/search, /api/kwic, /api/trends, /api/articles/<id>, /api/articles/<id>/source,
/api/articles/<id>/cite, /api/stats, /api/export (its description, /api/openapi.json, is web/openapi.py's).

Responses are the engine's plain data; /api/search adds a `toggle_url` to every facet item and a `links` object.
"""

from __future__ import annotations

import dataclasses
from itertools import chain
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context, url_for

from search.cite import FORMATS as CITATION_FORMATS
from search.cite import citation, filename
from search.errors import BadRequest
from search.query.kwic import MAX_LINES, KwicRequest
from search.query.request import SearchRequest, shown
from search.query.snippets import article_highlights
from search.query.trends import TrendsRequest, trend_rows
from web.engine import get_engine, get_synonyms
from web.exports import EXPORT_FORMATS, EXTENSIONS, export_lines, kwic_csv, table_csv
from web.links import SearchLinks, decorate

bp = Blueprint("api", __name__, url_prefix="/api")


def search_result(endpoint: str, req: SearchRequest | None = None) -> tuple[SearchLinks, dict]:
    """Run the search (by default the one in the query string, validated) and add links for `endpoint`: the data
    both /api/search and the HTML page show."""
    if req is None:
        req = SearchRequest.from_params(request.args, get_synonyms())
    links = SearchLinks(req, endpoint)
    return links, decorate(get_engine().search(req), links)


@bp.get("/search")
def search():
    _, result = search_result("api.search")
    return jsonify(result)


KWIC_FORMATS = ("json", "csv")


@bp.get("/kwic")
def kwic():
    """Concordance lines of a query (search/query/kwic.py); `format=csv` writes every line found (at most
    MAX_LINES, in the requested order; page and limit are ignored), spreadsheet-safe."""
    fmt = format_param(KWIC_FORMATS, "json")
    req = KwicRequest.from_params(request.args, get_synonyms())
    if fmt == "json":
        return jsonify(get_engine().kwic(req))
    everything = dataclasses.replace(req, page=1, limit=MAX_LINES)
    response = Response(kwic_csv(get_engine().kwic(everything)["lines"]), content_type=EXPORT_FORMATS["csv"])
    response.headers["Content-Disposition"] = 'attachment; filename="newsearch-kwic.csv"'
    return response


TREND_FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def trends_result(req: TrendsRequest | None = None) -> tuple[TrendsRequest, dict]:
    """The trends of the query string (validated), each point with the link to the search it counts: the data
    both /api/trends and the /trends page show."""
    if req is None:
        req = TrendsRequest.from_params(request.args)
    result = get_engine().trends(req)
    filters: dict[str, Any] = {"region": req.regions or None}
    for series in result["series"]:
        # collapse=false: the page then lists as many articles as the point counts (it folds reprints by default)
        series["search_urls"] = [
            url_for("views.search", q=series["q"], **filters, date_from=p["from"], date_to=p["to"], collapse="false")
            for p in result["periods"]
        ]
    params: dict[str, Any] = {
        "q": req_qs(req),
        **filters,
        "date_from": req.filters.date_from,
        "date_to": req.filters.date_to,
        "bucket": req.bucket,
        "norm": req.norm,
    }
    result["links"] = {
        "html": url_for("views.trends", **params),
        "json": url_for("api.trends", **params),
        "csv": url_for("api.trends", **params, format="csv"),
    }
    return req, result


def req_qs(req: TrendsRequest) -> list[str]:
    return [sub.q for sub in req.queries]


@bp.get("/trends")
def trends():
    """Each query's matches per period (`norm=share`: per 10,000 articles of the period), as JSON or CSV."""
    fmt = format_param(TREND_FORMATS, "json")
    _, result = trends_result()
    if fmt == "json":
        return jsonify(result)
    response = Response(table_csv(trend_rows(result)), content_type=TREND_FORMATS["csv"])
    response.headers["Content-Disposition"] = 'attachment; filename="newsearch-trends.csv"'
    return response


def single_param(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{name} was given {len(values)} times; give it once")
    return values[0] if values else None


def format_param(allowed, default: str) -> str:
    """The request's `format` (given at most once; `default` when absent), one of `allowed`."""
    fmt = single_param("format") or default
    if fmt not in allowed:
        raise BadRequest(f"format: {shown(fmt)} is not one of {', '.join(allowed)}")
    return fmt


@bp.get("/articles/<article_id>")
def article(article_id: str):
    """`{"article": {...}, "related": [hit, ...]}`; with `q`, the article has `highlights` (character ranges)."""
    q = single_param("q")
    engine = get_engine()
    found = with_highlights(engine.article(article_id), q)
    related = engine.related(article_id, current_app.config["RELATED_LIMIT"])
    return jsonify({"article": found, "related": related})


def with_highlights(article: dict, q: str | None) -> dict:
    """The article with `highlights` for query `q` (when given), its words expanded as a search with the same
    `synonyms` parameter expands them: the marks are what the search matched."""
    if q:
        req = SearchRequest.from_params({"q": q, "synonyms": single_param("synonyms") or ""}, get_synonyms())
        article["highlights"] = article_highlights(article, req.parsed.highlight)
    return article


@bp.get("/articles/<article_id>/source")
def article_source(article_id: str):
    """The page file the article was cut from, line by line, the article's lines marked (`in_article`)."""
    return jsonify(get_engine().source_page(article_id))


@bp.get("/articles/<article_id>/cite")
def article_cite(article_id: str):
    """The article's citation in `format` (default RIS), as a download."""
    fmt = format_param(CITATION_FORMATS, "ris")
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
    fmt = format_param(EXPORT_FORMATS, "csv")
    limit = export_limit(single_param("limit"))
    req = SearchRequest.from_params(request.args, get_synonyms())
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
