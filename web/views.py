"""The browser UI: server-rendered pages over the same data the API returns (templates only format it).

/ and /search (search page), /kwic (a query's matches in context), /articles/<id> (an article),
/articles/<id>/source (the page file it was cut from), /trends (queries compared period by period), /help (the
query language), /search.atom (feed of the newest matches), /opensearch.xml (lets browsers add the search
box).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, render_template, request, send_file, url_for

from search.cite import FORMATS as CITATION_FORMATS
from search.cite import RECORD_FORMATS, STYLED_FORMATS, citation
from search.errors import BadRequest, NotFound, QueryError
from search.query.kwic import KWIC_NUMBERS, MAX_ARTICLES, MAX_LINES, KwicRequest, flat
from search.query.request import NUMBER_PARAMETERS, SearchRequest
from search.query.snippets import mark_html
from search.query.trends import MAX_QUERIES, TrendsRequest
from web.api import search_result, single_param, trends_result, with_highlights
from web.engine import get_engine, get_synonyms
from web.errors import TITLES, query_marker
from web.links import HTML_COLLAPSES, MAX_PAGE, SearchLinks, search_state

bp = Blueprint("views", __name__)

SORT_LABELS = {"relevance": "相关度", "-date": "最新在前", "date": "最早在前"}
KIND_LABELS = {"news": "消息", "notice": "公告", "commentary": "评论", "caption": "图片说明"}
# Where an article's date came from (`date_source`), as the article page names it after 日期来源：
DATE_SOURCE_LABELS = {
    "front_matter": "文件元数据",
    "given": "数据记录",
    "catalog": "目录",
    "page": "版面日期",
    "dateline": "电头",
    "text": "正文",
    "none": "未知",
}
SIMILAR_LISTED = 5  # similar articles listed under a folded hit; the rest are one link away (collapse=false)


@bp.app_template_filter("region_text")
def region_text(path: str) -> str:
    """ "湖南省/株洲市" → "湖南省 · 株洲市"."""
    return " · ".join(part for part in path.split("/") if part)


@bp.app_template_filter("basename")
def basename(path: str) -> str:
    """A source file's name without the server's directories."""
    return path.rsplit("/", 1)[-1]


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """73_295_462 → "69.9 MB" (units of 1024, as file managers show them)."""
    if size < 1024:
        return f"{size} 字节"
    value, units = size / 1024, ["KB", "MB", "GB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


@bp.app_template_filter("month_day")
def month_day(partial: str) -> str:
    """A year-less date "03-09" → "3月9日"."""
    month, _, day = partial.partition("-")
    if not (month.isdigit() and day.isdigit()):
        return partial
    return f"{int(month)}月{int(day)}日"


@bp.app_context_processor
def page_globals():
    return {"KIND_LABELS": KIND_LABELS, "DATE_SOURCE_LABELS": DATE_SOURCE_LABELS}


@bp.get("/")
def home():
    return search()


@bp.get("/search")
def search():
    try:
        req = SearchRequest.from_params(request.args, get_synonyms())
    except BadRequest as exc:
        return search_error(exc)
    if req.collapse is None:
        req.default_collapse = HTML_COLLAPSES  # readers see a reprint once, with "另有 N 篇相似报道"
    links, result = search_result("views.search", req)
    return render_template(
        "search.html",
        result=result,
        nav=page_nav(links, result),
        q=links.req.q,
        similar=similar_articles(result["hits"]),
        cite_exports=cite_export_links(links),
    )


def cite_export_links(links: SearchLinks) -> dict:
    """Citations of this search's matches for a reference manager: /api/export in RIS, BibTeX and CSL-JSON, every
    matching article (none folded) in this order, as many as an export gives without a `limit`."""
    base = links.url("api.export", page=None, per_page=None, facet_size=None, collapse=None)
    join = "&" if "?" in base else "?"
    return {
        "rows": min(current_app.config["EXPORT_DEFAULT_ROWS"], current_app.config["EXPORT_MAX_ROWS"]),
        "links": [
            {"format": fmt, "label": CITATION_FORMATS[fmt].label, "url": f"{base}{join}format={fmt}"}
            for fmt in RECORD_FORMATS
        ],
    }


def search_error(exc: BadRequest):
    """A bad query or parameter, shown on the search page: the box keeps the query (and, when only the query was
    wrong, the filters), the message says what to fix, and a query fault is marked at its character."""
    q = request.args.get("q", "")
    query_fault = isinstance(exc, QueryError)
    form = {
        "region": request.args.getlist("region"),
        **{name: request.args.get(name, "") for name in ("date_from", "date_to", "sort", "per_page", "collapse")},
    }
    html = render_template(
        "search.html",
        result=None,
        q=q,
        error={
            "status": exc.status,
            "title": "检索式有误" if query_fault else TITLES.get(exc.status, "出错了"),
            "message": exc.message,
            "marker": query_marker(q, getattr(exc, "position", None)) if query_fault else None,
            "query_fault": query_fault,
        },
        nav={"form": form if query_fault else {"region": []}},
        similar={},
    )
    return html, exc.status


def similar_articles(hits: list[dict]) -> dict[str, list[dict]]:
    """For each folded hit, headline, date and source of its first few similar articles (hit id → list)."""
    engine, listed = get_engine(), {}
    for hit in hits:
        articles = []
        for article_id in hit.get("similar_ids", [])[:SIMILAR_LISTED]:
            try:
                found = engine.article(article_id)
            except NotFound:  # removed since the search ran
                continue
            articles.append({key: found[key] for key in ("id", "headline", "date", "source")})
        if articles:
            listed[hit["id"]] = articles
    return listed


def page_nav(links: SearchLinks, result: dict) -> dict:
    """The page's own links: page numbers, sort orders, removable filter chips."""
    req = links.req
    page, pages = result["page"], min(result["pages"], MAX_PAGE)
    numbers = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)} - {0})
    page_links: list[dict | None] = []  # None: a gap
    previous = 0
    for number in numbers:
        if number - previous > 1:
            page_links.append(None)  # a gap: …
        page_links.append({"number": number, "url": links.page(number), "current": number == page})
        previous = number
    sorts = [s for s in ("relevance", "-date", "date") if s != "relevance" or not req.parsed.is_browse]
    chips = [
        {"label": f"地区：{item['value'].replace('/', ' · ')}", "url": item["toggle_url"]}
        for item in result["facets"]["region"]
        if item["selected"]
    ]
    if req.date_from or req.date_to:
        span = f"{req.date_from or '…'} 至 {req.date_to or '…'}" if req.date_from != req.date_to else req.date_from
        chips.append({"label": f"日期：{span}", "url": links.url(date_from=None, date_to=None)})
    max_count = max((item["count"] for item in result["facets"]["date"]), default=0)

    def first(name: str) -> str:  # a parameter as given (blank values were dropped: "date_from=" is no filter)
        return (links.params.get(name) or [""])[0]

    folded = any(hit.get("similar") for hit in result["hits"])
    return {
        "pages": page_links,
        "sorts": [
            {"value": s, "label": SORT_LABELS[s], "url": links.url(sort=s), "current": s == req.effective_sort}
            for s in sorts
        ],
        "chips": chips,
        # the 理解为 line's switch: synonyms off when they changed the query, back on when the reader turned them off
        "synonyms_url": links.url(synonyms="false" if req.synonyms else None),
        # folding near-duplicates: offered when it changes something (or was switched off by the reader)
        "collapse": {
            "on": req.effective_collapse,
            "url": links.collapse_toggle(),
            "all_url": links.url(collapse="false"),
        }
        if folded or req.collapse is False and not req.parsed.is_browse
        else None,
        "clear_all": links.url(region=None, date_from=None, date_to=None) if chips else None,
        "bar_width": lambda count: int(round(count * 20 / max_count)) * 5 if max_count else 0,
        "form": {
            "region": list(req.regions),
            "date_from": first("date_from"),
            "date_to": first("date_to"),
            "sort": req.sort or "",
            "per_page": first("per_page"),
            "collapse": first("collapse"),
            "synonyms": "" if req.synonyms else "false",  # a new query from this page keeps synonyms off
        },
        "per_page_default": NUMBER_PARAMETERS["per_page"][0],
        "article_url": links.article,  # each result's page, carrying this search for its way back
        "first_rank": (page - 1) * result["per_page"] + 1,
    }


