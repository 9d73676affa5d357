"""BibTeX: @article (journal = the paper) when the paper is known, else @misc; values escaped for BibTeX and LaTeX.

Escaping is one pass over the text: braces become \\textbraceleft{} / \\textbraceright{} (BibTeX counts even an
escaped \\{, so a lone one would end the field), the characters LaTeX reads as commands or comments get a backslash,
a backslash itself is \\textbackslash{}. Chinese names are braced, so no style splits or abbreviates them.
"""

from __future__ import annotations

import re

from search.cite.csl import name_text

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_ESCAPES = str.maketrans(_LATEX)
# In a URL field (read verbatim by biblatex) only what would break the entry is encoded, as a browser would.
_URL_ESCAPES = str.maketrans({"{": "%7B", "}": "%7D", "\\": "%5C"})
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_KEY_CHARACTERS = re.compile(r"[^a-z0-9]+")
KEY_PAPER_LENGTH = 24


def escape(text: str) -> str:
    return " ".join(text.split()).translate(_ESCAPES)


def bibtex_entry(item: dict) -> str:
    """One CSL item as a BibTeX entry."""
    fields = [("title", "{" + escape(item["title"]) + "}")]
    if "author" in item:
        fields.append(("author", "{" + " and ".join(bibtex_name(name) for name in item["author"]) + "}"))
    if "container-title" in item:
        fields.append(("journal", "{" + escape(item["container-title"]) + "}"))
    if "issued" in item:
        year, month, day = item["issued"]["date-parts"][0]
        fields += [
            ("date", f"{{{year:04d}-{month:02d}-{day:02d}}}"),  # biblatex
            ("year", f"{{{year:04d}}}"),
            ("month", MONTHS[month - 1]),  # the month macros every style knows
        ]
    if "page" in item:
        fields.append(("pages", "{" + escape(item["page"]) + "}"))
    if "URL" in item:
        fields.append(("url", "{" + item["URL"].translate(_URL_ESCAPES) + "}"))
    fields.append(("language", "{" + item["language"] + "}"))
    kind = "article" if "container-title" in item else "misc"
    body = "".join(f"  {name} = {value},\n" for name, value in fields)
    return f"@{kind}{{{citation_key(item)},\n{body}}}\n"


def bibtex_name(name: dict) -> str:
    """A literal name in braces (one unit, never split into first and last); a Western one as "Family, Given"."""
    if "literal" in name:
        return "{" + escape(name["literal"]) + "}"
    return escape(name_text(name))


def citation_key(item: dict) -> str:
    """A stable ASCII key: the paper in pinyin, the issue date, the id's first eight characters
    (zhuzhouribao2020-02-19-92e6f5c9); `article` and `nd` stand in for an unknown paper and date."""
    paper = paper_slug(item.get("container-title", "")) or "article"
    if "issued" in item:
        year, month, day = item["issued"]["date-parts"][0]
        when = f"{year:04d}-{month:02d}-{day:02d}"
    else:
        when = "nd"
    return f"{paper}{when}-{_KEY_CHARACTERS.sub('', item['id'].lower())[:8]}"


def paper_slug(paper: str) -> str:
    """株洲日报 → zhuzhouribao; Latin letters and digits kept, lower-cased; at most KEY_PAPER_LENGTH characters."""
    if not paper:
        return ""
    from pypinyin import lazy_pinyin  # its phrase dictionary (≈ 45 MB) is loaded only when a key is made

    return _KEY_CHARACTERS.sub("", "".join(lazy_pinyin(paper)).lower())[:KEY_PAPER_LENGTH]
