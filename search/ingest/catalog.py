"""The catalogue beside the pages: what the archive knows about each page file (paper, issue date, page, url).

A directory of page files may hold `catalog.json` (or `catalogue.json`):

    {"0412.txt": {"paper": "人民日报", "issue_date": "2022-03-29", "page": "04", "url": "https://…"}}

(or a list of such objects, each with a "file" key), and/or `catalog.csv` (or `catalogue.csv`) with the header
`file,paper,issue_date,page,url`. Every value is optional. Keys are file names in that same directory. When both
forms are present, an entry of the JSON form wins over the CSV one for the same file.

A malformed catalogue never stops ingest: its fault is reported with file and line, and its pages are read without
it (a bad row or value drops only that row or value).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from search.article import Article

JSON_NAMES = ("catalog.json", "catalogue.json")
CSV_NAMES = ("catalog.csv", "catalogue.csv")
FIELDS = ("paper", "issue_date", "page", "url")

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$|^\s*(\d{4})(\d{2})(\d{2})\s*$")


@dataclass(frozen=True)
class CatalogEntry:
    paper: str = ""
    issue_date: str = ""  # ISO yyyy-mm-dd
    page: str = ""
    url: str = ""

    def fingerprint(self) -> str:
        """Changes whenever any value changes: a file whose entry changed must be indexed again."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def parse_issue_date(value: str) -> str | None:
    """'2022-03-29', '2022/3/29', '2022.03.29', '20220329', '2022年3月29日' → '2022-03-29'; None if no real date."""
    m = _DATE.match(value)
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        return date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


class Catalog:
    """The catalogue entries of one directory, and the faults found reading them."""

    def __init__(
        self, directory: Path, entries: dict[str, CatalogEntry] | None = None, errors: list[str] | None = None
    ):
        self.directory = directory
        self.entries = entries or {}
        self.errors = errors or []

    def get(self, name: str) -> CatalogEntry | None:
        return self.entries.get(name)


def load_catalog(directory: str | Path) -> Catalog:
    """The catalogue of `directory` (empty when it has none)."""
    directory = Path(directory)
    entries: dict[str, CatalogEntry] = {}
    errors: list[str] = []
    for name in CSV_NAMES:  # CSV first so the JSON form overrides it
        path = directory / name
        if path.is_file():
            entries.update(_read_csv(path, errors))
    for name in JSON_NAMES:
        path = directory / name
        if path.is_file():
            entries.update(_read_json(path, errors))
    return Catalog(directory, entries, errors)


class CatalogSet:
    """Catalogues looked up by page file, each directory's read once."""

    def __init__(self) -> None:
        self._by_dir: dict[Path, Catalog] = {}

    def catalog_for(self, page: str | Path) -> Catalog:
        directory = Path(page).resolve().parent
        if directory not in self._by_dir:
            self._by_dir[directory] = load_catalog(directory)
        return self._by_dir[directory]

    def entry_for(self, page: str | Path) -> CatalogEntry | None:
        return self.catalog_for(page).get(Path(page).name)

    @property
    def errors(self) -> list[str]:
        return [e for c in self._by_dir.values() for e in c.errors]


# --- reading -----------------------------------------------------------------------------------------------------
def _decode(path: Path, errors: list[str]) -> str | None:
    from search.ingest.decode import DecodeError, decode_bytes

    try:
        return decode_bytes(path.read_bytes())
    except OSError as e:
        errors.append(f"{path}: cannot read the catalogue ({e.strerror or e}); its pages are indexed without it")
    except DecodeError as e:
        errors.append(f"{path}: malformed catalogue ({e}); its pages are indexed without it")
    return None


def _entry(values: dict, where: str, errors: list[str]) -> CatalogEntry:
    """An entry from raw values; a value that cannot be used is reported at `where` and left out."""
    out = {}
    for key in FIELDS:
        value = values.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            errors.append(f"{where}: {key} must be a string, got {type(value).__name__}; value ignored")
            continue
        value = str(value).strip()
        if key == "issue_date":
            iso = parse_issue_date(value)
            if iso is None:
                errors.append(f"{where}: issue_date {value!r} is not a date (use YYYY-MM-DD); value ignored")
                continue
            value = iso
        out[key] = value
    return CatalogEntry(**out)


