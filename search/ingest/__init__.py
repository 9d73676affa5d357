"""Ingest: files → articles with metadata.

Pipeline, one module per stage: decode (bytes → text) → segmented (rejoin jieba-pre-segmented text) → pages (page text →
paragraph roles → article segments → fields, with metadata's extractors) ; jsonl for the bulk format.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from search.article import Article
from search.ingest import metadata as md
from search.ingest.catalog import CatalogEntry, CatalogSet, apply_catalog
from search.ingest.decode import DecodeError, decode_bytes
from search.ingest.fill import regions_of
from search.ingest.frontmatter import FrontMatter, FrontMatterError, split_front_matter
from search.ingest.jsonl import iter_jsonl_lines, parse_jsonl, parse_jsonl_bytes, stream_lines
from search.ingest.limits import DEFAULT_LIMITS, Limits
from search.ingest.metadata import paper_name
from search.ingest.pages import Segment, assign_roles, build_fields, paragraphs, segment, split_notice_tails

__all__ = ["BulkFile", "FileResult", "Limits", "iter_files", "open_bulk", "read_file", "read_paths", "split_page"]

SUFFIXES = (".txt", ".md", ".markdown", ".jsonl")
# Catalog files sit beside the pages and describe them (source, date, page); they are not pages.
CATALOG_NAMES = {"catalog.jsonl", "catalog.json", "catalogue.jsonl", "catalog.csv", "manifest.jsonl", "index.jsonl"}


@dataclass
class FileResult:
    path: str
    articles: list[Article] = field(default_factory=list)
    error: str | None = None
    digest: str = ""  # sha1 of the bytes read, so a sync records exactly what it indexed


def _is_catalog(path: Path) -> bool:
    return path.name.lower() in CATALOG_NAMES or path.stem.lower().startswith(("catalog", "catalogue"))


def iter_files(paths: Iterable[str | Path], errors: list[str] | None = None) -> Iterator[Path]:
    """Files as given, and the page files under directories (recursive, sorted; hidden and catalog files skipped).
    A sub-directory that cannot be listed is named in `errors` (when given), not skipped in silence."""

    def unlistable(exc: OSError) -> None:
        if errors is not None:
            errors.append(f"{exc.filename}: cannot list this directory ({exc.strerror or exc})")

    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path, onerror=unlistable):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    p = Path(root, name)
                    if not name.startswith(".") and p.suffix.lower() in SUFFIXES and not _is_catalog(p):
                        found.append(p)
            yield from sorted(found)
        else:
            yield path


def split_page(
    text: str,
    *,
    file: str = "",
    front: FrontMatter | None = None,
    limits: Limits = DEFAULT_LIMITS,
    rejected: list[str] | None = None,
) -> list[Article]:
    """One decoded page's text → its articles, in page order. With `front` (the file's front matter, already cut
    from `text`), its values outrank what the text says; a front matter with a title makes the file one article.
    An article longer than `limits.max_article_chars` is left out, and why ('page.txt:12: article too long: …') is
    added to `rejected` (when given)."""
    paras, is_seg = paragraphs(text)
    if not paras:
        return []
    if front is not None:
        for p in paras:
            p.line += front.lines  # line numbers stay those of the file
    if is_seg:
        first = paras[0]
        if "。" not in first.text and len(first.text) <= 90:
            first.role = "heading"
    is_markdown = any(p.level for p in paras)
    page = assign_roles(paras, is_markdown=is_markdown) if not is_seg else _segmented_roles(paras)
    page_text = text.replace("|", "") if is_seg else text
    source = page.get("paper") or paper_name(page_text)
    if is_seg:
        # Pre-segmented corpora hold one article per file: later title-like lines are its section heads.
        title = [paras[0]] if paras[0].role == "heading" else []
        segs = [Segment(paras=list(paras), title=title)]
    elif front is not None and front.title:
        segs = [_one_article(paras)]
    else:
        segs = split_notice_tails(segment(paras))
    articles: list[Article] = []
    for seg in segs:
        # measured before its fields are read: metadata and region analysis of a runaway article cost the most
        given_title = len(front.title) if front is not None else 0
        too_long = limits.article_too_long(given_title + sum(len(p.text) for p in seg.paras))
        if too_long:
            if rejected is not None:
                rejected.append(f"{file}:{min(p.line for p in seg.paras)}: {too_long}")
            continue
        f = build_fields(seg, page)
        if not f["body"].strip() and not f["headline"]:
            continue
        article = Article(file=file, ordinal=len(articles), source=source, **f)
        article.page = page.get("page") or ""
        article.sources = {
            "headline": "text" if article.headline else "none",
            "byline": "text" if article.byline else "none",
            "date": "none" if not article.date else "page" if article.date_source == "page" else "text",
        }
        if front is not None:
            apply_front_matter(article, front)
        if not article.region:
            section = page.get("section") or (front.section_name if front is not None else "")
            article.region, article.regions_mentioned = regions_of(article, page_text=page_text, section=section)
        article.sources.setdefault("region", "text" if article.region else "none")
        articles.append(article)
    return articles


def _one_article(paras: list) -> Segment:
    """All of a file's paragraphs as one article, titled by its leading headings and bylines (the headings below
    them are its sub-heads)."""
    kept = [p for p in paras if p.role != "furniture"]
    title: list = []
    for p in kept:
        heading_still = p.role == "heading" and not any(q.role == "byline" for q in title)
        if heading_still or (p.role == "byline" and title):
            title.append(p)
        else:
            break
    # no byline anywhere but a photo credit: a photo item, signed by its photographer
    photo = not any(p.role == "byline" and p.names for p in kept) and any(p.role == "credit" for p in kept)
    return Segment(paras=kept, title=title, photo=photo)


def apply_front_matter(article: Article, front: FrontMatter) -> None:
    """The front matter's values over what was read from the text (in place)."""
    from search.text.regions import normalize_path

    if front.title:
        article.headline, tag = md.split_headline_tag(front.title)
        article.column = front.column or tag or article.column
        article.sources["headline"] = "front_matter"
    elif front.column:
        article.column = front.column
    article.kicker = front.kicker or article.kicker
    article.subheadline = front.subtitle or article.subheadline
    if front.date:
        article.date, article.date_source = front.date, "front_matter"
        article.sources["date"] = "front_matter"
    if front.authors:
        # the front matter's names first, then any the text adds (（X参与采写）, a section's own byline)
        names = [n for author in front.authors for n in md.parse_byline(author, strict=False)]
        names += article.byline_roles
        names = md.unique_names(names)
        article.byline, article.byline_roles = [n["name"] for n in names], names
        article.sources["byline"] = "front_matter"
    if front.paper:
        article.source = front.paper
        article.sources["source"] = "front_matter"
    article.page = front.page or article.page
    article.url = front.url or article.url
    regions = [r for r in (normalize_path(value) for value in front.region) if r]
    if regions:
        article.region = regions
        article.sources["region"] = "front_matter"


