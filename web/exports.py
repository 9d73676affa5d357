"""What an export writes: CSV (spreadsheet-safe, with a BOM) or JSON Lines, one matching article a row, or their
citations for a reference manager (RIS, BibTeX, CSL-JSON: search/cite)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from search.cite import FORMATS as CITATION_FORMATS
from search.cite import RECORD_FORMATS, records

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    **{fmt: f"{CITATION_FORMATS[fmt].media_type}; charset=utf-8" for fmt in RECORD_FORMATS},
}
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", **{fmt: CITATION_FORMATS[fmt].extension for fmt in RECORD_FORMATS}}
CSV_COLUMNS = ("id", "date", "headline", "subheadline", "byline", "region", "source", "url", "kind", "file", "body")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A spreadsheet would run a cell starting with = + - @ (or tab/CR) as a formula: prefix it with '."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def csv_row(article: dict) -> list[str]:
    values = {
        **article,
        "byline": "、".join(article["byline"]),
        "region": ";".join(article["region"]),
        "date": article["date"] or "",
    }
    return [neutralise(str(values.get(column) or "")) for column in CSV_COLUMNS]


def csv_lines(articles: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()  # a BOM, so spreadsheet programs read the Chinese as UTF-8
    for article in articles:
        writer.writerow(csv_row(article))
        yield flush()


def jsonl_lines(articles: Iterator[dict]) -> Iterator[str]:
    for article in articles:
        yield json.dumps(article, ensure_ascii=False) + "\n"


def export_lines(fmt: str, articles: Iterator[dict]) -> Iterator[str]:
    """The body of an export in `fmt` (one of EXPORT_FORMATS), piece by piece."""
    if fmt == "csv":
        return csv_lines(articles)
    if fmt == "jsonl":
        return jsonl_lines(articles)
    return records(articles, fmt)
