"""The bulk format: one JSON object per line (headline, byline, date, region, body, source, url, id; only body
required). Fields a record leaves out are extracted from its body (search/ingest/fill.py)."""

from __future__ import annotations

import json
import re

from search.article import Article
from search.ingest import metadata as md
from search.ingest.fill import fill_from_text
from search.ingest.limits import DEFAULT_LIMITS, Limits


def _normalize_region(value: str) -> str:
    try:
        from search.text.regions import normalize_path
    except ImportError:
        return value
    return normalize_path(value) or value


def _as_list(value, *, split: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [x for x in re.split(split, value) if x.strip()]
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return [x.strip() for x in value if x.strip()]
    raise ValueError(f"expected a string or a list of strings, got {type(value).__name__}")


def _date(value) -> tuple[str | None, str, str]:
    if not value:
        return None, "none", ""
    if not isinstance(value, str):
        raise ValueError(f"date must be a string, got {type(value).__name__}")
    m = re.match(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", value)
    if m and md.iso(*m.groups()):
        return md.iso(*m.groups()), "given", ""
    m = re.match(r"^\s*(\d{1,2})[-/月](\d{1,2})日?\s*$", value)
    if m:
        return None, "none", f"{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    raise ValueError(f"unreadable date {value!r}")


# JSON may escape half of a surrogate pair on its own ("\ud800"); json.loads joins real pairs into one character, so
# any surrogate left in a string is a lone one — text no page or JSON response can encode. It becomes U+FFFD.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value):
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def load_record(line: str):
    """The JSON value on a bulk line, as ingest reads it: a lone surrogate becomes U+FFFD. Raises ValueError
    (json.JSONDecodeError) for a line that is not JSON, RecursionError for one nested too deeply."""
    obj = json.loads(line)
    return _without_lone_surrogates(obj) if _SURROGATE_ESCAPE.search(line) else obj


def parse_jsonl(text: str, *, file: str = "", limits: Limits = DEFAULT_LIMITS) -> tuple[list[Article], list[str]]:
    """(articles, errors); each error names the file and line: 'bulk.jsonl:3: no body'."""
    articles: list[Article] = []
    errors: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        article = parse_line(line, lineno, len(articles), file, errors, limits)
        if article is not None:
            articles.append(article)
    return articles, errors


def parse_jsonl_bytes(
    data: bytes, *, file: str = "", limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Article], list[str]]:
    """`parse_jsonl` over undecoded bytes, each line decoded on its own (UTF-8, else GB18030): a stray line in
    another encoding costs that line only, and a UTF-8 line is never misread as GB18030."""
    errors: list[str] = []
    lines = enumerate(data.split(b"\n"), 1)
    return list(iter_jsonl_lines(lines, file=file, errors=errors, decode=_utf8_or_gb18030, limits=limits)), errors


def stream_lines(f, *, file: str, errors: list[str], limits: Limits = DEFAULT_LIMITS):
    """(line number, bytes) of the binary file `f`, read a line at a time. A line longer than
    `limits.max_file_bytes` is reported in `errors` and skipped in blocks, never held whole: memory stays bounded
    whatever the length of a line (a bulk file that is one 200 MB line)."""
    bound = limits.max_file_bytes
    lineno = 0
    while line := f.readline(bound + 1):
        lineno += 1
        if len(line) <= bound or line.endswith(b"\n"):
            yield lineno, line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = f.readline(1 << 20)
            if not line:
                break
            size += len(line)
        content = size - 1 if line.endswith(b"\n") else size
        errors.append(f"{file or '<jsonl>'}:{lineno}: {limits.line_too_long(content)}")


def _utf8_only(raw: bytes, where: str, errors: list[str]) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        errors.append(
            f"{where}: not UTF-8 (byte {e.start + 1} of the line); a large bulk file is read line by line and must be "
            "UTF-8"
        )
        return None


def _utf8_or_gb18030(raw: bytes, where: str, errors: list[str]) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as e:
        errors.append(f"{where}: neither UTF-8 nor GB18030 (byte {e.start + 1} of the line)")
        return None


def iter_jsonl_lines(lines, *, file: str, errors: list[str], decode=_utf8_only, limits: Limits = DEFAULT_LIMITS):
    """Articles from (line number, raw bytes) pairs, each line decoded by `decode` (a large bulk file read as a
    stream: UTF-8 only); bad lines (including lines that cannot be decoded, and lines over the size limit) are
    reported in `errors` as `parse_jsonl` reports them."""
    ordinal = 0
    for lineno, raw in lines:
        where = f"{file or '<jsonl>'}:{lineno}"
        if len(raw) > limits.max_file_bytes:  # only a line near the bound pays for the copy rstrip makes
            too_long = limits.line_too_long(len(raw.rstrip(b"\r\n")))
            if too_long:
                errors.append(f"{where}: {too_long}")
                continue
        line = decode(raw.removeprefix(b"\xef\xbb\xbf") if lineno == 1 else raw, where, errors)
        if line is None:
            continue
        article = parse_line(line.rstrip("\r\n"), lineno, ordinal, file, errors, limits)
        if article is not None:
            ordinal += 1
            yield article


def parse_line(
    line: str, lineno: int, ordinal: int, file: str, errors: list[str], limits: Limits = DEFAULT_LIMITS
) -> Article | None:
    """One line's article, or None (blank, or bad: then the reason goes to `errors`)."""
    if not line.strip():
        return None
    try:
        obj = load_record(line)
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        body = obj.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ValueError("no body")
        headline = obj.get("headline")
        too_long = limits.article_too_long(len(body) + (len(headline) if isinstance(headline, str) else 0))
        if too_long:
            raise ValueError(too_long)
        names = _as_list(obj.get("byline"), split=r"[,，、\s]+")
        regions = [_normalize_region(r) for r in _as_list(obj.get("region"), split=r"[;；,，\s]+")]
        date, date_source, partial = _date(obj.get("date"))
        fields = {k: obj.get(k) or "" for k in ("headline", "source", "url", "id")}
        for k, v in fields.items():
            if not isinstance(v, str):
                raise ValueError(f"{k} must be a string")
        article = Article(
            body=body,
            headline=fields["headline"].strip(),
            byline=names,
            byline_roles=[{"name": n, "role": ""} for n in names],
            date=date,
            date_source=date_source,
            date_partial=partial,
            region=regions,
            source=fields["source"],
            url=fields["url"],
            file=file,
            ordinal=ordinal,
            line_start=lineno,
            line_end=lineno,
            id=str(fields["id"]),
        )
        # a record's own values are kept; what it lacks is read from its text, as on a page
        return fill_from_text(article, given="given")
    except RecursionError:  # a line nested thousands of levels deep: that line is bad, not the file
        errors.append(f"{file or '<jsonl>'}:{lineno}: nested too deeply to read")
        return None
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        reason = f"invalid JSON ({e.msg} at column {e.colno})" if isinstance(e, json.JSONDecodeError) else str(e)
        errors.append(f"{file or '<jsonl>'}:{lineno}: {reason}")
        return None
