"""An article's place in its page file, read from the file as it is on disk now, within bounds.

The file is read as a stream of lines and only the lines shown are kept, so a bulk file of tens of megabytes costs
one pass and the memory of its longest line, never the whole file (a page view of the whole 70 MB file took a
browser half a minute to draw). A page file is shown whole up to `WHOLE_PAGE_LINES` lines, a longer one as the
article's lines with `CONTEXT_LINES` on either side; a bulk file (JSON Lines) as the article's own record.

Lines are numbered as ingest numbers them: split at "\\n" only, a trailing "\\r" dropped, a leading BOM removed.
Each line is decoded on its own, UTF-8 else GB18030: byte 0x0A never occurs inside a character of either, so
splitting before decoding cuts the same lines as splitting the decoded text.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterator
from pathlib import Path

from search.ingest.jsonl import load_record

WHOLE_PAGE_LINES = 2000  # a page up to this long is shown whole (printed pages run to a few hundred lines)
CONTEXT_LINES = 30  # lines shown before and after the article on a longer page
MAX_LINES_SHOWN = 2000  # of an article longer than this, its first lines (the article page has all of its text)


def is_bulk_file(path: str) -> bool:
    """A JSON Lines file: one article per line (as ingest decides, by the suffix)."""
    return Path(path).suffix.lower() == ".jsonl"


def read_source(path: str, line_start: int, line_end: int) -> dict:
    """The part of the file at `path` to show for the article at lines `line_start`–`line_end`:
    {"format": "page" | "jsonl", "bytes", "lines_total", "lines": [{"n", "text", "in_article"}], "record"} —
    `record` is a bulk line's JSON object (None when the line holds none now, and for pages). Raises OSError."""
    bulk = is_bulk_file(path)
    if bulk:
        low, high, whole = line_start, line_start, 0
    else:
        low = max(1, line_start - CONTEXT_LINES)
        high, whole = min(line_end + CONTEXT_LINES, low + MAX_LINES_SHOWN - 1), WHOLE_PAGE_LINES
    kept, head, total = [], [], 0
    for total, raw in numbered_lines(path):
        if total <= whole:
            head.append((total, raw))
        if low <= total <= high:
            kept.append((total, raw))
    shown = [(n, decode_line(raw)) for n, raw in (head if total <= whole else kept)]
    lines = [{"n": n, "text": text, "in_article": line_start <= n <= line_end} for n, text in shown]
    record = None
    if bulk and shown:
        try:
            loaded = load_record(shown[0][1])
        except (ValueError, RecursionError):  # the line is no JSON (any more): its text is still shown
            loaded = None
        record = loaded if isinstance(loaded, dict) else None
    return {
        "format": "jsonl" if bulk else "page",
        "bytes": os.path.getsize(path),
        "lines_total": total,
        "lines": lines,
        "record": record,
    }


def numbered_lines(path: str) -> Iterator[tuple[int, bytes | str]]:
    """(1-based number, the line without its end) for every line of the file; bytes, or str for a UTF-16 file
    (whose line ends are two bytes, so it is decoded as a stream first)."""
    with open(path, "rb") as f:
        start = f.read(4)
        f.seek(0)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = io.TextIOWrapper(f, encoding="utf-16", errors="replace", newline="\n")
            for n, line in enumerate(text, 1):
                yield n, line.removesuffix("\n").removesuffix("\r")
            return
        for n, raw in enumerate(f, 1):
            if n == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            yield n, raw.removesuffix(b"\n").removesuffix(b"\r")


def decode_line(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")
