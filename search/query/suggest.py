"""“Did you mean”: spelling suggestions from the index's own vocabulary, offered when a query finds nothing.

For each searched word that matches no article, candidates are the words of the word fields' lexicons (headline, body,
byline) one edit from it (a character substituted, inserted or deleted: 株州 → 株洲), and the words one likely
substitution from a part of it (乡村振光 → 乡村振兴, where the index knows 乡村 and 振兴 but no 乡村振兴: jieba cuts
a misspelt word anywhere, so the query's own characters are read, not its tokens). They are ranked by a noisy channel: how likely the
typo is (search/text/confusion.py: homophones, near-homophones, similar shapes) times how common the correction is,
damped (`FREQUENCY_WEIGHT`) so that a common word one arbitrary character away (株州 → 广州) does not outrank the
homophone (株洲). A suggestion is the whole query with that word corrected, offered only if it returns hits; nothing
is ever applied silently.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable

from search.errors import QueryError
from search.query.language import Not, ParsedQuery, Word, parse_query, word_query
from search.text.analysis import fold_char
from search.text.confusion import ARBITRARY, INSERTION, substitution_likelihood

LEXICON_FIELDS = ("headline", "body", "byline")
MAX_SUGGESTIONS = 3
MAX_CANDIDATES = 4  # per word, tried in the channel model's order
MAX_WORDS = 4  # words of a query looked at: a long query with no hits is narrowed by hand, not by guessing
MIN_LENGTH, MAX_LENGTH = 2, 12
# log(likelihood) + FREQUENCY_WEIGHT · log(frequency): at 0.5 a homophone (likelihood 100) outranks an arbitrary
# substitution up to 10,000 times as frequent, a near-homophone (20) one 400 times, a two-corner shape (3) one 9 times
FREQUENCY_WEIGHT = 0.5
# an alternative is shown beside the best suggestion only while it is at most 30 times less likely: 株州 offers 株洲
# (likelihood 130) alone, and 杭州 (one arbitrary character away) too only if it finds (130/30)² ≈ 19 times the articles
PLAUSIBLE_MARGIN = math.log(30)
SPELT_PART = 0.1  # the prior of correcting a part of a word that is itself a word of the index

_cache_lock = threading.Lock()
_cache: dict[tuple, Lexicon] = {}
_building: dict[tuple, threading.Lock] = {}  # snapshot → held while its index is being built


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """The word fields' terms, and the same keyed by themselves and by each one-character deletion of them (a SymSpell
    index: two words one edit apart share a key)."""

    terms: frozenset[str]
    neighbours: dict[str, list[str]]


@dataclasses.dataclass(frozen=True)
class Correction:
    text: str  # the corrected word
    likelihood: float  # of the typo, against an arbitrary substitution (search/text/confusion.py)
    frequency: int  # documents of the word (or of the part) that corrects it

    @property
    def score(self) -> float:
        return channel_score(self.likelihood, self.frequency)


def channel_score(likelihood: float, frequency: int) -> float:
    return math.log(likelihood) + FREQUENCY_WEIGHT * math.log(max(frequency, 1))


def lexicon_neighbours(reader) -> Lexicon:
    """The `Lexicon` of `reader`'s snapshot, built once per snapshot (by one thread; others wait for it)."""
    key = _snapshot_key(reader)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        building = _building.setdefault(key, threading.Lock())
    with building:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        lexicon = _build_lexicon(reader)
        with _cache_lock:
            _cache.clear()  # one snapshot at a time is enough
            _cache[key] = lexicon
            _building.pop(key, None)
        return lexicon


def _build_lexicon(reader) -> Lexicon:
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
    return Lexicon(frozenset(seen), neighbours)


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


def _substituted(typed: str, meant: str) -> int | None:
    """The position of the one substituted character, if `meant` is `typed` with exactly one substituted."""
    if len(typed) != len(meant):
        return None
    differ = [i for i, (x, y) in enumerate(zip(typed, meant)) if x != y]
    return differ[0] if len(differ) == 1 else None


def _spans(word: str):
    """(start, part) for every part of `word` of two characters or more, shorter than the word."""
    for length in range(MIN_LENGTH, len(word)):
        for start in range(len(word) - length + 1):
            yield start, word[start : start + length]


def _likelihood(typed: str, meant: str) -> float:
    at = _substituted(typed, meant)
    return INSERTION if at is None else substitution_likelihood(typed[at], meant[at])


def candidate_frequencies(reader, word: str) -> list[tuple[str, int]]:
    """The lexicon words that may correct `word`, with their document frequencies (the shards of a sharded index each
    report theirs, which add up to the whole index's): every word one edit from it; for each part of it, the part
    itself if it is a word, and the words one likely substitution from the part (an arbitrary character in a part is
    too wild a guess: a whole word's is one)."""
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH or " " in word:
        return []
    lexicon = lexicon_neighbours(reader)
    found = {
        t
        for variant in _deletions(word)
        for t in lexicon.neighbours.get(variant, ())
        if len(t) >= MIN_LENGTH and one_edit(word, t)
    }
    for _, span in _spans(word):
        if span in lexicon.terms:
            found.add(span)
        found.update(
            t
            for variant in _deletions(span)
            for t in lexicon.neighbours.get(variant, ())
            if _substituted(span, t) is not None and _likelihood(span, t) > ARBITRARY
        )

    def frequency(term: str) -> int:
        return sum(reader.doc_frequency(f, term) for f in LEXICON_FIELDS if f in reader.indexed_field_names())

    return sorted(((t, frequency(t)) for t in found), key=lambda item: (-item[1], item[0]))


