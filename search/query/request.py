"""A search request: the parameters shared by the JSON API, the HTML page and the CLI, validated once.

Every bad parameter becomes a `BadRequest` whose message names the parameter and what it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from search.errors import BadRequest, QueryError
from search.query.expansion import with_synonyms
from search.query.language import ParsedQuery, parse_query
from search.text.dates import date_range
from search.text.synonyms import Synonyms, default_synonyms

# The numeric request parameters, declared once: (default, lowest, highest, help).
NUMBER_PARAMETERS = {
    "per_page": (10, 1, 100, "results per page"),
    "page": (1, 1, 1000, "page number (pages beyond the limit are not served: narrow the query instead)"),
    "facet_size": (10, 1, 100, "values shown per facet level"),
}
SORTS = ("relevance", "date", "-date")
PARAMETERS = ("q", "region", "date_from", "date_to", "sort", "page", "per_page", "facet_size", "collapse", "synonyms")
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@dataclass
class SearchRequest:
    q: str = ""
    regions: list[str] = field(default_factory=list)
    date_from: str | None = None  # inclusive ISO day bounds
    date_to: str | None = None
    sort: str | None = None  # None: relevance for a query, newest first for a browse
    page: int = 1
    per_page: int = 10
    facet_size: int = 10
    collapse: bool | None = None  # fold near-duplicates into one hit with "N similar"; None: the caller's default
    synonyms: bool = True  # search each word with its synonyms (the `synonyms` parameter)
    raw: dict = field(default_factory=dict)  # the parameters as given, for building links
    # the list to expand with: newsearch's default list unless the caller (the app, the CLI) has the archive's own
    thesaurus: Synonyms = field(default_factory=default_synonyms, repr=False, compare=False)

    _parsed: ParsedQuery | None = None

    @property
    def parsed(self) -> ParsedQuery:
        if self._parsed is None:
            self._parsed = parse_with_synonyms(self.q, self.thesaurus if self.synonyms else None)
        return self._parsed

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return "-date" if self.parsed.is_browse else "relevance"

    default_collapse: bool = False  # the HTML page folds reprints for readers; API and CLI list every article

    @property
    def effective_collapse(self) -> bool:
        """Fold each near-duplicate cluster into its best-ranked member? As asked; else the caller's default, and never
        for a browse (an archive listing, and the way outside tools enumerate the index) unless asked."""
        if self.collapse is not None:
            return self.collapse
        return self.default_collapse and not self.parsed.is_browse

    @classmethod
    def from_params(cls, params: Mapping, thesaurus: Synonyms | None = None) -> SearchRequest:
        """From a Werkzeug MultiDict (or any mapping of name → value or list of values); `thesaurus`: the synonyms
        to expand with (None: newsearch's default list)."""
        get_all = param_lists(params)
        one = {k: single(k, get_all(k)) for k in PARAMETERS if k != "region"}
        regions = _regions([r.strip() for r in get_all("region") if r and r.strip()])
        for name in ("date_from", "date_to"):
            value = one[name]
            if value and len(value) > 40:  # not a date; and never echo a huge value back
                raise BadRequest(f"{name}: {shown(value)} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
            try:
                date_range(value or None, None)
            except ValueError as exc:
                raise BadRequest(f"{name}: {exc}") from None
        try:
            date_from, date_to = date_range(one["date_from"] or None, one["date_to"] or None)
        except ValueError as exc:
            raise BadRequest(f"date_from/date_to: {exc}") from None
        sort = one["sort"] or None
        if sort is not None and sort not in SORTS:
            raise BadRequest(f"sort: {shown(sort)} is not one of {', '.join(SORTS)}")
        collapse, synonyms = (_boolean(name, one[name]) for name in ("collapse", "synonyms"))
        req = cls(
            q=one["q"] or "",
            regions=regions,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            collapse=collapse,
            synonyms=synonyms is not False,
            thesaurus=default_synonyms() if thesaurus is None else thesaurus,
            page=bounded("page", one["page"]),
            per_page=bounded("per_page", one["per_page"]),
            facet_size=bounded("facet_size", one["facet_size"]),
            raw={k: get_all(k) for k in PARAMETERS if get_all(k)},
        )
        try:
            _ = req.parsed  # parse now, so a bad query is reported like the other parameters
        except QueryError as exc:
            exc.message = f"q: {exc.message}"
            exc.args = (exc.message,)
            raise
        return req

    def filters(self) -> dict:
        return {
            "region": self.regions,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "sort": self.effective_sort,
        }


def parse_with_synonyms(q: str | None, thesaurus: Synonyms | None) -> ParsedQuery:
    """The query `q`, its words expanded with `thesaurus` (None: as typed)."""
    parsed = parse_query(q)
    return with_synonyms(parsed, thesaurus) if thesaurus is not None else parsed


def _boolean(name: str, value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.strip().lower() not in BOOLEANS:
        raise BadRequest(f"{name}: {shown(value)} is not one of true, false, 1, 0")
    return BOOLEANS[value.strip().lower()]


# The region parameter: at most MAX_REGIONS values of at most MAX_REGION_LENGTH characters, each a division's path
# (湖南省/株洲市) or a form of it that resolves to one path (湖南省株洲市, 株洲). The full paths are this pattern's
# strings — names from the province down, joined by "/" — that the gazetteer knows (search.text.regions.division_paths).
MAX_REGIONS, MAX_REGION_LENGTH = 50, 100
REGION_PATH_PATTERN = r"^[\u4e00-\u9fff]+(/[\u4e00-\u9fff]+){0,2}$"


def _regions(values: list[str]) -> list[str]:
    """Region filters as full paths: 湖南省株洲市, 湖南省/株洲市 and 株洲 all mean 湖南省/株洲市."""
    from search.text.regions import normalize_path

    if len(values) > MAX_REGIONS:
        raise BadRequest(f"region: too many values (the limit is {MAX_REGIONS})")
    paths = []
    for value in values:
        path = normalize_path(value) if len(value) <= MAX_REGION_LENGTH else None
        if path is None:
            raise BadRequest(
                f"region: {value[:40]!r} is not a known administrative division "
                "(use a name such as 湖南省 or 湖南省/株洲市)"
            )
        if path not in paths:
            paths.append(path)
    return narrowest(paths)


def within(path: str, region: str) -> bool:
    """Is `path` strictly inside `region` (湖南省/株洲市 inside 湖南省)?"""
    return path.startswith(region + "/")


def narrowest(paths: list[str]) -> list[str]:
    """The regions to filter by: a region with another chosen region inside it gives way to it (湖南省 and
    湖南省/株洲市 mean a drill-down to 株洲市: the child narrows), while siblings and unrelated regions stay, to be
    ORed. Order kept."""
    return [p for p in paths if not any(within(other, p) for other in paths)]


def param_lists(params) -> Callable[[str], list[str]]:
    """A parameter's values from a werkzeug MultiDict (repeatable) or a plain dict of values or lists (the CLI)."""
    return params.getlist if hasattr(params, "getlist") else (lambda name: _as_list(params.get(name)))


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def single(name: str, values: list[str]) -> str | None:
    if len(values) > 1:
        raise BadRequest(f"{name} was given {len(values)} times; give it once")
    return values[0] if values else None


def bounded(name: str, value: str | None, table: dict = NUMBER_PARAMETERS) -> int:
    """Parameter `name`'s whole number within `table`'s (default, lowest, highest, …) bounds."""
    default, lo, hi, _ = table[name]
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name}: {shown(value)} is not a whole number") from None
    if not lo <= number <= hi:
        raise BadRequest(f"{name}: {number if len(value) <= 40 else shown(value)} is out of range ({lo}–{hi})")
    return number


def shown(value: str, limit: int = 40) -> str:
    """A parameter value quoted for an error message, cut short: an error never echoes a huge value back."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"… ({len(value)} characters)"
