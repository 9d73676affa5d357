"""Fields an article's source did not give, read from its text the way pages are read — and a record of where each
field came from.

A bulk record (JSON Lines) or a front-matter file may give headline, byline, date and region, or leave any of them
out. What it gives is kept ("given" / "front_matter"); what it lacks is extracted from the text ("text"), or stays
empty ("none"). `Article.sources` says which, field by field, so a reader of the API can tell a label from a guess.
"""

from __future__ import annotations

from search.article import Article
from search.ingest import metadata as md

FIELDS = ("headline", "byline", "date", "region")


def regions_of(article: Article, *, page_text: str = "", section: str = "") -> tuple[list[str], list[str]]:
    """(regions the article is about, the other Chinese places it names). `section`: the printed page's name
    (评论, 理论, 国际, 各地传真 …), which says whether places are the story or only its examples."""
    from search.text import regions

    about, named = regions.read_places(
        article.body,
        headline=article.headline,
        page_context=page_text,
        source=article.source,
        section=section,
        column=article.column,
        kind=article.kind,
    )
    return about, [r for r in named if r not in about]


def fill_from_text(article: Article, given: str = "given") -> Article:
    """Fill the fields `article` lacks from its text (in place); mark each field's source."""
    sources = article.sources
    paras = [line.strip() for line in article.body.split("\n") if line.strip()]
    if article.headline:
        sources.setdefault("headline", given)
    elif len(paras) > 1 and _title_like(paras[0]):
        article.headline, paras = paras[0], paras[1:]
        article.body = "\n".join(paras)
        sources["headline"] = "text"
    if article.byline:
        sources.setdefault("byline", given)
    else:
        names = _names_in(paras)
        if names:
            article.byline, article.byline_roles = [n["name"] for n in names], names
            sources["byline"] = "text"
    lead = next((p for p in paras if not md.byline_line(p) and not md.print_line(p)), "")
    if lead:
        full, partial = md.dateline(lead)
        article.dateline_date = article.dateline_date or (full[5:] if full else partial)
        if article.date:
            sources.setdefault("date", given)
        elif full:
            article.date, article.date_source = full, "dateline"
            sources["date"] = "text"
        elif partial and not article.date_partial:
            article.date_partial = partial
    if article.region:
        sources.setdefault("region", given)  # a record's own regions; the text is not read for places (bulk speed)
    else:
        article.region, article.regions_mentioned = regions_of(article)
        if article.region:
            sources["region"] = "text"
    for name in FIELDS:
        sources.setdefault(name, "none")
    return article


def _title_like(line: str) -> bool:
    """A first line that reads as a headline: short, not a sentence, not a dateline or byline."""
    visible = "".join(line.split())
    return (
        2 <= len(visible) <= 40
        and not md.SENTENCE_END.search(line)
        and not md.byline_line(line)
        and md.dateline(line) == (None, "")
        and not line.startswith(("本报讯", "新华社"))
    )


def _names_in(paras: list[str]) -> list[dict]:
    """Byline names where news copy prints them: a byline line at the top, inside the dateline, or in brackets
    closing the last paragraph."""
    names: list[dict] = []
    for line in paras[:3]:
        printed = md.print_line(line)
        found = printed["names"] if printed else md.byline_line(line)
        if found:
            names += found
            break
    lead = next((p for p in paras if not md.byline_line(p)), "")
    if lead:
        names += md.inline_dateline_byline(lead)
    if paras:
        names += md.trailing_byline(paras[-1])[0]
    return md.unique_names(names)