# --- the concordance ---------------------------------------------------------------------------------------------
KWIC_SORT_LABELS = {
    "date": "最早在前",
    "-date": "最新在前",
    "relevance": "相关度",
    "left": "按左侧排序",
    "right": "按右侧排序",
}
KWIC_FIELD_CHOICES = {"body": "正文", "body,headline": "正文和标题", "headline": "标题"}
KWIC_FILTERS = ("region", "date_from", "date_to")  # a search's parameters the page carries (q apart)


@bp.get("/kwic")
def kwic():
    """Every place a query matched, one aligned line each, with sort links and a CSV export; without a query, the
    form alone."""
    q = request.args.get("q", "")
    if not q.strip():
        return render_template("kwic.html", result=None, q="", form=kwic_form(None), error=None)
    try:
        req = KwicRequest.from_params(request.args, get_synonyms())
    except BadRequest as exc:
        error = {
            "status": exc.status,
            "title": "检索式有误" if isinstance(exc, QueryError) else TITLES.get(exc.status, "出错了"),
            "message": exc.message,
            "marker": query_marker(q, getattr(exc, "position", None)) if isinstance(exc, QueryError) else None,
        }
        return render_template("kwic.html", result=None, q=q, form=kwic_form(None), error=error), exc.status
    result = get_engine().kwic(req)
    for line in result["lines"]:
        line["url"] = article_match_url(line, req.search.q)
        line["left_text"], line["right_text"] = flat(line["left"]), flat(line["right"])
    return render_template("kwic.html", result=result, q=req.search.q, form=kwic_form(req), nav=kwic_nav(req, result))


