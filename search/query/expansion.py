"""Synonym expansion at query time: a query word (or quoted phrase) with synonyms becomes an OR of their forms.

The index is untouched, so a new synonym needs no re-index. Each form is searched as the word itself would be (a word
wherever its characters stand together, a phrase as those exact characters), in the same field: `headline:新冠` reads
`headline:(新冠 OR 新型冠状病毒)`. Inside a negation the OR is negated whole, so `复工 -新冠` leaves out the articles
that say 新型冠状病毒 too.

Forms that a shorter form already finds are not searched again: every article with 新冠肺炎 contains 新冠, so 新冠
expands to `新冠 OR 新型冠状病毒` (the matches are the same; the parsed query says what really runs).

Only content words are expanded (no field, or `headline:`): bylines, regions and sources are names with their own
matching (a region word already finds the full administrative name).
"""

from __future__ import annotations

from dataclasses import replace

from search.query.language import MAX_TERMS, And, Not, Or, ParsedQuery, Synonymous, Word, highlights
from search.text.synonyms import Synonyms

EXPANDED_FIELDS = (None, "headline")
MAX_EXPANDED_TERMS = 4 * MAX_TERMS  # words searched after expansion; words beyond it are searched as typed


def with_synonyms(parsed: ParsedQuery, synonyms: Synonyms) -> ParsedQuery:
    """`parsed` with each word that has synonyms searched in all its forms; `expansions` lists them."""
    if parsed.is_browse or not len(synonyms):
        return parsed
    expander = _Expander(synonyms, budget=MAX_EXPANDED_TERMS - _words(parsed.tree))
    tree = expander.expand(parsed.tree)
    if not expander.expansions:
        return parsed
    return replace(parsed, tree=tree, highlight=highlights(tree), expansions=expander.expansions)


class _Expander:
    def __init__(self, synonyms: Synonyms, budget: int):
        self.synonyms = synonyms
        self.budget = budget
        self.expansions: list[dict] = []

    def expand(self, node):
        if isinstance(node, Word):
            return self.word(node)
        if isinstance(node, Not):
            return Not(self.expand(node.child))
        if isinstance(node, (And, Or)):
            return replace(node, children=tuple(self.expand(c) for c in node.children))
        return node

    def word(self, word: Word):
        forms = self.synonyms.lookup(word.text) if word.field in EXPANDED_FIELDS else None
        if not forms:
            return word
        searched = searched_forms(word.text, forms)
        if searched == [word.text] or len(searched) - 1 > self.budget:
            return word
        self.budget -= len(searched) - 1
        entry: dict[str, object] = {"term": word.text, "synonyms": [f for f in searched if f != word.text]}
        if word.text not in searched:
            entry["replaced"] = True  # a one-way rule: the typed word itself is not searched
        if entry not in self.expansions:
            self.expansions.append(entry)
        return Synonymous(tuple(replace(word, text=f) for f in searched), word=word)


def searched_forms(typed: str, forms: tuple[str, ...]) -> list[str]:
    """The forms to search for `typed` (the typed word first when it is among them): a form that contains a shorter
    kept form as contiguous characters is found by that one already, and dropped."""
    kept: list[str] = [typed] if typed in forms else []
    for form in sorted(forms, key=len):
        if form not in kept and not any(" " not in k and k in form for k in kept):
            kept.append(form)
    order = {f: i for i, f in enumerate(forms)}
    return sorted(kept, key=lambda f: (f != typed, order[f]))


def _words(node) -> int:
    if isinstance(node, (And, Or)):
        return sum(_words(c) for c in node.children)
    if isinstance(node, Not):
        return _words(node.child)
    return 1
