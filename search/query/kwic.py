"""Concordance (KWIC, key word in context): one line per place a query matched, with N characters either side.

The places are the snippet highlighter's ranges (`snippets.highlight_ranges`), not a second matcher: a line's
`offset` is exactly where the search page's snippets and the article page mark the same match (traditional
characters, full-width letters and words broken by layout included), and `text[offset:offset + len(match)]` is the
match. Which articles are read is a search's own answer (`iter_matches`), so the article count equals the search's
total for the same query and filters.

A request reads at most `MAX_ARTICLES` articles (in relevance order, or date order when sorted by date) and keeps at
most `MAX_LINES` lines; the answer says how many articles matched, how many were read and whether the lines were
capped.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from search.errors import BadRequest, QueryError
from search.query.request import SearchRequest, bounded, param_lists, shown, single
from search.query.snippets import highlight_ranges
from search.text.synonyms import Synonyms

# The numeric parameters, declared once: (default, lowest, highest, help).
KWIC_NUMBERS = {
    "width": (20, 1, 80, "characters of context on each side of a match"),
    "limit": (100, 1, 1000, "lines per page"),
    "page": (1, 1, 1000, "page of lines"),
}
# left: by the context before the match read backwards from it (the word just before the match first); right: by
# the context after it; date / -date / relevance: in the articles' order (oldest first / newest first / best
# first), then in text order. Characters compare by code point (after folding case and whitespace).
KWIC_SORTS = ("date", "-date", "relevance", "left", "right")
DEFAULT_SORT = "date"
KWIC_FIELDS = ("body", "headline")
# The parameters a concordance reads itself; every other parameter is a search's (q, region, date_from, date_to …),
# except the ones that shape a results page, which a concordance has no use for.
OWN_PARAMETERS = ("width", "sort", "limit", "page", "fields", "format")
RESULTS_PAGE_PARAMETERS = ("per_page", "facet_size", "collapse")
MAX_ARTICLES = 2000  # articles read per request (a common word matches most of an archive)
MAX_LINES = 10_000  # lines kept per request: also the most a CSV export writes

_WHITESPACE = re.compile(r"\s+")


@dataclass
class KwicRequest:
    search: SearchRequest  # the query and filters, as /api/search takes them
    width: int = KWIC_NUMBERS["width"][0]
    sort: str = DEFAULT_SORT
    limit: int = KWIC_NUMBERS["limit"][0]
    page: int = 1
    fields: tuple[str, ...] = ("body",)

    @property
    def scan(self) -> SearchRequest:
        """The search whose articles are read: every matching article (never folded), best first for a sort by
        context or relevance, by date for a sort by date."""
        order = self.sort if self.sort in ("date", "-date") else "relevance"
        return dataclasses.replace(self.search, sort=order, page=1, collapse=False)

    @classmethod
    def from_params(cls, params: Mapping, thesaurus: Synonyms | None = None) -> KwicRequest:
        """From a Werkzeug MultiDict (or any mapping of name → value or list of values); a bad parameter is a
        BadRequest naming it. `thesaurus`: the synonyms the search expands with (None: the default list)."""
        get_all = param_lists(params)
        search_params = {name: get_all(name) for name in params if name not in OWN_PARAMETERS + RESULTS_PAGE_PARAMETERS}
        search = SearchRequest.from_params(search_params, thesaurus)
        if search.parsed.is_browse:
            raise BadRequest("q: give a query: a concordance shows the places a query matched")
        sort = single("sort", get_all("sort")) or DEFAULT_SORT
        if sort not in KWIC_SORTS:
            raise BadRequest(f"sort: {shown(sort)} is not one of {', '.join(KWIC_SORTS)}")
        req = cls(
            search=search,
            width=bounded("width", single("width", get_all("width")), KWIC_NUMBERS),
            sort=sort,
            limit=bounded("limit", single("limit", get_all("limit")), KWIC_NUMBERS),
            page=bounded("page", single("page", get_all("page")), KWIC_NUMBERS),
            fields=_fields(get_all("fields")),
        )
        if not any(search.parsed.highlight.get(name) for name in req.fields):
            raise QueryError(
                f"q: {shown(search.q)} has no words to find in the {' or '.join(req.fields)} "
                "(byline:, region:, source: and date: match other fields; a concordance needs a word or phrase)"
            )
        return req


def article_lines(article: dict, highlight: dict[str, list[str]], fields: Iterable[str], width: int) -> list[dict]:
    """The concordance lines of one article: every highlighted range of each field, with `width` characters of
    the field's text either side (exact slices: `left + match + right` is a piece of the text)."""
    lines = []
    for name in fields:
        text = article.get(name) or ""
        for start, end in highlight_ranges(text, highlight.get(name, [])):
            lines.append(
                {
                    "id": article["id"],
                    "headline": article["headline"],
                    "date": article["date"],
                    "region": article["region"],
                    "source": article.get("source", ""),
                    "field": name,
                    "offset": start,
                    "left": text[max(0, start - width) : start],
                    "match": text[start:end],
                    "right": text[end : end + width],
                }
            )
    return lines