def corrections(word: str, frequencies: dict[str, int]) -> list[Correction]:
    """Corrected spellings of `word` from the `candidate_frequencies` of the index, likeliest first."""
    best: dict[str, Correction] = {}

    def offer(correction: Correction) -> None:
        kept = best.get(correction.text)
        if kept is None or correction.score > kept.score:
            best[correction.text] = correction

    for term, df in frequencies.items():
        if df > 0 and one_edit(word, term):
            offer(Correction(term, _likelihood(word, term), df))
    for start, span in _spans(word):
        # a part spelt like a word of the index is less likely the misspelt one (振光 is also a name)
        prior = SPELT_PART if frequencies.get(span, 0) > 0 else 1.0
        for term, df in frequencies.items():
            if df > 0 and _substituted(span, term) is not None:
                likelihood = _likelihood(span, term)
                if likelihood > ARBITRARY:
                    offer(Correction(word[:start] + term + word[start + len(span) :], likelihood * prior, df))
    return sorted(best.values(), key=lambda c: (-c.score, -c.frequency, c.text))


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


def _replace(q: str, parsed: ParsedQuery, replacements: dict[Word, str]) -> str:
    """`q` with each word replaced, keeping the user's spacing and syntax where the words can be found in it."""
    out = q
    for word, replacement in replacements.items():
        folded = "".join(ch if ch.isspace() else fold_char(ch) or ch for ch in out)
        at = folded.find(word.text) if len(folded) == len(out) else -1
        if at < 0:
            return _render_replaced(parsed.tree, replacements)
        out = out[:at] + replacement + out[at + len(word.text) :]
    return out


def _render_replaced(node, replacements: dict[Word, str]) -> str:
    def swap(n):
        if isinstance(n, Word) and any(n is w for w in replacements):
            return dataclasses.replace(n, text=next(r for w, r in replacements.items() if w is n))
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

    def frequencies(self, word: str) -> dict[str, int]:
        return dict(candidate_frequencies(self.searcher.reader(), word))

    def occurrences(self, term: str) -> float:
        return _occurrences(self.searcher.reader(), term)


def did_you_mean(vocabulary, q: str, parsed: ParsedQuery, count: Callable[[str], int]) -> list[dict]:
    """Up to MAX_SUGGESTIONS {"q": corrected query, "total": hits} for a query that found nothing; `count(q)` runs a
    query with the request's filters and returns its number of hits; `vocabulary` (a `LocalVocabulary`, or a
    sharded index's) says which words match, the candidates' frequencies and their occurrences."""
    if parsed.is_browse:
        return []
    suggestions: list[tuple[tuple[float, int, float], dict]] = []  # (rank, suggestion)
    seen = {q}

    def offer(new_q: str, likelihood: float, corrected: str) -> None:
        if new_q in seen:
            return
        seen.add(new_q)
        try:
            parse_query(new_q)
        except QueryError:  # a replacement that no longer parses is no suggestion
            return
        total = count(new_q)
        if total > 0:
            # the channel again, now with the corrected query's hits under the request's filters; then hits, then
            # occurrences
            rank = (-channel_score(likelihood, total), -total, -vocabulary.occurrences(corrected))
            suggestions.append((rank, {"q": new_q, "total": total}))

    best: dict[Word, Correction] = {}  # each misspelt word's likeliest correction
    for word in list(dict.fromkeys(_searched_words(parsed.tree)))[:MAX_WORDS]:
        if not MIN_LENGTH <= len(word.text) <= MAX_LENGTH or " " in word.text:
            continue  # no spelling to offer (a common character's match alone costs a second on a 20k index)
        if vocabulary.matches(word):
            continue  # this word is found: it is not the one to correct
        found = corrections(word.text, vocabulary.frequencies(word.text))
        if found:
            best[word] = found[0]
        for correction in found[:MAX_CANDIDATES]:
            offer(_replace(q, parsed, {word: correction.text}), correction.likelihood, correction.text)
        if len(suggestions) >= MAX_SUGGESTIONS:
            break
    if not suggestions and len(best) > 1:  # 株州 口照: no one correction finds anything, both at once may
        together = _replace(q, parsed, {w: c.text for w, c in best.items()})
        offer(together, math.prod(c.likelihood for c in best.values()), "")
    suggestions.sort(key=lambda x: x[0])
    return [s for rank, s in suggestions if rank[0] <= suggestions[0][0][0] + PLAUSIBLE_MARGIN][:MAX_SUGGESTIONS]


def _occurrences(reader, term: str) -> float:
    return sum(reader.frequency(f, term) for f in LEXICON_FIELDS if f in reader.indexed_field_names())


def _matches(searcher, word: Word) -> bool:
    return any(True for _ in searcher.docs_for_query(word_query(word)))
