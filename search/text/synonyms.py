"""Synonym lists in Solr's format, read strictly: the shipped news aliases and an archive's own file.

    # a comment (a line that starts with #)
    新冠, 新冠肺炎, 新型冠状病毒        equivalent: a query for any of them searches all of them
    国企 => 国企, 国有企业               one-way: a query for 国企 searches the right side only (keep 国企 there to
                                          search it too); a query for 国有企业 is left alone

As in Solr (`SolrSynonymParser`, expand=true): terms are separated by ASCII commas and trimmed, a backslash escapes the
next character (`\\,`), a term on several lines gets the union of its alternatives. Stricter than Solr: every fault
is a `SynonymFileError` naming the file and line (a line with one term and no `=>`, an empty term, a second `=>`, a
term with punctuation, which a query could never hold as one word), so a bad file stops `newsearch` with a message
instead of silently searching less.

Terms are stored normalized as query words are (`normalize_query_text`: full-width, case, 繁→简), so they are looked
up by the normalized text of a query word.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from search.errors import SearchError
from search.text.analysis import normalize_query_text

DEFAULT_FILE = "data/synonyms.txt"  # package data of search.text: the news aliases newsearch ships
MAX_TERM_CHARS = 50
MAX_ALTERNATIVES = 32  # a larger group is almost surely a file that lost its line breaks
_CHINESE_SEPARATORS = "，、；;"


class SynonymFileError(SearchError):
    """A synonyms file that cannot be used as written; the message names the file and the line."""


@dataclass(frozen=True)
class Synonyms:
    """term → the terms a query for it searches (the term itself among them unless a one-way rule says otherwise),
    all normalized; `sources` names the lists it was read from."""

    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def lookup(self, term: str) -> tuple[str, ...] | None:
        return self.rules.get(term)

    def __len__(self) -> int:
        return len(self.rules)

    def merged(self, other: Synonyms) -> Synonyms:
        """These rules with `other`'s added (a term in both gets the union of its alternatives, these first)."""
        rules = dict(self.rules)
        for term, alternatives in other.rules.items():
            rules[term] = tuple(dict.fromkeys(rules.get(term, ()) + alternatives))
        return Synonyms(rules, self.sources + other.sources)


NO_SYNONYMS = Synonyms()


def parse_synonyms(text: str, name: str = "synonyms") -> Synonyms:
    """Rules from the text of a synonyms file; `name` is what error messages call the file."""
    rules: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue

        def fail(message: str, number: int = number) -> SynonymFileError:
            return SynonymFileError(f"synonyms file {name}, line {number}: {message}")

        sides = _split(stripped, "=>")
        if len(sides) > 2:
            raise fail("more than one '=>' (a one-way rule is `a, b => c, d`)")
        groups = [[_term(raw, fail) for raw in _split(side, ",")] for side in sides]
        if len(groups) == 2:
            sources, targets = groups
            for term in sources:
                rules.setdefault(term, []).extend(targets)
        else:
            (terms,) = groups
            if len(set(terms)) < 2:
                raise fail("one term and no '=>': a line lists two or more synonyms (`a, b`) or a rule (`a => b`)")
            for term in terms:
                rules.setdefault(term, []).extend(terms)
    out = {term: tuple(dict.fromkeys(alternatives)) for term, alternatives in rules.items()}
    for term, alternatives in out.items():
        if len(alternatives) > MAX_ALTERNATIVES:
            raise SynonymFileError(
                f"synonyms file {name}: {term!r} has {len(alternatives)} alternatives (the limit is {MAX_ALTERNATIVES})"
            )
    return Synonyms(out, (name,))


def _split(text: str, separator: str) -> list[str]:
    """`text` split at each `separator` not preceded by a backslash (escapes are kept for `_term` to remove)."""
    parts, cur, i = [], [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
        elif text.startswith(separator, i):
            parts.append("".join(cur))
            cur = []
            i += len(separator)
        else:
            cur.append(text[i])
            i += 1
    parts.append("".join(cur))
    return parts


def _term(raw: str, fail) -> str:
    unescaped, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            i += 1
        unescaped.append(raw[i])
        i += 1
    shown = "".join(unescaped).strip()
    if not shown:
        raise fail("an empty term (two commas in a row, or a comma or '=>' with nothing beside it)")
    if len(shown) > MAX_TERM_CHARS:
        raise fail(f"the term {shown[:20]!r}… is longer than {MAX_TERM_CHARS} characters")
    separator = next((ch for ch in _CHINESE_SEPARATORS if ch in shown), None)
    if separator is not None:
        raise fail(f"{separator!r} in {shown!r}: synonyms are separated by ASCII commas (',')")
    term = " ".join(normalize_query_text(shown).split())
    bad = next((ch for k, ch in enumerate(term) if _punctuation(ch) and not _inner_joiner(term, k)), None)
    if bad is not None or not term:
        raise fail(
            f"the term {shown!r} holds {bad!r}: a synonym is a word a query can hold (letters, digits, spaces; "
            "'-' or '.' only inside Latin words such as covid-19)"
            if bad
            else f"the term {shown!r} has no letters or digits"
        )
    return term


def _punctuation(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PSC" and not ch.isspace()


def _inner_joiner(text: str, k: int) -> bool:
    """Punctuation between two ASCII letters or digits (covid-19, 1.7): the query language keeps such a word whole."""
    if k == 0 or k == len(text) - 1:
        return False
    before, after = text[k - 1], text[k + 1]
    return before.isascii() and before.isalnum() and after.isascii() and after.isalnum()


def load_synonyms(path: str | Path) -> Synonyms:
    """The rules of the synonyms file at `path` (UTF-8, with or without BOM)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SynonymFileError(f"no synonyms file at {path}") from None
    except IsADirectoryError:
        raise SynonymFileError(f"the synonyms file {path} is a directory") from None
    except UnicodeDecodeError as exc:
        raise SynonymFileError(f"synonyms file {path.name} is not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise SynonymFileError(f"cannot read the synonyms file {path}: {exc.strerror or exc}") from None
    return parse_synonyms(text, path.name)


@lru_cache(maxsize=1)
def default_synonyms() -> Synonyms:
    """The news aliases shipped with newsearch (search/text/data/synonyms.txt)."""
    text = resources.files("search.text").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_synonyms(text, "newsearch's default list")


def synonyms_for(path: str | Path | None = None, with_default: bool = True) -> Synonyms:
    """The list a searcher expands with: the default list, an archive's own file added to it (or, without the
    default, the file alone)."""
    base = default_synonyms() if with_default else NO_SYNONYMS
    return base.merged(load_synonyms(path)) if path else base
