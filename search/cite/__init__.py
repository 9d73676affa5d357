"""Citations of articles: RIS, BibTeX and CSL-JSON for reference managers, GB/T 7714 and APA references to paste.

Every format is made from one CSL-JSON item per article (`csl.csl_item`), so they all say the same: headline, bylines,
paper, issue date, printed page, web address. Used by the JSON API, the article and results pages, and `newsearch cite`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from search.cite.bibtex import bibtex_entry
from search.cite.csl import csl_item
from search.cite.ris import ris_record
from search.cite.styles import reference, references


@dataclass(frozen=True)
class CitationFormat:
    media_type: str
    extension: str
    label: str


FORMATS = {
    "ris": CitationFormat("application/x-research-info-systems", "ris", "RIS"),
    "bibtex": CitationFormat("application/x-bibtex", "bib", "BibTeX"),
    "csl-json": CitationFormat("application/vnd.citationstyles.csl+json", "json", "CSL-JSON"),
    "gbt7714": CitationFormat("text/plain", "txt", "GB/T 7714-2015"),
    "apa": CitationFormat("text/plain", "txt", "APA"),
}
# The formats a reference manager imports, which an export of many articles streams one record at a time.
RECORD_FORMATS = ("ris", "bibtex", "csl-json")
STYLED_FORMATS = ("gbt7714", "apa")


def citation(articles: list[dict], fmt: str) -> str:
    """`articles` (article dicts as the engine returns them) cited in `fmt`, one of FORMATS."""
    if fmt in STYLED_FORMATS:
        items = [csl_item(article) for article in articles]
        if len(items) == 1:
            return reference(items[0], fmt) + "\n"
        return "".join(line + "\n" for line in references(items, fmt))
    return "".join(records(articles, fmt))


def records(articles: Iterable[dict], fmt: str) -> Iterator[str]:
    """`articles` in a record format (RIS, BibTeX, CSL-JSON), piece by piece: an export streams them."""
    if fmt == "csl-json":  # one JSON array, an item a line
        yield "["
        for n, article in enumerate(articles):
            yield ("," if n else "") + "\n" + json.dumps(csl_item(article), ensure_ascii=False)
        yield "\n]\n"
        return
    write = ris_record if fmt == "ris" else bibtex_entry
    for n, article in enumerate(articles):
        yield ("\n" if n and fmt == "bibtex" else "") + write(csl_item(article))


def filename(article_id: str, fmt: str) -> str:
    """The download's name, newsearch-<id>.ris; an id a bulk record chose itself is cut to safe characters (it goes
    into a header)."""
    return f"newsearch-{_UNSAFE_IN_FILENAME.sub('_', article_id)[:64]}.{FORMATS[fmt].extension}"


_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9_-]")