def _segmented_roles(paras):
    rest = paras[1:] if paras[0].role == "heading" else paras
    page = assign_roles(rest, is_markdown=False)
    return page


def read_file(path: str | Path, catalog: CatalogEntry | None = None, limits: Limits = DEFAULT_LIMITS) -> FileResult:
    """Never raises for bad input: a file that cannot be read as pages gets .error naming it. `catalog`, the
    archive's entry for this page, sets source and dates (see search.ingest.catalog.apply_catalog). A page file
    over `limits.max_file_bytes` is refused unread; an article over `limits.max_article_chars` is left out, and
    .error names it."""
    name = str(path)
    is_bulk = Path(path).suffix.lower() == ".jsonl"
    try:
        data = _read_bytes(path, None if is_bulk else limits)
    except _Refused as e:
        return FileResult(name, [], f"{name}: {e}")
    except OSError as e:
        return FileResult(name, [], f"{name}: cannot read ({e.strerror or e})")
    digest = hashlib.sha1(data).hexdigest()
    if is_bulk and data.strip() and b"\x00" not in data:
        try:  # line by line: one bad line (its encoding, its nesting, its length) is reported and the rest kept
            articles, errors = parse_jsonl_bytes(data, file=name, limits=limits)
        except Exception as e:  # noqa: BLE001 - as for pages: a file the reader cannot handle must not stop a batch
            return FileResult(name, [], f"{name}: cannot read as JSON Lines ({type(e).__name__}: {e})", digest)
        return FileResult(name, apply_catalog(articles, catalog), "; ".join(errors) or None, digest)
    try:
        text = decode_bytes(data)
    except DecodeError as e:
        return FileResult(name, [], f"{name}: {e}", digest)
    del data  # a page near the limit is held once as text, not also as bytes
    try:
        if is_bulk:
            articles, errors = parse_jsonl(text, file=name, limits=limits)
            return FileResult(name, apply_catalog(articles, catalog), "; ".join(errors) or None, digest)
        try:
            front, text = split_front_matter(text)
        except FrontMatterError as e:  # this file alone: the rest of the archive is still indexed
            return FileResult(name, [], f"{name}: {e}", digest)
        rejected: list[str] = []
        articles = split_page(text, file=name, front=front, limits=limits, rejected=rejected)
        return FileResult(name, apply_catalog(articles, catalog), "; ".join(rejected) or None, digest)
    except Exception as e:  # a page the splitter cannot handle must not stop a batch
        return FileResult(name, [], f"{name}: cannot split into articles ({type(e).__name__}: {e})", digest)


