"""RIS, the tagged format reference managers (Zotero, EndNote, NoteExpress) import: one record per article.

Tags as Zotero writes a newspaper article: TY NEWS, TI, AU per author, T2 the paper, PY and DA the date, SP the page,
UR, LA, ID; lines end in CRLF as the format's definition asks.
"""

from __future__ import annotations

from search.cite.csl import name_text

EOL = "\r\n"


def ris_record(item: dict) -> str:
    """One CSL item as an RIS record, ER line included."""
    lines = [("TY", "NEWS"), ("ID", item["id"]), ("TI", item["title"])]
    lines += [("AU", name_text(name)) for name in item.get("author", [])]
    if "container-title" in item:
        lines.append(("T2", item["container-title"]))
    if "issued" in item:
        year, month, day = item["issued"]["date-parts"][0]
        lines += [("PY", f"{year:04d}"), ("DA", f"{year:04d}/{month:02d}/{day:02d}")]
    if "page" in item:
        lines.append(("SP", item["page"]))
    if "URL" in item:
        lines.append(("UR", item["URL"]))
    lines.append(("LA", item["language"]))
    return "".join(f"{tag}  - {one_line(value)}{EOL}" for tag, value in lines) + f"ER  - {EOL}"


def one_line(value: str) -> str:
    """A value on one line: a tag's value ends at the line break, so the text's own breaks become spaces."""
    return " ".join(value.split())
