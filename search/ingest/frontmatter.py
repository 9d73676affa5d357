"""YAML front matter (`---` … `---` at the top of a Markdown or text file), as archives and note vaults write it.

What it says outranks anything inferred from the text: its title is the headline, its date the article's date, its
author the byline, its section the page. Keys are matched with their common aliases (English and Chinese), so
`title`/`headline`/`标题`, `date`/`published`/`日期`, `author`/`authors`/`byline`/`作者` … all work. A front matter
that is not valid YAML, or not a mapping, or whose date cannot be read, is an error for that file alone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

# The block must open on the file's first line and close on a line of its own; `...` also closes YAML documents.
_BLOCK = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_ALIASES = {
    "title": ("title", "headline", "标题", "题目"),
    "subtitle": ("subtitle", "subheadline", "副标题"),
    "kicker": ("kicker", "引题", "肩题"),
    "date": ("date", "published", "publish_date", "pubdate", "pub_date", "issue_date", "日期", "出版日期"),
    "authors": ("authors", "author", "byline", "bylines", "reporter", "reporters", "作者", "记者"),
    "page": ("page", "section", "版次", "版面"),
    "section_name": ("section_name", "page_name", "版名", "栏目"),
    "column": ("column", "series", "专栏"),
    "paper": ("paper", "source", "publication", "newspaper", "来源", "报纸"),
    "url": ("source_url", "url", "link", "permalink", "原文链接"),
    "tags": ("tags", "keywords", "关键词", "标签"),
    "region": ("region", "regions", "location", "place", "地区"),
}
# A real front matter is a few hundred characters; YAML is read at well under a megabyte a second, so a runaway
# block (a page pasted into `title:`) is refused rather than parsed.
MAX_FRONT_MATTER_CHARS = 100_000
_PAGE_NUMBER = re.compile(r"(?:第\s*)?([A-Za-z]?\d{1,3})\s*版?")
_DATE = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?")


class FrontMatterError(ValueError):
    """Front matter present but unusable; the message says why."""


@dataclass
class FrontMatter:
    title: str = ""
    subtitle: str = ""
    kicker: str = ""
    date: str | None = None  # ISO yyyy-mm-dd
    authors: list[str] = field(default_factory=list)  # as written: names, or byline strings with role words
    page: str = ""  # "10" from "第10版"
    section_name: str = ""
    column: str = ""
    paper: str = ""
    url: str = ""
    tags: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    lines: int = 0  # lines the block takes, so line numbers of the text after it stay those of the file


def split_front_matter(text: str) -> tuple[FrontMatter | None, str]:
    """(front matter or None, the text after it). Raises FrontMatterError for a block that cannot be used."""
    m = _BLOCK.match(text)
    if not m:
        return None, text
    if len(m.group(1)) > MAX_FRONT_MATTER_CHARS:
        raise FrontMatterError(
            f"front matter too long: {len(m.group(1)):,} characters > limit {MAX_FRONT_MATTER_CHARS:,}"
        )
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise FrontMatterError(f"front matter is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter must be a mapping of keys to values, not a {type(data).__name__}")
    fm = _from_mapping({str(k).strip().lower(): v for k, v in data.items()})
    fm.lines = text[: m.end()].count("\n")
    return fm, text[m.end() :]


def _pick(data: dict, key: str):
    for alias in _ALIASES[key]:
        value = data.get(alias)
        if value not in (None, "", []):
            return value
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [s.strip() for s in re.split(r"[,，;；、]", value) if s.strip()]
    if isinstance(value, list):
        return [_text(v) for v in value if _text(v)]
    return [_text(value)]


def _date(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    m = _DATE.match(str(value))
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    raise FrontMatterError(f"front matter date {str(value)[:40]!r} is not a date (use YYYY-MM-DD)")


def _from_mapping(data: dict) -> FrontMatter:
    page = _text(_pick(data, "page"))
    m = _PAGE_NUMBER.search(page)
    authors = _pick(data, "authors")
    return FrontMatter(
        title=_text(_pick(data, "title")),
        subtitle=_text(_pick(data, "subtitle")),
        kicker=_text(_pick(data, "kicker")),
        date=_date(_pick(data, "date")),
        # a byline string keeps its spacing (padded names, role words) for the byline parser; a list is names
        authors=[str(authors).strip()] if isinstance(authors, str) else _strings(authors),
        page=(m.group(1).zfill(2) if m and m.group(1).isdigit() else m.group(1) if m else page),
        section_name=_text(_pick(data, "section_name")),
        column=_text(_pick(data, "column")),
        paper=_text(_pick(data, "paper")),
        url=_text(_pick(data, "url")),
        tags=_strings(_pick(data, "tags")),
        region=_strings(_pick(data, "region")),
    )