class _Refused(Exception):
    """A file not read at all: its size on disk is over the limit, or it is not a regular file."""


def _read_bytes(path: str | Path, limits: Limits | None) -> bytes:
    """The file's bytes, checked against `limits` (None: any size) from its size on disk before any is read, so
    memory stays bounded; read no further than the limit, in case the file grows meanwhile."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block the run or never end
        raise _Refused("not a regular file")
    if limits is None:
        return Path(path).read_bytes()
    too_large = limits.file_too_large(info.st_size)
    if too_large:
        raise _Refused(too_large)
    with open(path, "rb") as f:
        data = f.read(limits.max_file_bytes + 1)
        too_large = limits.file_too_large(max(len(data), os.fstat(f.fileno()).st_size))
    if too_large:
        raise _Refused(too_large)
    return data


STREAM_MIN_BYTES = 32 << 20  # bulk files from this size are read as a stream of lines, not into memory at once


@dataclass
class BulkFile:
    """A large bulk (JSON-lines) file, read as a stream: `articles()` yields its articles one line at a time (with
    the catalogue applied) and fills `errors` with the bad lines as it meets them."""

    path: str
    digest: str
    catalog: CatalogEntry | None = None
    errors: list[str] = field(default_factory=list)
    limits: Limits = DEFAULT_LIMITS
    bytes_read: int = 0  # how far `articles()` has read: progress within the file

    def articles(self) -> Iterator[Article]:
        def lines():
            with open(self.path, "rb") as f:
                for item in stream_lines(f, file=self.path, errors=self.errors, limits=self.limits):
                    self.bytes_read = f.tell()  # progress within the file, skipped long lines included
                    yield item

        for article in iter_jsonl_lines(lines(), file=self.path, errors=self.errors, limits=self.limits):
            yield apply_catalog([article], self.catalog)[0]


def open_bulk(
    path: str | Path, catalog: CatalogEntry | None = None, limits: Limits = DEFAULT_LIMITS
) -> BulkFile | FileResult:
    """A bulk file of at least STREAM_MIN_BYTES as a `BulkFile`; a FileResult with `.error` when it cannot be read."""
    name = str(path)
    digest = hashlib.sha1()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        return FileResult(name, [], f"{name}: cannot read ({e.strerror or e})")
    return BulkFile(name, digest.hexdigest(), catalog, limits=limits)


def is_large_bulk(path: str | Path, size: int) -> bool:
    """A bulk file of `size` bytes that is read as a stream."""
    return Path(path).suffix.lower() == ".jsonl" and size >= STREAM_MIN_BYTES


def read_paths(paths: Iterable[str | Path], limits: Limits = DEFAULT_LIMITS) -> Iterator[FileResult]:
    """Each page file's articles, with the catalogue beside it applied (catalogue faults are not reported here:
    see search.ingest.catalog.CatalogSet.errors)."""
    catalogs = CatalogSet()
    for path in iter_files(paths):
        yield read_file(path, catalogs.entry_for(path), limits)