def kwic_url(endpoint: str = "views.kwic", **changes) -> str:
    """This page's state (its parameters as given) with `changes` (None removes one), on `endpoint`."""
    params: dict[str, Any] = {name: request.args.getlist(name) for name in request.args}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = [str(value)]
    return url_for(endpoint, **{name: values for name, values in params.items() if any(v.strip() for v in values)})


def kwic_form(req: KwicRequest | None) -> dict:
    """What the form shows: the request's options, and its filters as hidden fields."""
    width_default, width_min, width_max, _ = KWIC_NUMBERS["width"]
    return {
        "width": req.width if req else width_default,
        "width_min": width_min,
        "width_max": width_max,
        "sort": req.sort if req else "date",
        "fields": ",".join(req.fields) if req else "body",
        "sorts": KWIC_SORT_LABELS,
        "field_choices": KWIC_FIELD_CHOICES,
        "hidden": [(name, value) for name in KWIC_FILTERS for value in request.args.getlist(name) if value.strip()],
    }


def kwic_nav(req: KwicRequest, result: dict) -> dict:
    """Sort links, the pages of lines, the exports and the way back to the results page."""
    search_params: dict[str, Any] = {"q": req.search.q}
    search_params.update({name: request.args.getlist(name) for name in KWIC_FILTERS})
    return {
        "sorts": [
            {"value": s, "label": label, "url": kwic_url(sort=s, page=None), "current": s == req.sort}
            for s, label in KWIC_SORT_LABELS.items()
        ],
        "prev": kwic_url(page=req.page - 1) if req.page > 1 else None,
        "next": kwic_url(page=req.page + 1) if req.page < result["pages"] else None,
        "csv": kwic_url("api.kwic", format="csv", page=None, limit=None),
        "json": kwic_url("api.kwic"),
        "search": url_for("views.search", **search_params),
        "with_headlines": kwic_url(fields="body,headline", page=None) if req.fields == ("body",) else None,
        "first_line": (req.page - 1) * req.limit + 1,
        "max_articles": MAX_ARTICLES,
        "max_lines": MAX_LINES,
    }


def article_match_url(line: dict, q: str) -> str:
    """The article page with the query highlighted, scrolled to this match where the browser follows text
    fragments (`#:~:text=prefix-,match,-suffix`: the context of this paragraph pins the one occurrence)."""

    def part(text: str) -> str:  # the directive's own syntax characters, - , &, escaped too
        return quote(text, safe="").replace("-", "%2D")

    prefix = flat(line["left"].rsplit("\n", 1)[-1]).strip()[-8:]
    suffix = flat(line["right"].split("\n", 1)[0]).strip()[:8]
    directive = (
        (f"{part(prefix)}-," if prefix else "") + part(flat(line["match"])) + (f",-{part(suffix)}" if suffix else "")
    )
    return url_for("views.article", article_id=line["id"], q=q) + "#:~:text=" + directive


