"""The unit of the index: one news article, as ingest produces it and the indexer stores it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

# Where an article's date can come from, most authoritative first (`Article.date_source`, the API's enum).
DATE_SOURCES = ("front_matter", "given", "catalog", "page", "dateline", "text", "none")
# Layout whitespace and the pre-segmentation bar are not part of an article's identity.
_IDENTITY_NOISE = re.compile(r"[\s\u3000\xa0|]+")


@dataclass
class Article:
    body: str
    headline: str = ""
    kicker: str = ""  # the line printed above the headline (引题), without its closing dash
    subheadline: str = ""
    column: str = ""
    byline: list[str] = field(default_factory=list)
    byline_roles: list[dict] = field(default_factory=list)  # [{"name": "戴凛", "role": "记者"}]
    date: str | None = None  # ISO yyyy-mm-dd
    date_source: str = "none"  # one of DATE_SOURCES
    date_partial: str = ""  # a year-less date seen in the text ("03-09"), never completed by guessing
    dateline_date: str = ""  # the dateline's day ("06-10" of 新华社郑州6月10日电), kept apart from the issue date
    region: list[str] = field(default_factory=list)  # most specific full paths: "湖南省/株洲市/石峰区"
    regions_mentioned: list[str] = field(default_factory=list)  # every Chinese place named, about it or not
    # where each field came from: front_matter, catalog, given (a bulk record's own value), page, text, none
    sources: dict[str, str] = field(default_factory=dict)
    source: str = ""  # paper name when known, else the file name
    url: str = ""
    file: str = ""  # path of the file the article came from
    ordinal: int = 0  # position on its page, 0-based
    line_start: int = 0  # 1-based inclusive line span on the page (0 when unknown)
    line_end: int = 0
    page: str = ""  # page number of the printed issue, from the archive's catalogue ("04")
    issue_date: str = ""  # the catalogue's issue date of that page (ISO), kept beside `date` for provenance
    kind: str = "news"  # news / notice / commentary / caption ...
    id: str = ""
    cluster: str = ""  # id of the first-indexed near-duplicate (search.index.reprints); "" means the article itself
    dup_signature: bytes = b""  # its body's MinHash record (search.index.reprints), set by DuplicateTracker.assign
    seq: int = 0  # its place in the archive's indexing order (1, 2, …), set by the indexer; 0 before indexing

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id(self.file, self.headline, self.body)

    def to_dict(self) -> dict:
        return asdict(self)


def content_id(file: str, headline: str, body: str) -> str:
    """A stable id from the article's own text (and its file's name, so a reprint in another file stays a
    separate article): ingesting the same text again yields the same id."""
    name = file.replace("\\", "/").rsplit("/", 1)[-1]
    text = _IDENTITY_NOISE.sub("", f"{headline}\n{body}")
    # surrogatepass: a lone surrogate (possible in a str from JSON) must not stop the id; other text is plain UTF-8
    return hashlib.sha1(f"{name}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
