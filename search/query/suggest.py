"""“Did you mean”: spelling suggestions from the index's own vocabulary, offered when a query finds nothing.

For each searched word that matches no article, candidates are the words of the word fields' lexicons (headline, body,
byline) one edit away (a character substituted, inserted or deleted: 株州 → 株洲), most frequent first. A suggestion is
the whole query with that word replaced, and is offered only if it returns hits; nothing is ever applied silently.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from search.errors import QueryError
from search.query.language import Not, ParsedQuery, Word, parse_query, word_query
from search.text.analysis import fold_char

LEXICON_FIELDS = ("headline", "body", "byline")
MAX_SUGGESTIONS = 3
MAX_CANDIDATES = 4  # per word, tried in document-frequency order
MAX_WORDS = 4  # words of a query looked at: a long query with no hits is narrowed by hand, not by guessing
MIN_LENGTH, MAX_LENGTH = 2, 12

_cache_lock = threading.Lock()
_cache: dict[tuple, dict[str, list[str]]] = {}
_building: dict[tuple, threading.Lock] = {}  # snapshot → held while its index is being built


def lexicon_neighbours(reader) -> dict[str, list[str]]:
    """The word fields' terms keyed by themselves and by each one-character deletion of them (a SymSpell index: two
    words one edit apart share a key), built once per index snapshot (by one thread; others wait for it)."""
    key = _snapshot_key(reader)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        building = _building.setdefault(key, threading.Lock())
    with building:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        neighbours = _build_neighbours(reader)
        with _cache_lock:
            _cache.clear()  # one snapshot at a time is enough
            _cache[key] = neighbours
            _building.pop(key, None)
        return neighbours


def _build_neighbours(reader) -> dict[str, list[str]]:
    neighbours: dict[str, list[str]] = {}
    seen: set[str] = set()
    for fieldname in LEXICON_FIELDS:
        if fieldname not in reader.indexed_field_names():
            continue
        for raw in reader.lexicon(fieldname):
            term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if (
                term in seen
                or not MIN_LENGTH - 1 <= len(term) <= MAX_LENGTH + 1
                or not any(ch.isalpha() for ch in term)
            ):
                continue
            seen.add(term)
            for variant in _deletions(term):
                neighbours.setdefault(variant, []).append(term)
    return neighbours


def _snapshot_key(reader) -> tuple:
    """Identifies an index snapshot: its segments (with their deletions). A reader's storage object is no key: a
    MultiReader hands out a new one on each access."""
    leaves = reader.leaf_readers()  # [(reader, 0)] for a single segment
    return tuple(
        (leaf.segment().segment_id() if leaf.segment() is not None else id(leaf), leaf.doc_count())
        for leaf, _ in leaves
    )


def _deletions(term: str) -> set[str]:
    return {term} | {term[:i] + term[i + 1 :] for i in range(len(term))}


def one_edit(a: str, b: str) -> bool:
    """True when b is a with exactly one character substituted, inserted or deleted."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def candidates(reader, word: str) -> list[str]:
    """Lexicon words one edit from `word`, most documents first."""
    return [term for term, _ in candidate_frequencies(reader, word)[:MAX_CANDIDATES]]


def candidate_frequencies(reader, word: str) -> list[tuple[str, int]]:
    """Every lexicon word one edit from `word` with its document frequency, most documents first (the shards of a
    sharded index each report theirs, which add up to the whole index's)."""
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH or " " in word:
        return []
    neighbours = lexicon_neighbours(reader)
    found = {
        t
        for variant in _deletions(word)
        for t in neighbours.get(variant, ())
        if len(t) >= MIN_LENGTH and one_edit(word, t)
    }

    def frequency(term: str) -> int:
        return sum(reader.doc_frequency(f, term) for f in LEXICON_FIELDS if f in reader.indexed_field_names())

    return sort_candidates({t: frequency(t) for t in found})


def sort_candidates(frequencies: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))


def _searched_words(node, negated: bool = False):
    """The words a document must contain (negated words are not misspellings to correct)."""
    if isinstance(node, Word):
        if not negated:
            yield node
    elif isinstance(node, Not):
        yield from _searched_words(node.child, not negated)
    elif hasattr(node, "children"):
        for child in node.children:
            yield from _searched_words(child, negated)


def _replace(q: str, parsed: ParsedQuery, word: Word, replacement: str) -> str:
    """`q` with `word` replaced, keeping the user's spacing and syntax where the word can be found in it."""
    folded = "".join(ch if ch.isspace() else fold_char(ch) or ch for ch in q)
    if len(folded) == len(q):
        at = folded.find(word.text)
        if at >= 0:
            return q[:at] + replacement + q[at + len(word.text) :]
    return _render_replaced(parsed.tree, word, replacement)


def _render_replaced(node, word: Word, replacement: str) -> str:
    def swap(n):
        if n is word:
            return dataclasses.replace(n, text=replacement)
        if isinstance(n, Not):
            return Not(swap(n.child))
        if hasattr(n, "children"):
            return dataclasses.replace(n, children=tuple(swap(c) for c in n.children))
        return n

    return swap(node).render()


class LocalVocabulary:
    """What `did_you_mean` asks of an index, answered by one index's searcher (a sharded index adds up its shards'
    answers: search/cluster/fanout.py)."""

    def __init__(self, searcher):
        self.searcher = searcher

    def matches(self, word: Word) -> bool:
        return _matches(self.searcher, word)

    def candidates(self, word: str) -> list[str]:
        return [term for term, _ in candidate_frequencies(self.searcher.reader(), word)[:MAX_CANDIDATES]]

    def occurrences(self, term: str) -> float:
        return _occurrences(self.searcher.reader(), term)


def did_you_mean(vocabulary, q: str, parsed: ParsedQuery, count: Callable[[str], int]) -> list[dict]:
    """Up to MAX_SUGGESTIONS {"q": corrected query, "total": hits} for a query that found nothing; `count(q)` runs a
    query with the request's filters and returns its number of hits; `vocabulary` (a `LocalVocabulary`, or a
    sharded index's) says which words match, their neighbours and their occurrences."""
    if parsed.is_browse:
        return []
    suggestions: list[tuple[tuple[bool, int, float], dict]] = []  # (rank, suggestion)
    seen = {q}
    for word in list(dict.fromkeys(_searched_words(parsed.tree)))[:MAX_WORDS]:
        if not MIN_LENGTH <= len(word.text) <= MAX_LENGTH or " " in word.text:
            continue  # no spelling to offer (a common character's match alone costs a second on a 20k index)
        if vocabulary.matches(word):
            continue  # this word is found: it is not the one to correct
        for candidate in vocabulary.candidates(word.text):
            new_q = _replace(q, parsed, word, candidate)
            if new_q in seen:
                continue
            seen.add(new_q)
            try:
                parse_query(new_q)
            except QueryError:  # a replacement that no longer parses is no suggestion
                continue
            total = count(new_q)
            if total > 0:
                # a substituted character (株州 → 株洲) before a dropped or added one; then hits, then occurrences
                rank = (len(candidate) != len(word.text), -total, -vocabulary.occurrences(candidate))
                suggestions.append((rank, {"q": new_q, "total": total}))
        if len(suggestions) >= MAX_SUGGESTIONS:
            break
    return [s for _, s in sorted(suggestions, key=lambda x: x[0])][:MAX_SUGGESTIONS]


def _occurrences(reader, term: str) -> float:
    return sum(reader.frequency(f, term) for f in LEXICON_FIELDS if f in reader.indexed_field_names())


def _matches(searcher, word: Word) -> bool:
    return any(True for _ in searcher.docs_for_query(word_query(word)))