BUCKET_LABELS = {"auto": "自动", "year": "年", "month": "月", "week": "周", "day": "日"}
NORM_LABELS = {"count": "篇数", "share": "每万篇占比"}


@bp.get("/trends")
def trends():
    """Queries compared period by period: a chart, the same numbers in a table (each a link to its search), and
    the form. Without a query, the form alone; a bad parameter, the form with the message (status 400)."""
    args = request.args.copy()
    args.setlist("q", [q for q in args.getlist("q") if q.strip()])  # the form's unused boxes
    form = {
        "q": args.getlist("q")[:MAX_QUERIES],
        **{name: request.args.get(name, "") for name in ("date_from", "date_to", "bucket", "norm")},
        "region": request.args.getlist("region"),
    }
    result, error, status = None, None, 200
    if form["q"]:
        try:
            _, result = trends_result(TrendsRequest.from_params(args))
        except BadRequest as exc:
            error, status = {"status": exc.status, "message": exc.message}, exc.status
    slots = (form["q"] + [""] * MAX_QUERIES)[: max(2, min(MAX_QUERIES, len(form["q"]) + 1))]
    html = render_template(
        "trends.html",
        result=result,
        error=error,
        form=form,
        slots=slots,
        q="",
        bucket_labels=BUCKET_LABELS,
        norm_labels=NORM_LABELS,
    )
    return html, status


@bp.get("/articles/<article_id>")
def article(article_id: str):
    q = single_param("q") or ""
    engine = get_engine()
    found = with_highlights(engine.article(article_id), q or None)
    found["url"] = web_url(found["url"])  # the page links it: a javascript: or data: URL from the data is not shown
    related = engine.related(article_id, current_app.config["RELATED_LIMIT"])
    highlights = found.get("highlights", {})
    return render_template(
        "article.html",
        article=found,
        related=related,
        q=q,
        state=search_state(request.args),  # the results page it was opened from, for "返回检索结果"
        headline_html=mark_html(found["headline"], highlights.get("headline", [])),
        paragraphs=paragraphs_html(found["body"], highlights.get("body", [])),
        citations=article_citations(found),
    )


def article_citations(article: dict) -> dict:
    """The article page's 引用: references to copy (GB/T 7714, APA) and downloads for reference managers."""
    return {
        "references": [
            {"format": fmt, "label": CITATION_FORMATS[fmt].label, "text": citation([article], fmt).strip()}
            for fmt in STYLED_FORMATS
        ],
        "downloads": [
            {
                "format": fmt,
                "label": CITATION_FORMATS[fmt].label,
                "url": url_for("api.article_cite", article_id=article["id"], format=fmt),
            }
            for fmt in RECORD_FORMATS
        ],
    }


def web_url(url: str) -> str:
    """`url` if it is an http(s) address a page may link to, else ""."""
    return url if url.strip().lower().startswith(("http://", "https://")) else ""


@bp.get("/articles/<article_id>/source")
def article_source(article_id: str):
    """Where the article stands in its page file: the page, numbered, the article's lines marked (a long page: those
    lines and their context); for a bulk file, the article's own record. The whole file is a download away."""
    engine = get_engine()
    page = engine.source_page(article_id)
    found = engine.article(article_id)
    record = page.get("record")
    return render_template(
        "source.html",
        page=page,
        article=found,
        record_text=json.dumps(record, ensure_ascii=False, indent=2) if record is not None else None,
        state=search_state(request.args),
    )


@bp.get("/articles/<article_id>/source/download")
def article_source_download(article_id: str):
    """The article's whole page file, streamed from disk as a download (never read into memory)."""
    path = get_engine().source_file(article_id)
    try:
        return send_file(path, mimetype="application/octet-stream", as_attachment=True, download_name=basename(path))
    except OSError as exc:  # gone between the check and the open
        raise NotFound(f"the page file of article {article_id} is no longer readable ({basename(path)})") from exc


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
        local = [
            [max(a, first) - first, min(b, first + len(text)) - first]
            for a, b in ranges
            if a < first + len(text) and b > first
        ]
        out.append(mark_html(text, local))
    return out


