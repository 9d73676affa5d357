"""An article as a CSL-JSON item (the Citation Style Language's data model), from which every citation format is made.

Only what a citation of a newspaper article needs: headline, bylines, paper, issue date, printed page, web address.
Chinese names are `literal` names: CSL's family/given split (and its initials) does not apply to them.
"""

from __future__ import annotations

import re
from datetime import date as Date

from search.ingest.metadata import ROLES, parse_byline

UNTITLED = "[无标题]"  # GB/T 7714 puts information the source does not print in square brackets
_NAME_SEPARATORS = re.compile(r"[、，,;；/\s]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff·]")  # CJK ideographs, and the middle dot of transliterated names
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z.'\-]*(?: [A-Za-z][A-Za-z.'\-]*)+$")
_ZERO_PADDED = re.compile(r"^0+(\d+)$")


def csl_item(article: dict) -> dict:
    """The CSL-JSON item of an article dict (as the engine returns it); absent values are left out."""
    item: dict = {
        "id": article["id"],
        "type": "article-newspaper",
        "title": article.get("headline") or article.get("subheadline") or article.get("kicker") or UNTITLED,
    }
    names = authors(article.get("byline") or [])
    if names:
        item["author"] = names
    if article.get("source"):
        item["container-title"] = article["source"]
    issued = date_parts(article.get("date"))
    if issued:
        item["issued"] = {"date-parts": [issued]}
    if article.get("page"):
        item["page"] = printed_page(article["page"])
    url = (article.get("url") or "").strip()
    if url.lower().startswith(("http://", "https://")):  # a javascript: or data: address is no citation's
        item["URL"] = url
    item["language"] = "zh-CN"
    return item


def authors(byline: list[str]) -> list[dict]:
    """CSL names of a byline: each Chinese name a `literal`, a Western "Given Family" split into family and given."""
    names: list[dict] = []
    for entry in byline:
        entry = " ".join(entry.split())
        if _HAN.search(entry):
            names.extend({"literal": name} for name in chinese_names(entry))
        elif _LATIN_NAME.match(entry):
            given, _, family = entry.rpartition(" ")
            names.append({"family": family, "given": given})
        elif entry:
            names.append({"literal": entry})
    return names


def chinese_names(entry: str) -> list[str]:
    """The names in one byline entry. Ingest stores names alone, but a bulk record's or front matter's byline can
    still read 记者 X Y or X、Y: read as a byline line is (role words dropped, a padded 曹  娴 joined)."""
    parsed = parse_byline(entry, strict=False)
    if parsed:
        return [name["name"] for name in parsed]
    if any(entry.endswith(role) for role in ROLES):  # a role word left alone by a split (记者, 新华社记者)
        return []
    return [part for part in _NAME_SEPARATORS.split(entry) if part]


def date_parts(date: str | None) -> list[int] | None:
    """[year, month, day] of an ISO date; None when there is none, or none that exists (a year is never guessed)."""
    try:
        day = Date.fromisoformat(date or "")
    except ValueError:
        return None
    return [day.year, day.month, day.day]


def printed_page(page: str) -> str:
    """The page as a citation writes it: "04" → "4"; "A04" and other labels as printed."""
    page = page.strip()
    found = _ZERO_PADDED.match(page)
    return found[1] if found else page


def name_text(name: dict) -> str:
    """A CSL name as one string, family first: "戴凛", "Smith, John"."""
    if "literal" in name:
        return name["literal"]
    return f"{name['family']}, {name['given']}" if name.get("given") else name["family"]