def flat(text: str) -> str:
    """Context as one line: each run of whitespace (line breaks, layout's full-width spaces) as one space."""
    return _WHITESPACE.sub(" ", text)


def _collated(text: str) -> str:
    return flat(text).casefold()


SORT_KEYS: dict[str, Callable[[dict], tuple]] = {
    "left": lambda line: (_collated(line["left"])[::-1], _collated(line["match"]), _collated(line["right"])),
    "right": lambda line: (_collated(line["right"]), _collated(line["match"]), _collated(line["left"])[::-1]),
}


def sort_lines(lines: list[dict], sort: str) -> list[dict]:
    """Lines in `sort` order. They come in the articles' order (the scan's), each article's in text order, which is
    the order for date, -date and relevance, and breaks ties of equal contexts."""
    key = SORT_KEYS.get(sort)
    return sorted(lines, key=key) if key is not None else lines


def concordance(
    req: KwicRequest,
    total: int,
    articles: Iterable[dict],
    started: float,
    check: Callable[[], None] = lambda: None,
) -> dict:
    """The concordance of `articles` (the scan's matches in its order, at most MAX_ARTICLES: the engine reads no
    more); `total`: how many articles match in all (the search's total); `check` raises when the time budget is
    spent."""
    highlight = req.search.parsed.highlight
    lines: list[dict] = []
    scanned = 0
    for article in articles:
        check()
        scanned += 1
        lines.extend(article_lines(article, highlight, req.fields, req.width))
        if len(lines) >= MAX_LINES:
            break
    capped = scanned < total or len(lines) > MAX_LINES
    lines = sort_lines(lines[:MAX_LINES], req.sort)
    offset = (req.page - 1) * req.limit
    parsed = req.search.parsed
    return {
        "query": {
            "q": req.search.q,
            "parsed": parsed.parsed,
            "ignored": parsed.ignored,
            "filters": {"region": req.search.regions, "date_from": req.search.date_from, "date_to": req.search.date_to},
        },
        "width": req.width,
        "sort": req.sort,
        "fields": list(req.fields),
        "articles": total,
        "articles_scanned": scanned,
        "articles_with_lines": len({line["id"] for line in lines}),
        "matches": len(lines),
        "capped": capped,
        "page": req.page,
        "limit": req.limit,
        "pages": -(-len(lines) // req.limit),
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "lines": lines[offset : offset + req.limit],
    }


def _fields(values: list[str]) -> tuple[str, ...]:
    """`fields=body,headline` or `fields=body&fields=headline`; default the body."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if name not in KWIC_FIELDS:
            raise BadRequest(f"fields: {shown(name)} is not one of {', '.join(KWIC_FIELDS)}")
    return tuple(dict.fromkeys(names)) or ("body",)