# The query language (README, "Query language"): construct, what it finds, examples (each a link to its search).
HELP_CONSTRUCTS = [
    (
        "多个词",
        "同时含有这些词（默认为“与”）。词的几个字在原文中连在一起即算匹配，不论原文怎样分词："
        "“株洲”能找到“株洲市”，“复工”能找到“复工复产”。",
        ["复工 口罩"],
    ),
    (
        "短语",
        "用引号括起来：这几个字按顺序紧挨着出现（印刷版面中的换行和排版空格不算间隔）。半角、全角引号均可。",
        ['"复工企业"', "“复工企业”"],
    ),
    ("或", "含有任意一个词即可（OR 须大写）。", ["复工 OR 复产"]),
    ("排除", "含有前一个词、但不含后一个词（减号紧贴词语，或用大写 NOT）。", ["复工 -企业", "复工 NOT 企业"]),
    ("分组", "用括号把条件分组。", ["(复工 OR 复产) 株洲"]),
    (
        "字段",
        "只在某一项中查找：标题 headline:、作者 byline:、地区 region:、来源 source:"
        "（title:、author: 分别是 headline:、byline: 的别名）。",
        ["headline:公告", "byline:戴凛", "region:湖南", "source:株洲日报", "title:公告", "author:戴凛"],
    ),
    (
        "日期",
        "某年、某月、某日或某个区间内的文章（两端都含；“2020..”表示 2020 年以后）。日期不详的文章不会匹配。",
        ["date:2020-02", "date:2020-02-01..2020-03-15", "date:2020.."],
    ),
    ("繁体与全角", "繁体字按简体检索并高亮；全角标点、全角空格与半角相同。", ["復工復產", "复工　口罩"]),
    (
        "粘贴标题",
        "冒号前面不是字段名时按普通文字处理：直接粘贴一个标题，逐字相同的那篇排在最前。",
        ["陈瑶：柔肩挑重担"],
    ),
]


@bp.get("/help")
def help_page():
    constructs = [
        {"name": name, "text": text, "examples": [{"q": q, "url": url_for("views.search", q=q)} for q in examples]}
        for name, text, examples in HELP_CONSTRUCTS
    ]
    return render_template(
        "help.html",
        constructs=constructs,
        q="",
        misspelt_url=url_for("views.search", q="株州"),
        bad_url=url_for("views.search", q='"复工'),
    )


@bp.get("/search.atom")
def feed():
    """The newest matches of a search as an Atom feed (page, per_page and sort are fixed: newest first)."""
    req = SearchRequest.from_params(request.args, get_synonyms())
    req = dataclasses.replace(req, sort="-date", page=1, per_page=current_app.config["FEED_SIZE"])
    links = SearchLinks(req, "views.search")
    result = get_engine().search(req)
    indexed = _index_time()
    entries = [
        {
            **hit,
            "updated": _day_start(hit["date"]) if hit["date"] else indexed,
            "link": url_for("views.article", article_id=hit["id"], q=req.q or None, _external=True),
        }
        for hit in result["hits"]
    ]
    xml = render_template(
        "feed.atom.xml",
        result=result,
        entries=entries,
        q=req.q,
        feed_url=_absolute(url_for("views.feed"), urlencode(list(request.args.items(multi=True)))),
        html_url=request.host_url.rstrip("/") + links.url(sort=None),
        updated=max((e["updated"] for e in entries), default=indexed),
    )
    return current_app.response_class(xml, content_type="application/atom+xml; charset=utf-8")


def _absolute(path: str, query: str = "") -> str:
    return request.host_url.rstrip("/") + path + (f"?{query}" if query else "")


def _day_start(day: str) -> str:
    """The start of a (Beijing-time) day as an Atom timestamp in UTC, comparable with `_index_time`."""
    start = datetime.fromisoformat(f"{day}T00:00:00+08:00").astimezone(UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def _index_time() -> str:
    """When the index last changed, for entries without a date of their own (Atom requires one)."""
    index_dir = Path(current_app.config["INDEX_DIR"])
    mtimes = [p.stat().st_mtime for p in index_dir.iterdir() if p.is_file()] if index_dir.is_dir() else []
    stamp = datetime.fromtimestamp(max(mtimes, default=0), tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/opensearch.xml")
def opensearch():
    xml = render_template("opensearch.xml", base=request.host_url.rstrip("/"))
    return current_app.response_class(xml, content_type="application/opensearchdescription+xml; charset=utf-8")
