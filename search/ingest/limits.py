"""How much one page file, one bulk record and one article may hold, so that a hostile or mistaken input (a 200 MB
page with no line breaks) costs a message instead of minutes and gigabytes.

A page file larger than `max_file_bytes` is refused from its size on disk, before a byte is read; a bulk (JSON
Lines) file may be any size, since it is read line by line, but each of its lines is held to the same bound and a
longer one is skipped unread. An article longer than `max_article_chars` is refused (not cut short: an article
that long is almost always a page that was never split, whose headline, byline and date would be wrong too), and
the file's other articles are indexed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The largest real newspaper page is well under a few MB of text, and a long real article (a law's full text, a
# congress report) under 200,000 characters: the defaults leave room for both without letting one file hold the
# indexer for minutes.
DEFAULT_MAX_FILE_BYTES = 20_000_000
DEFAULT_MAX_ARTICLE_CHARS = 200_000


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # a page file's size, and a bulk file's longest line
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS  # one article's text (headline and body)

    def file_too_large(self, size: int) -> str | None:
        """The message for a page file of `size` bytes over the limit, or None when it is within it."""
        if size <= self.max_file_bytes:
            return None
        return f"too large: {_over(size, self.max_file_bytes)}; raise --max-file-size"

    def line_too_long(self, size: int) -> str | None:
        """The message for a bulk line of `size` bytes over the limit, or None."""
        if size <= self.max_file_bytes:
            return None
        return f"line too long: {_over(size, self.max_file_bytes)}; raise --max-file-size"

    def article_too_long(self, chars: int) -> str | None:
        """The message for an article of `chars` characters over the limit, or None."""
        if chars <= self.max_article_chars:
            return None
        return (
            f"article too long: {chars:,} characters > limit {self.max_article_chars:,} (not indexed); "
            "raise --max-article-chars"
        )


DEFAULT_LIMITS = Limits()

_UNITS = {"": 1, "B": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(I?)B?\s*$", re.I)


def parse_size(text: str) -> int:
    """'20MB' → 20_000_000, '512KiB' → 524_288, '1.5G' → 1_500_000_000, '4096' → 4096 bytes. KB/MB/GB are powers of
    1000 and KiB/MiB/GiB powers of 1024, as `format_size` prints them. Raises ValueError for anything else."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (such as 20MB, 512KiB or 4096)")
    number, unit, binary = m.groups()
    unit = unit.upper()
    if binary and not unit:
        raise ValueError(f"{text!r} is not a size (such as 20MB, 512KiB or 4096)")
    scale = 1024 ** ("KMGT".index(unit) + 1) if binary else _UNITS[unit]
    return int(float(number) * scale)


def _over(size: int, limit: int) -> str:
    """'210 MB > limit 20 MB'; in bytes when the rounded sizes would read the same (20,000,001 > 20,000,000)."""
    if format_size(size) == format_size(limit):
        return f"{size:,} bytes > limit {limit:,} bytes"
    return f"{format_size(size)} > limit {format_size(limit)}"


def format_size(n: int) -> str:
    """Bytes as people read them: 209715200 → '210 MB', 20_000_000 → '20 MB', 1500 → '1.5 kB', 12 → '12 bytes'."""
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if n >= scale:
            value = n / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{n} bytes"