def _read_json(path: Path, errors: list[str]) -> dict[str, CatalogEntry]:
    text = _decode(path, errors)
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        errors.append(f"{path}:{e.lineno}:{e.colno}: malformed catalogue ({e.msg}); its pages are indexed without it")
        return {}
    if isinstance(data, list):  # [{"file": "a.txt", "paper": …}, …]
        items = []
        for i, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("file"), str) or not item["file"]:
                errors.append(f'{path}:{_line_of(text, None, i)}: catalogue item {i + 1} has no "file"; item ignored')
                continue
            items.append((item["file"], item))
    elif isinstance(data, dict):
        items = list(data.items())
    else:
        errors.append(
            f"{path}:1: malformed catalogue (expected an object of file names, got "
            f"{type(data).__name__}); its pages are indexed without it"
        )
        return {}
    entries = {}
    for name, values in items:
        where = f"{path}:{_line_of(text, name)}"
        if not isinstance(values, dict):
            errors.append(f"{where}: the entry for {name!r} must be an object; entry ignored")
            continue
        entries[_name(name)] = _entry(values, where, errors)
    return entries


def _read_csv(path: Path, errors: list[str]) -> dict[str, CatalogEntry]:
    text = _decode(path, errors)
    if text is None:
        return {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if "file" not in header:
        errors.append(
            f'{path}:1: malformed catalogue (no "file" column in the header; expected '
            "file,paper,issue_date,page,url); its pages are indexed without it"
        )
        return {}
    reader.fieldnames = header
    entries = {}
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                errors.append(f"{where}: row has more fields than the header; row ignored")
                continue
            name = (row.get("file") or "").strip()
            if not name:
                errors.append(f"{where}: row has no file name; row ignored")
                continue
            entries[_name(name)] = _entry({k: (v or "").strip() for k, v in row.items()}, where, errors)
    except csv.Error as e:
        errors.append(f"{path}:{reader.line_num}: malformed catalogue ({e}); its pages are indexed without it")
        return {}
    return entries


def _name(key: str) -> str:
    return key.replace("\\", "/").rsplit("/", 1)[-1].strip()


def _line_of(text: str, key: str | None, item: int = 0) -> int:
    """The line where a JSON key first appears (json.loads keeps no positions), else where item `item` starts."""
    if key is not None:
        at = text.find(json.dumps(key, ensure_ascii=False))
        if at < 0:
            at = text.find(json.dumps(key))
        return text.count("\n", 0, at) + 1 if at >= 0 else 1
    decoder, at, depth = json.JSONDecoder(), text.index("[") + 1, 0
    while depth <= item:
        while text[at] in " \t\r\n,":
            at += 1
        if depth == item:
            break
        _, at = decoder.raw_decode(text, at)
        depth += 1
    return text.count("\n", 0, at) + 1


# --- applying ----------------------------------------------------------------------------------------------------
def apply_catalog(articles: list[Article], entry: CatalogEntry | None) -> list[Article]:
    """Set the page's catalogue values on its articles (in place).

    The catalogue's paper is each article's source. Its issue date is the date of every article on the page
    (date_source "catalog"): an article's date is the day its paper printed it. A dateline's own day stays in
    `dateline_date` (a year-less one completed from the issue only there, never as the article's date); a date the
    article's own file gave (front matter, a bulk record's field) is kept.
    """
    if entry is None:
        return articles
    for article in articles:
        if entry.paper:
            article.source = entry.paper
            article.sources["source"] = "catalog"
        if entry.url and not article.url:
            article.url = entry.url
        article.page = entry.page or article.page
        article.issue_date = entry.issue_date
        if not entry.issue_date:
            continue
        if article.date and article.date_source in ("front_matter", "given"):
            continue
        article.date, article.date_source = entry.issue_date, "catalog"
        article.sources["date"] = "catalog"
    return articles
