"""Links between search states: every state is a URL, so facet toggles, pages and sort orders are plain links.

`SearchLinks` starts from the parameters as the reader gave them and changes only what a link changes; any change
except a page change returns to page 1. The same code builds /api/search links (API items) and /search links (page
items), so a facet's `toggle_url` round-trips on either.
"""

from __future__ import annotations

from urllib.parse import quote_plus

from flask import url_for

from search.query.request import NUMBER_PARAMETERS, SearchRequest, within

MAX_PAGE = NUMBER_PARAMETERS["page"][2]  # pages beyond this are refused by the request parser, so never linked

# Parameter order in built URLs, so the same state always has the same (shareable, cacheable) URL.
ORDER = ("q", "region", "date_from", "date_to", "sort", "collapse", "synonyms", "per_page", "facet_size", "page")

ENDPOINTS = {"api": "api.search", "html": "views.search", "atom": "views.feed"}


def search_state(args) -> dict[str, list[str]]:
    """The search parameters among a request's `args` (blank values dropped), in URL order: what an article link
    carries of the results page it was on, so the article page (and its source page) can lead back to that page."""
    state = {}
    for name in ORDER:
        values = [v for v in args.getlist(name) if v.strip()]
        if values:
            state[name] = values
    return state


class SearchLinks:
    def __init__(self, req: SearchRequest, endpoint: str):
        self.req = req
        self.endpoint = endpoint
        self.params: dict[str, list[str]] = {k: [v for v in vals if v.strip()] for k, vals in req.raw.items()}
        self.params["region"] = list(req.regions)
        self._bases: dict[str, str] = {}  # endpoint → its path
        self._quoted: dict[str, str] = {}  # value → as urlencode writes it (a page has about a hundred links)

    def url(self, endpoint: str | None = None, **changes) -> str:
        """This state with `changes` (None or [] removes a parameter), on `endpoint` (default: this one)."""
        params = {k: v for k, v in self.params.items() if k != "page"}
        if "page" in changes and changes["page"] not in (None, 1):
            params["page"] = [str(changes.pop("page"))]
        changes.pop("page", None)
        for name, value in changes.items():
            if value is None or value == [] or value == "":
                params.pop(name, None)
            else:
                params[name] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        endpoint = endpoint or self.endpoint
        base = self._bases.get(endpoint)
        if base is None:
            base = self._bases[endpoint] = url_for(endpoint)
        return self._with_query(base, params)

    def _with_query(self, base: str, params: dict[str, list[str]]) -> str:
        query = "&".join(
            f"{name}={self._quote(value)}" for name in ORDER for value in params.get(name, []) if value != ""
        )  # the names are plain ASCII: urlencode leaves them as they are
        return f"{base}?{query}" if query else base

    def _quote(self, value: str) -> str:
        quoted = self._quoted.get(value)
        if quoted is None:
            quoted = self._quoted[value] = quote_plus(value)
        return quoted

    def region_toggle(self, value: str) -> str:
        """A selected region's link removes it; another's adds it in place of the chosen regions it contains or lies
        in: a city under the chosen province replaces the province (drill down), a province over a chosen city
        replaces the city (back up). Other regions stay, ORed."""
        regions = list(self.req.regions)
        if value in regions:
            return self.url(region=[r for r in regions if r != value])
        kept = [r for r in regions if not within(value, r) and not within(r, value)]
        return self.url(region=kept + [value])

    def date_toggle(self, item: dict) -> str:
        if item["selected"]:
            return self.url(date_from=None, date_to=None)
        return self.url(date_from=item["from"], date_to=item["to"])

    def page(self, number: int) -> str:
        return self.url(page=number)

    def article(self, article_id: str) -> str:
        """An article's page, carrying this search (query, filters, sort, page) for its way back."""
        page = [str(self.req.page)] if self.req.page != 1 else []
        return self._with_query(url_for("views.article", article_id=article_id), {**self.params, "page": page})

    def collapse_toggle(self) -> str:
        """This search with near-duplicates folded if they are listed one by one, and listed if they are folded."""
        return self.url(collapse="false" if self.req.effective_collapse else "true")


HTML_COLLAPSES = True  # the search page folds near-duplicates unless told not to; the API and CLI list every article


def same_collapse(req: SearchRequest, target_default: bool) -> dict:
    """`collapse` for a link to another representation whose default differs, so it shows the same results."""
    if req.collapse is not None or req.parsed.is_browse or req.effective_collapse == target_default:
        return {}
    return {"collapse": "true" if req.effective_collapse else "false"}


def decorate(result: dict, links: SearchLinks) -> dict:
    """The engine's result with a `toggle_url` on every facet item, a `url` on every suggestion, and a `links` object (self, prev, next, and the
    same state as HTML, JSON and Atom). Changes `result` in place and returns it."""
    for item in result["facets"]["region"]:
        item["toggle_url"] = links.region_toggle(item["value"])
    for item in result["facets"]["date"]:
        item["toggle_url"] = links.date_toggle(item)
    for suggestion in result.get("suggestions", []):  # "did you mean": the corrected query, same filters
        suggestion["url"] = links.url(q=suggestion["q"])
    page, pages = result["page"], min(result["pages"], MAX_PAGE)
    result["links"] = {
        "self": links.page(page),
        "prev": links.page(page - 1) if page > 1 else None,
        "next": links.page(page + 1) if page < pages else None,
        "html": links.url(ENDPOINTS["html"], page=page, **same_collapse(links.req, HTML_COLLAPSES)),
        "json": links.url(ENDPOINTS["api"], page=page, **same_collapse(links.req, False)),
        "atom": links.url(ENDPOINTS["atom"], page=None, per_page=None, sort=None, facet_size=None),
    }
    return result
