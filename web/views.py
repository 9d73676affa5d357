"""The browser UI: server-rendered pages over the same data the API returns (templates only format it).

/ and /search (search page), /articles/<id> (an article), /search.atom (feed of the newest matches),
/opensearch.xml (lets browsers add the search box).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from search.request import SETTINGS, SearchRequest
from search.snippets import mark_html
from web import get_engine
from web.api import search_result, single_param
from web.links import MAX_PAGE, SearchLinks

bp = Blueprint("views", __name__)

SORT_LABELS = {"relevance": "相关度", "-date": "最新在前", "date": "最早在前"}
KIND_LABELS = {"news": "消息", "notice": "公告", "commentary": "评论", "caption": "图片说明"}
DATE_SOURCE_LABELS = {"catalog": "目录", "page": "版面", "dateline": "电头", "text": "正文", "none": "不详"}


@bp.app_template_filter("region_text")
def region_text(path: str) -> str:
    """"湖南省/株洲市" → "湖南省 · 株洲市"."""
    return " · ".join(part for part in path.split("/") if part)


@bp.app_template_filter("basename")
def basename(path: str) -> str:
    """A source file's name without the server's directories."""
    return path.rsplit("/", 1)[-1]


@bp.app_context_processor
def page_globals():
    return {"KIND_LABELS": KIND_LABELS, "DATE_SOURCE_LABELS": DATE_SOURCE_LABELS}


@bp.get("/")
def home():
    return search()


@bp.get("/search")
def search():
    links, result = search_result("views.search")
    return render_template("search.html", result=result, nav=page_nav(links, result), q=links.req.q)


def page_nav(links: SearchLinks, result: dict) -> dict:
    """The page's own links: page numbers, sort orders, removable filter chips."""
    req = links.req
    page, pages = result["page"], min(result["pages"], MAX_PAGE)
    numbers = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)} - {0})
    page_links, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            page_links.append(None)  # a gap: …
        page_links.append({"number": number, "url": links.page(number), "current": number == page})
        previous = number
    sorts = [s for s in ("relevance", "-date", "date") if s != "relevance" or not req.parsed.is_browse]
    chips = [{"label": f"地区：{item['value'].replace('/', ' · ')}", "url": item["toggle_url"]}
             for item in result["facets"]["region"] if item["selected"]]
    if req.date_from or req.date_to:
        span = f"{req.date_from or '…'} 至 {req.date_to or '…'}" if req.date_from != req.date_to else req.date_from
        chips.append({"label": f"日期：{span}", "url": links.url(date_from=None, date_to=None)})
    max_count = max((item["count"] for item in result["facets"]["date"]), default=0)
    return {
        "pages": page_links,
        "sorts": [{"value": s, "label": SORT_LABELS[s], "url": links.url(sort=s),
                   "current": s == req.effective_sort} for s in sorts],
        "chips": chips,
        "clear_all": links.url(region=None, date_from=None, date_to=None) if chips else None,
        "bar_width": lambda count: int(round(count * 20 / max_count)) * 5 if max_count else 0,
        "form": {"region": list(req.regions), "date_from": links.params.get("date_from", [""])[0],
                 "date_to": links.params.get("date_to", [""])[0],
                 "sort": req.sort or "", "per_page": links.params.get("per_page", [""])[0]},
        "per_page_default": SETTINGS["per_page"][0],
        "first_rank": (page - 1) * result["per_page"] + 1,
    }


@bp.get("/articles/<article_id>")
def article(article_id: str):
    q = single_param("q") or ""
    engine = get_engine()
    found = engine.article(article_id, q=q or None)
    related = engine.related(article_id, current_app.config["RELATED_LIMIT"])
    highlights = found.get("highlights", {})
    return render_template(
        "article.html", article=found, related=related, q=q,
        headline_html=mark_html(found["headline"], highlights.get("headline", [])),
        paragraphs=paragraphs_html(found["body"], highlights.get("body", [])))


def paragraphs_html(body: str, ranges: list[list[int]]) -> list[str]:
    """The body split on line breaks, each paragraph escaped and its share of the highlight ranges marked."""
    out, at = [], 0
    for line in body.split("\n"):
        start, end = at, at + len(line)
        at = end + 1
        lead = len(line) - len(line.lstrip())  # layout indentation (全角空格): the stylesheet indents instead
        text = line.strip()
        if not text:
            continue
        first = start + lead
        local = [[max(a, first) - first, min(b, first + len(text)) - first]
                 for a, b in ranges if a < first + len(text) and b > first]
        out.append(mark_html(text, local))
    return out


@bp.get("/search.atom")
def feed():
    """The newest matches of a search as an Atom feed (page, per_page and sort are fixed: newest first)."""
    req = SearchRequest.from_params(request.args)
    req = dataclasses.replace(req, sort="-date", page=1, per_page=current_app.config["FEED_SIZE"])
    links = SearchLinks(req, "views.search")
    result = get_engine().search(req)
    indexed = _index_time()
    entries = [{**hit, "updated": _day_start(hit["date"]) if hit["date"] else indexed,
                "link": url_for("views.article", article_id=hit["id"], q=req.q or None, _external=True)}
               for hit in result["hits"]]
    xml = render_template(
        "feed.atom.xml", result=result, entries=entries, q=req.q,
        feed_url=_absolute(url_for("views.feed"), urlencode(list(request.args.items(multi=True)))), html_url=request.host_url.rstrip("/") + links.url(sort=None),
        updated=max((e["updated"] for e in entries), default=indexed))
    return current_app.response_class(xml, content_type="application/atom+xml; charset=utf-8")


def _absolute(path: str, query: str = "") -> str:
    return request.host_url.rstrip("/") + path + (f"?{query}" if query else "")


def _day_start(day: str) -> str:
    """The start of a (Beijing-time) day as an Atom timestamp in UTC, comparable with `_index_time`."""
    start = datetime.fromisoformat(f"{day}T00:00:00+08:00").astimezone(timezone.utc)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def _index_time() -> str:
    """When the index last changed, for entries without a date of their own (Atom requires one)."""
    index_dir = Path(current_app.config["INDEX_DIR"])
    mtimes = [p.stat().st_mtime for p in index_dir.iterdir() if p.is_file()] if index_dir.is_dir() else []
    stamp = datetime.fromtimestamp(max(mtimes, default=0), tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/opensearch.xml")
def opensearch():
    xml = render_template("opensearch.xml", base=request.host_url.rstrip("/"))
    return current_app.response_class(xml, content_type="application/opensearchdescription+xml; charset=utf-8")
