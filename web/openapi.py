"""The OpenAPI 3.1 description of /api, built from the same registries the request parser uses (`NUMBER_PARAMETERS`, `SORTS`),
so documented bounds and enums cannot drift from the enforced ones."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from search.article import DATE_SOURCES
from search.cite import FORMATS as CITATION_FORMATS
from search.cite import RECORD_FORMATS
from search.query.kwic import DEFAULT_SORT, KWIC_FIELDS, KWIC_NUMBERS, KWIC_SORTS, MAX_ARTICLES, MAX_LINES
from search.query.periods import BUCKETS
from search.query.request import MAX_REGION_LENGTH, MAX_REGIONS, NUMBER_PARAMETERS, REGION_PATH_PATTERN, SORTS
from search.query.trends import MAX_PERIODS, MAX_QUERIES, NORMS, SHARE_PER
from search.text.regions import division_paths
from web.api import KWIC_FORMATS
from web.exports import CSV_COLUMNS, EXPORT_FORMATS, KWIC_CSV_COLUMNS

bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def spec():
    return jsonify(openapi_document())


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _bounded(name: str) -> dict:
    default, lo, hi, help_text = NUMBER_PARAMETERS[name]
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": help_text,
        "schema": {"type": "integer", "minimum": lo, "maximum": hi, "default": default},
    }


DATE_PATTERN = r"^\d{4}(-\d{1,2}(-\d{1,2})?)?$"
NULLABLE_STRING = {"type": ["string", "null"]}
STRINGS = {"type": "array", "items": {"type": "string"}}


def search_parameters() -> list[dict]:
    return [
        {
            "name": "q",
            "in": "query",
            "required": False,
            "description": 'The query (words, "phrases", AND/OR/NOT, -exclude, (groups), field:value such as '
            "headline:复工 byline:张三 region:湖南 date:2020-02). Empty: browse every article, newest first.",
            "schema": {"type": "string", "maxLength": 1000, "default": ""},
        },
        {
            "name": "region",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "description": "A region (RegionPath: 湖南省, 湖南省/株洲市; a region includes everything under it). "
            f"Repeatable, up to {MAX_REGIONS} values: regions are OR-ed, except that a region inside another chosen "
            "region narrows to it (湖南省 with 湖南省/株洲市 is 株洲市); facets are AND-ed. 400: more than "
            f"{MAX_REGIONS} values, or a value longer than {MAX_REGION_LENGTH} characters, naming no known division, "
            "or whose names do not form one chain (湖南省/杭州市).",
            "schema": {"type": "array", "maxItems": MAX_REGIONS, "items": _ref("RegionPath")},
        },
        {
            "name": "date_from",
            "in": "query",
            "required": False,
            "description": "Earliest date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD (a year or month starts on its first day).",
            "schema": {"type": "string", "pattern": DATE_PATTERN},
        },
        {
            "name": "date_to",
            "in": "query",
            "required": False,
            "description": "Latest date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD (a year or month ends on its last day). "
            "Undated articles are left out when either bound is given.",
            "schema": {"type": "string", "pattern": DATE_PATTERN},
        },
        {
            "name": "sort",
            "in": "query",
            "required": False,
            "description": "Result order; default relevance for a query and -date (newest first) for a browse.",
            "schema": {"type": "string", "enum": list(SORTS)},
        },
        {
            "name": "collapse",
            "in": "query",
            "required": False,
            "description": "Fold each cluster of near-duplicates (reprints of one story) into its best-placed member, which "
            "then counts the others in `similar` / `similar_ids`; `total` and paging count clusters, facets "
            "still count articles. Default false here (every article is listed); the HTML search page "
            "folds unless collapse=false, and never folds a browse (empty q) unless asked.",
            "schema": {"type": "string", "enum": ["true", "false", "1", "0"], "default": "false"},
        },
        {
            "name": "synonyms",
            "in": "query",
            "required": False,
            "description": "Search each word (or quoted phrase) with its synonyms: the default news aliases "
            "(新冠 / 新型冠状病毒, 发改委 / 发展和改革委员会 …) and the archive's own list. `query.expansions` says "
            "which words were expanded; false searches the words as typed.",
            "schema": {"type": "string", "enum": ["true", "false", "1", "0"], "default": "true"},
        },
        _bounded("page"),
        _bounded("per_page"),
        _bounded("facet_size"),
    ]


def kwic_parameters() -> list[dict]:
    """/api/kwic's: the query and filters as /api/search takes them, and the concordance's own options."""
    own = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": help_text,
            "schema": {"type": "integer", "minimum": lo, "maximum": hi, "default": default},
        }
        for name, (default, lo, hi, help_text) in KWIC_NUMBERS.items()
    ]
    query = {
        **next(p for p in search_parameters() if p["name"] == "q"),
        "required": True,
        "description": "The query, in the search's language; its words and phrases (not byline:, region:, date: …) "
        "are the matches listed",
    }
    query["schema"] = {"type": "string", "minLength": 1, "maxLength": 1000}
    return [
        query,
        *[p for p in search_parameters() if p["name"] in ("region", "date_from", "date_to", "synonyms")],
        {
            "name": "sort",
            "in": "query",
            "required": False,
            "description": "Line order: date / -date / relevance keep the articles' order (oldest first, newest first, "
            "best first) and each article's matches in text order; left sorts by the context before the match read "
            "backwards from it (the character just before the match first), right by the context after it. "
            "Characters compare by Unicode code point, case and whitespace folded.",
            "schema": {"type": "string", "enum": list(KWIC_SORTS), "default": DEFAULT_SORT},
        },
        *own,
        {
            "name": "fields",
            "in": "query",
            "required": False,
            "description": f"Where to list matches: {', '.join(KWIC_FIELDS)}, comma-separated (default body)",
            "schema": {"type": "string", "default": "body"},
        },
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "json, or csv: every line found (page and limit ignored), columns "
            f"{', '.join(KWIC_CSV_COLUMNS)}, contexts on one line (whitespace runs as one space), UTF-8 with a BOM, "
            "cells starting with = + - @ prefixed with '",
            "schema": {"type": "string", "enum": list(KWIC_FORMATS), "default": "json"},
        },
    ]


def kwic_schemas() -> dict:
    line_properties = {
        "id": {"type": "string"},
        "headline": {"type": "string"},
        "date": {**NULLABLE_STRING, "format": "date"},
        "region": STRINGS,
        "source": {"type": "string"},
        "field": {"type": "string", "enum": list(KWIC_FIELDS), "description": "The field matched"},
        "offset": {
            "type": "integer",
            "minimum": 0,
            "description": "Where the match starts in the field's text (as /api/articles/{id} returns it): "
            "text[offset:offset + len(match)] == match, the start of a highlight range of the same query",
        },
        "left": {"type": "string", "description": "Up to `width` characters of the text before the match, as printed"},
        "match": {"type": "string"},
        "right": {"type": "string", "description": "Up to `width` characters of the text after the match"},
    }
    return {
        "KwicLine": {"type": "object", "required": list(line_properties), "properties": line_properties},
        "Kwic": {
            "type": "object",
            "required": [
                "query",
                "width",
                "sort",
                "fields",
                "articles",
                "articles_scanned",
                "articles_with_lines",
                "matches",
                "capped",
                "page",
                "limit",
                "pages",
                "took_ms",
                "lines",
            ],
            "properties": {
                "query": {"type": "object"},
                "width": {"type": "integer"},
                "sort": {"type": "string", "enum": list(KWIC_SORTS)},
                "fields": {"type": "array", "items": {"type": "string", "enum": list(KWIC_FIELDS)}},
                "articles": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Articles matching the query and filters: /api/search's total for them",
                },
                "articles_scanned": {
                    "type": "integer",
                    "minimum": 0,
                    "description": f"Articles read for lines (at most {MAX_ARTICLES:,}, in the sort's article order: "
                    "by date for date / -date, best first otherwise)",
                },
                "articles_with_lines": {"type": "integer", "minimum": 0},
                "matches": {"type": "integer", "minimum": 0, "description": f"Lines found (at most {MAX_LINES:,})"},
                "capped": {
                    "type": "boolean",
                    "description": "Whether some matching articles were not read (or lines left out): narrow the query",
                },
                "page": {"type": "integer"},
                "limit": {"type": "integer"},
                "pages": {"type": "integer", "minimum": 0},
                "took_ms": {"type": "number"},
                "lines": {"type": "array", "items": _ref("KwicLine")},
                "partial": {"type": "boolean"},
                "missing_shards": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            },
        },
    }


def schemas() -> dict:
    hit_properties = {
        "id": {"type": "string"},
        "headline": {"type": "string"},
        "kicker": {"type": "string", "description": "The line printed above the headline (引题)"},
        "subheadline": {"type": "string"},
        "byline": STRINGS,
        "date": {**NULLABLE_STRING, "format": "date", "description": "ISO date; null when unknown"},
        "date_source": {
            "type": "string",
            "enum": list(DATE_SOURCES),
            "description": "Where the date came from: the file's front matter, a bulk record's own field, the archive's "
            "catalogue, the page header or print line, a dateline (only when no issue date is known), the text",
        },
        "region": {**STRINGS, "description": "Most specific region paths, e.g. 湖南省/株洲市"},
        "source": {"type": "string"},
        "url": {"type": "string"},
        "kind": {"type": "string", "description": "news, notice, commentary …"},
    }
    ranges = {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
        "description": "Merged, sorted [start, end) character ranges to highlight",
    }
    return {
        "RegionPath": {
            "type": "string",
            "description": "A division's full path: its names from the province down (at most three levels), joined "
            "by '/' — the `value` of a region facet item. Listed here are the divisions newsearch's gazetteer knows; "
            "the server also takes a form that resolves to one of them: a short name (湖南, 株洲), the names run "
            "together (湖南省株洲市), other separators (湖南省 › 株洲市), a renamed division's old name (沙县 → 沙县区).",
            "pattern": REGION_PATH_PATTERN,
            "maxLength": MAX_REGION_LENGTH,
            "enum": list(division_paths()),
        },
        "Error": {
            "type": "object",
            "required": ["ok", "error", "status"],
            "additionalProperties": False,
            "properties": {
                "ok": {"const": False},
                "error": {"type": "string", "description": "What was wrong"},
                "status": {"type": "integer", "description": "The HTTP status, repeated"},
            },
        },
        "Snippet": {
            "type": "object",
            "required": ["text", "highlights"],
            "properties": {"text": {"type": "string"}, "highlights": ranges},
        },
        "Hit": {
            "type": "object",
            "required": [
                *hit_properties,
                "headline_html",
                "score",
                "snippets",
                "snippet_html",
                "similar",
                "similar_ids",
            ],
            "properties": {
                **hit_properties,
                "headline_html": {"type": "string", "description": "The headline, HTML-escaped, matches in <mark>"},
                "score": {"type": ["number", "null"], "description": "Relevance; null when sorted by date or browsing"},
                "snippets": {"type": "array", "items": _ref("Snippet")},
                "snippet_html": {
                    "type": "string",
                    "description": "The snippets, HTML-escaped, matches in <mark>, joined by …",
                },
                "similar": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "With collapse=true: how many other members of this hit's near-duplicate "
                    "cluster match the query and filters (folded into this hit); else 0",
                },
                "similar_ids": {
                    **STRINGS,
                    "maxItems": 50,
                    "description": "Ids of those similar articles (at most 50, in index order); [] when not collapsing",
                },
            },
        },
        "RegionFacetItem": {
            "type": "object",
            "required": ["value", "label", "count", "selected", "level", "parent", "toggle_url"],
            "properties": {
                "value": {"type": "string", "description": "Region path, the value of the region parameter"},
                "label": {"type": "string"},
                "count": {"type": "integer", "minimum": 0},
                "selected": {"type": "boolean"},
                "level": {"type": "integer", "minimum": 1, "maximum": 3},
                "parent": NULLABLE_STRING,
                "toggle_url": {
                    "type": "string",
                    "description": "This search with the region added or removed (back on page 1)",
                },
            },
        },
        "DateFacetItem": {
            "type": "object",
            "required": ["value", "label", "count", "from", "to", "selected", "toggle_url"],
            "properties": {
                "value": {"type": "string"},
                "label": {"type": "string"},
                "count": {"type": "integer", "minimum": 0},
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
                "selected": {"type": "boolean"},
                "toggle_url": {
                    "type": "string",
                    "description": "This search narrowed to the bucket (date_from/date_to "
                    "= from/to), or with the dates removed if selected",
                },
            },
        },
        "TrendsResult": {
            "type": "object",
            "required": ["queries", "filters", "bucket", "norm", "share_per", "periods", "series", "took_ms", "links"],
            "properties": {
                "queries": STRINGS,
                "filters": {
                    "type": "object",
                    "required": ["region", "date_from", "date_to"],
                    "properties": {"region": STRINGS, "date_from": NULLABLE_STRING, "date_to": NULLABLE_STRING},
                },
                "bucket": {"type": "string", "enum": list(BUCKETS)},
                "norm": {"type": "string", "enum": list(NORMS)},
                "share_per": {"type": "integer"},
                "periods": {
                    "type": "array",
                    "maxItems": MAX_PERIODS,
                    "items": {
                        "type": "object",
                        "required": ["value", "label", "from", "to", "articles"],
                        "properties": {
                            "value": {"type": "string", "description": "2020, 2020-03, 2020-W09 or 2020-03-05"},
                            "label": {"type": "string"},
                            "from": {"type": "string", "format": "date"},
                            "to": {
                                "type": "string",
                                "format": "date",
                                "description": "Inclusive; the first and last period are clipped to the range",
                            },
                            "articles": {
                                "type": "integer",
                                "minimum": 0,
                                "description": "Every article of the period under the filters: the share's denominator",
                            },
                        },
                    },
                },
                "series": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["q", "parsed", "total", "undated", "counts", "shares", "values", "search_urls"],
                        "properties": {
                            "q": {"type": "string"},
                            "parsed": {"type": "string"},
                            "total": {"type": "integer", "minimum": 0, "description": "Dated matches in the range"},
                            "undated": {
                                "type": "integer",
                                "minimum": 0,
                                "description": "Matches with no date, in no period (left out of the counts)",
                            },
                            "counts": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                            "shares": {
                                "type": "array",
                                "items": {"type": ["number", "null"]},
                                "description": "count × share_per / articles, 4 decimals; null when the period has "
                                "no articles",
                            },
                            "values": {
                                "type": "array",
                                "items": {"type": ["number", "null"]},
                                "description": "counts or shares, as `norm` asks",
                            },
                            "search_urls": {
                                **STRINGS,
                                "description": "Each period's search page (collapse=false: every article listed)",
                            },
                        },
                    },
                },
                "took_ms": {"type": "number", "minimum": 0},
                "links": {
                    "type": "object",
                    "required": ["html", "json", "csv"],
                    "properties": {"html": {"type": "string"}, "json": {"type": "string"}, "csv": {"type": "string"}},
                },
                "partial": {"type": "boolean"},
                "missing_shards": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            },
        },
        "SearchResult": {
            "type": "object",
            "required": [
                "query",
                "total",
                "folded",
                "page",
                "per_page",
                "pages",
                "took_ms",
                "hits",
                "facets",
                "date_bucket",
                "undated",
                "suggestions",
                "links",
            ],
            "properties": {
                "query": {
                    "type": "object",
                    "required": ["q", "parsed", "synonyms", "expansions", "filters"],
                    "properties": {
                        "q": {"type": "string"},
                        "parsed": {
                            "type": "string",
                            "description": "How the query was read, synonyms included: 新冠 reads 新冠 OR 新型冠状病毒",
                        },
                        "ignored": {
                            **STRINGS,
                            "description": "Parts of the query with nothing to search (punctuation)",
                        },
                        "synonyms": {"type": "boolean", "description": "Were words searched with their synonyms?"},
                        "expansions": {
                            "type": "array",
                            "description": "The words searched with synonyms (a form that a shorter one already "
                            "finds is not listed: 新冠 finds 新冠肺炎)",
                            "items": {
                                "type": "object",
                                "required": ["term", "synonyms"],
                                "properties": {
                                    "term": {"type": "string", "description": "The word as the query holds it"},
                                    "synonyms": {**STRINGS, "description": "The other forms searched"},
                                    "replaced": {
                                        "type": "boolean",
                                        "description": "Present (true) when a one-way rule searches the synonyms "
                                        "instead of the word itself",
                                    },
                                },
                            },
                        },
                        "filters": {
                            "type": "object",
                            "required": ["region", "date_from", "date_to", "sort"],
                            "properties": {
                                "region": STRINGS,
                                "date_from": NULLABLE_STRING,
                                "date_to": NULLABLE_STRING,
                                "sort": {"type": "string", "enum": list(SORTS)},
                            },
                        },
                    },
                },
                "total": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Results: matching articles, each near-duplicate cluster once when folded",
                },
                "folded": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Matching articles not in `total` because they were folded into a near-duplicate "
                    "(each hit's `similar`); 0 unless collapse is on. total + folded = matching articles",
                },
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 0},
                "took_ms": {"type": "number", "minimum": 0},
                "hits": {"type": "array", "items": _ref("Hit")},
                "facets": {
                    "type": "object",
                    "required": ["region", "date"],
                    "properties": {
                        "region": {
                            "type": "array",
                            "items": _ref("RegionFacetItem"),
                            "description": "Provinces by count, each followed by its cities; counted without the "
                            "region filter (multi-select)",
                        },
                        "date": {
                            "type": "array",
                            "items": _ref("DateFacetItem"),
                            "description": "Date histogram in `date_bucket` steps, every period of its range listed (empty "
                            "ones too): the date filter's range (within the first and last dated article) when one is "
                            "set, else the first to the last match; counted without the date filter",
                        },
                    },
                },
                "date_bucket": {"type": "string", "enum": ["year", "month", "day"]},
                "undated": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Matching articles (in the chosen regions) that have no date",
                },
                "suggestions": {
                    "type": "array",
                    "maxItems": 3,
                    "description": '"Did you mean": offered (never applied) when nothing matched; each finds hits '
                    "under the same filters",
                    "items": {
                        "type": "object",
                        "required": ["q", "total", "url"],
                        "properties": {
                            "q": {"type": "string"},
                            "total": {"type": "integer", "minimum": 1},
                            "url": {"type": "string", "description": "This search with the corrected query"},
                        },
                    },
                },
                "partial": {
                    "type": "boolean",
                    "description": "A sharded index only: true when some shards did not answer, so totals, "
                    "facets and hits lack their articles",
                },
                "missing_shards": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0},
                    "description": "A sharded index only: the shards that did not answer",
                },
                "links": {
                    "type": "object",
                    "required": ["self", "prev", "next", "html", "json", "atom"],
                    "properties": {
                        "self": {"type": "string"},
                        "prev": NULLABLE_STRING,
                        "next": NULLABLE_STRING,
                        "html": {"type": "string"},
                        "json": {"type": "string"},
                        "atom": {"type": "string"},
                    },
                },
            },
        },
        "Article": {
            "type": "object",
            "required": [
                *hit_properties,
                "column",
                "byline_roles",
                "date_partial",
                "dateline_date",
                "regions_mentioned",
                "sources",
                "file",
                "ordinal",
                "line_start",
                "line_end",
                "page",
                "issue_date",
                "body",
                "provenance",
            ],
            "properties": {
                **hit_properties,
                "column": {"type": "string"},
                "byline_roles": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "role": {"type": "string"}}},
                },
                "date_partial": {
                    "type": "string",
                    "description": "A year-less date seen in the text, e.g. 03-09 "
                    "(when only that is known, `date` is null)",
                },
                "dateline_date": {
                    "type": "string",
                    "description": "The dateline's day, MM-DD (新华社郑州6月10日电 → 06-10); the article's date is its "
                    "issue date",
                },
                "regions_mentioned": {**STRINGS, "description": "Every Chinese place the text names, beyond `region`"},
                "sources": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Where each field came from: front_matter, given (a bulk record's own value), "
                    "catalog, page, text (extracted), none",
                },
                "file": {"type": "string", "description": "The page file's name (no server directories)"},
                "ordinal": {"type": "integer", "description": "The article's place on its page"},
                "line_start": {"type": "integer", "description": "First line of the article in the file (1-based)"},
                "line_end": {"type": "integer", "description": "Last line, inclusive"},
                "page": {"type": "string", "description": 'The printed page (版面) from the catalogue; "" if unknown'},
                "issue_date": {"type": "string", "description": 'The issue\'s date from the catalogue; "" if unknown'},
                "provenance": _ref("Provenance"),
                "body": {"type": "string", "description": "Full text; paragraphs separated by \\n"},
                "highlights": {
                    "type": "object",
                    "description": "Only when q is given",
                    "properties": {"headline": ranges, "body": ranges},
                },
            },
        },
        "Provenance": {
            "type": "object",
            "required": ["file", "line_start", "line_end", "page", "paper", "issue_date"],
            "description": "Where the article came from: its page file and line span there, the catalogue's page, "
            'paper and issue date ("" when unknown)',
            "properties": {
                "file": {"type": "string", "description": "File name"},
                "line_start": {"type": "integer"},
                "line_end": {"type": "integer"},
                "page": {"type": "string"},
                "paper": {"type": "string"},
                "issue_date": {"type": "string"},
            },
        },
        "SourcePage": {
            "type": "object",
            "required": ["id", "file", "line_start", "line_end", "format", "bytes", "lines_total", "lines", "record"],
            "properties": {
                "id": {"type": "string", "description": "The article's id"},
                "file": {"type": "string", "description": "The page file's name"},
                "line_start": {"type": "integer"},
                "line_end": {"type": "integer"},
                "format": {
                    "type": "string",
                    "enum": ["page", "jsonl"],
                    "description": "page: a page file (.txt, .md); jsonl: a bulk file, one article per line",
                },
                "bytes": {"type": "integer", "minimum": 0, "description": "The file's size now"},
                "lines_total": {"type": "integer", "minimum": 0, "description": "Lines in the file now"},
                "lines": {
                    "type": "array",
                    "description": "Lines of the file as it is on disk now, decoded and split as when it was "
                    "indexed: a page of up to 2000 lines whole, a longer one the article's lines with 30 lines "
                    "either side; of a bulk file, the article's own line only",
                    "items": {
                        "type": "object",
                        "required": ["n", "text", "in_article"],
                        "properties": {
                            "n": {"type": "integer", "minimum": 1, "description": "Line number, 1-based"},
                            "text": {"type": "string"},
                            "in_article": {"type": "boolean", "description": "line_start <= n <= line_end"},
                        },
                    },
                },
                "record": {
                    "type": ["object", "null"],
                    "description": "A bulk file's record: the JSON object on the article's line (null for a page "
                    "file, or when the line holds no JSON object now)",
                },
            },
        },
        "ArticleResponse": {
            "type": "object",
            "required": ["article", "related"],
            "properties": {"article": _ref("Article"), "related": {"type": "array", "items": _ref("Hit")}},
        },
        "Stats": {
            "type": "object",
            "required": [
                "articles",
                "dated",
                "date_min",
                "date_max",
                "regions",
                "sources",
                "segments",
                "index_bytes",
                "index_dir",
            ],
            "properties": {
                "articles": {"type": "integer"},
                "dated": {"type": "integer"},
                "date_min": NULLABLE_STRING,
                "date_max": NULLABLE_STRING,
                "regions": {"type": "integer", "description": "Distinct region paths"},
                "sources": {
                    "type": "object",
                    "additionalProperties": {"type": "integer"},
                    "description": "Articles per source, most first",
                },
                "segments": {"type": "integer"},
                "index_bytes": {"type": "integer"},
                "index_dir": {"type": "string"},
                "shards": {
                    "type": "array",
                    "description": "A sharded index only: each shard's articles, segments and bytes",
                    "items": {
                        "type": "object",
                        "required": ["shard", "articles", "segments", "index_bytes"],
                        "properties": {
                            "shard": {"type": "integer"},
                            "articles": {"type": "integer"},
                            "segments": {"type": "integer"},
                            "index_bytes": {"type": "integer"},
                        },
                    },
                },
                "partial": {"type": "boolean"},
                "missing_shards": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            },
        },
    }


def trends_parameters() -> list[dict]:
    shared = [p for p in search_parameters() if p["name"] in ("region", "date_from", "date_to")]
    return [
        {
            "name": "q",
            "in": "query",
            "required": True,
            "style": "form",
            "explode": True,
            "description": f"A query to compare (the search query language), given once per query: q=A&q=B (1 to "
            f"{MAX_QUERIES}).",
            "schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_QUERIES,
                "items": {"type": "string", "minLength": 1, "maxLength": 1000},
            },
        },
        *shared,
        {
            "name": "bucket",
            "in": "query",
            "required": False,
            "description": "Period length; week is the ISO week (Monday to Sunday); auto: the finest bucket making "
            f"at most 150 periods of the range. An explicit bucket making more than {MAX_PERIODS} periods is a "
            "400 that names a coarser one.",
            "schema": {"type": "string", "enum": ["auto", *BUCKETS], "default": "auto"},
        },
        {
            "name": "norm",
            "in": "query",
            "required": False,
            "description": f"`values`: counts, or share (matches per {SHARE_PER:,} articles of the period under "
            "the same filters).",
            "schema": {"type": "string", "enum": list(NORMS), "default": "count"},
        },
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "json, or csv: a row per period (period, from, to, articles, then each query's count "
            "and share)",
            "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
        },
    ]


def openapi_document() -> dict:
    bad = _error("A bad parameter or an unreadable query; `error` names the parameter and the problem")
    unavailable = _error("No index, or one this version cannot read")
    export_max = current_app.config["EXPORT_MAX_ROWS"]
    export_default = min(current_app.config["EXPORT_DEFAULT_ROWS"], export_max)
    doc: dict = {
        "openapi": "3.1.0",
        "info": {
            "title": "newsearch API",
            "version": "0.1.0",
            "description": "Full-text search over a Chinese news archive. Every error, on every endpoint, is "
            '`{"ok": false, "error": message, "status": code}` with that HTTP status '
            "(400 bad parameter, 404 unknown article or route, 405 method, 503 no index).",
        },
        "servers": [{"url": request.host_url.rstrip("/")}],
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search (or browse) with region and date facets",
                    "parameters": search_parameters(),
                    "responses": {
                        "200": {
                            "description": "Hits, facets with toggle URLs, and links",
                            "content": {"application/json": {"schema": _ref("SearchResult")}},
                        },
                        "400": bad,
                        "503": unavailable,
                    },
                }
            },
            "/api/kwic": {
                "get": {
                    "operationId": "kwic",
                    "summary": "Concordance: every place the query matched, with context either side",
                    "description": "One line per highlighted match (the same ranges as the snippets and the "
                    "article page), with `width` characters of context. `articles` equals /api/search's total for "
                    f"the same q and filters; at most {MAX_ARTICLES:,} articles and {MAX_LINES:,} lines are read per "
                    "request (`capped` says when that left some out). An empty query, or one with nothing to find "
                    "in the chosen fields (only byline:, region:, date: …), is a 400. A sharded index answers as "
                    "one index; while a shard is missing, 503.",
                    "parameters": kwic_parameters(),
                    "responses": {
                        "200": {
                            "description": "The lines of the page asked for, and the counts; or the CSV",
                            "content": {
                                "application/json": {"schema": _ref("Kwic")},
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        "400": bad,
                        "503": unavailable,
                    },
                }
            },
            "/api/trends": {
                "get": {
                    "operationId": "trends",
                    "summary": "Matches of up to 6 queries per period, as counts or per 10,000 articles",
                    "description": "Every period of the range is listed (empty ones too); the range is the date "
                    "filter within the first and last dated article. A period's count equals the `total` of "
                    "/api/search with the same q, region and date_from/date_to = the period's from/to.",
                    "parameters": trends_parameters(),
                    "responses": {
                        "200": {
                            "description": "Periods and one series per query",
                            "content": {
                                "application/json": {"schema": _ref("TrendsResult")},
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        "400": bad,
                        "503": unavailable,
                    },
                }
            },
            "/api/articles/{id}": {
                "get": {
                    "operationId": "article",
                    "summary": "One article in full, with related articles",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "q",
                            "in": "query",
                            "required": False,
                            "description": "A query whose matches are returned as `article.highlights` ranges",
                            "schema": {"type": "string", "maxLength": 1000},
                        },
                        {
                            "name": "synonyms",
                            "in": "query",
                            "required": False,
                            "description": "Highlight the matches of q's synonyms too, as the search did (false: "
                            "the words as typed)",
                            "schema": {"type": "string", "enum": ["true", "false", "1", "0"], "default": "true"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "`article` and up to 5 `related` hits",
                            "content": {"application/json": {"schema": _ref("ArticleResponse")}},
                        },
                        "400": bad,
                        "404": _error("No article with this id"),
                        "503": unavailable,
                    },
                }
            },
            "/api/articles/{id}/source": {
                "get": {
                    "operationId": "article_source",
                    "summary": "Where an article stands in its page file, its lines marked",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "The article's lines in their page file (with context), or its "
                            "bulk record, with `in_article` flags",
                            "content": {"application/json": {"schema": _ref("SourcePage")}},
                        },
                        "404": _error(
                            "No article with this id, or its page file is gone or unreadable (the message says which)"
                        ),
                        "503": unavailable,
                    },
                }
            },
            "/api/articles/{id}/cite": {
                "get": {
                    "operationId": "article_cite",
                    "summary": "The article's citation: RIS, BibTeX or CSL-JSON to import, GB/T 7714 or APA to paste",
                    "description": "Made from the article's headline, bylines (each Chinese name a CSL `literal`), "
                    "paper, issue date, printed page and web address (http and https only). GB/T 7714-2015 (numeric) "
                    "and APA are formatted by citeproc-py with the Citation Style Language's styles, one reference "
                    "without a list number. Answered as a download (Content-Disposition: attachment).",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": list(CITATION_FORMATS), "default": "ris"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The citation",
                            "content": {
                                "application/x-research-info-systems": {"schema": {"type": "string"}},
                                "application/x-bibtex": {"schema": {"type": "string"}},
                                "application/vnd.citationstyles.csl+json": {
                                    "schema": {"type": "array", "items": {"type": "object"}}
                                },
                                "text/plain": {"schema": {"type": "string"}},
                            },
                        },
                        "400": bad,
                        "404": _error("No article with this id"),
                        "503": unavailable,
                    },
                }
            },
            "/api/stats": {
                "get": {
                    "operationId": "stats",
                    "summary": "What the index holds",
                    "responses": {
                        "200": {"description": "Counts", "content": {"application/json": {"schema": _ref("Stats")}}},
                        "503": unavailable,
                    },
                }
            },
            "/api/export": {
                "get": {
                    "operationId": "export",
                    "summary": "Matching articles in full, streamed as CSV or JSON Lines, or cited as RIS, BibTeX "
                    "or CSL-JSON",
                    "description": f"CSV columns: {', '.join(CSV_COLUMNS)}; UTF-8 with a BOM; cells starting with = + - @ "
                    "are prefixed with ' so spreadsheets do not run them as formulas. JSON Lines: one "
                    "Article object per line. "
                    f"{', '.join(CITATION_FORMATS[f].label for f in RECORD_FORMATS)}: a citation per article, "
                    "as /api/articles/{id}/cite gives it (CSL-JSON: one array). page, per_page and collapse are "
                    "ignored: an export lists every matching article.",
                    "parameters": [
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": list(EXPORT_FORMATS), "default": "csv"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "description": "Most rows to return",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": export_max,
                                "default": export_default,
                            },
                        },
                        *[
                            p
                            for p in search_parameters()
                            if p["name"] not in ("page", "per_page", "facet_size", "collapse")
                        ],
                    ],
                    "responses": {
                        "200": {
                            "description": "The rows",
                            "content": {
                                "text/csv": {"schema": {"type": "string"}},
                                "application/x-ndjson": {"schema": {"type": "string"}},
                                "application/x-research-info-systems": {"schema": {"type": "string"}},
                                "application/x-bibtex": {"schema": {"type": "string"}},
                                "application/vnd.citationstyles.csl+json": {
                                    "schema": {"type": "array", "items": {"type": "object"}}
                                },
                            },
                        },
                        "400": bad,
                        "503": unavailable,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": {**schemas(), **kwic_schemas()}},
    }
    for path in doc["paths"].values():
        for operation in path.values():
            operation["responses"].setdefault("default", _error("Any other error (405 wrong method, 500), same shape"))
    return doc
