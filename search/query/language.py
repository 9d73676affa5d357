"""The query language: user text → a small syntax tree → a Whoosh query, a readable `parsed` form and the strings to
highlight.

    words         AND by default; a word matches wherever its characters are contiguous (株洲 finds 株洲市)
    "a phrase"    contiguous characters only (full-width “…” works too)
    A OR B, -word, NOT word, ( … )
    headline: byline: region: source:   field search (title:, author: are aliases)
    date:2020-02  date:2020-02-01..2020-03-15

The parser is strict: an unbalanced quote or parenthesis, an unknown field that looks like a typo of a known one, or a
bad date is a `QueryError` with the position, never a silently emptied query. A colon after anything but a field
name is ordinary text, so a pasted headline such as `陈瑶：柔肩挑重担` is searched as words.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace

from whoosh import query as wq

from search.errors import QueryError
from search.text.analysis import QUOTES_TO_ASCII, is_cjk, normalize_query_text, query_bigrams
from search.text.dates import date_bounds

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 64

FIELDS = {
    "headline": "headline",
    "title": "headline",
    "byline": "byline",
    "author": "byline",
    "region": "region",
    "source": "source",
    "date": "date",
}
# Ranking fields per searchable field: (word field or None, bigram field).
_TARGETS: dict[str | None, tuple[tuple[str | None, str], ...]] = {
    None: (
        ("headline", "headline_ng"),
        ("body", "body_ng"),
        (None, "byline_ng"),
        (None, "region_ng"),
        (None, "source_ng"),
    ),
    "headline": (("headline", "headline_ng"),),
    "byline": ((None, "byline_ng"),),
    "region": ((None, "region_ng"),),
    "source": ((None, "source_ng"),),
}
_PHRASE_TARGETS: dict[str | None, tuple[tuple[str | None, str], ...]] = {
    None: ((None, "headline_ng"), (None, "body_ng"))
}


# --- syntax tree -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    text: str  # normalized
    field: str | None = None
    phrase: bool = False

    def render(self) -> str:
        value = f'"{self.text}"' if self.phrase or " " in self.text else self.text
        return f"{self.field}:{value}" if self.field else value


@dataclass(frozen=True)
class DateRange:
    lo: str | None
    hi: str | None

    def render(self) -> str:
        return f"date:{self.lo or ''}..{self.hi or ''}"


@dataclass(frozen=True)
class Not:
    child: Node

    def render(self) -> str:
        return f"NOT {_render_child(self.child)}"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]
    pasted: str | None = None  # one piece of text split at its punctuation (a pasted headline): ranks its exact form

    def render(self) -> str:
        return " AND ".join(_render_child(c) for c in self.children)


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def render(self) -> str:
        return " OR ".join(_render_child(c) for c in self.children)


@dataclass(frozen=True)
class Synonymous(Or):
    """A query word with its synonyms (search/query/expansion.py): an OR of `children`, the forms searched (the word
    itself among them unless a one-way rule replaced it), that still remembers the `word` the user typed."""

    word: Word = Word("")

    def render(self) -> str:
        if self.word.field:  # headline:(新冠 OR 新型冠状病毒), which the parser reads back as the same query
            return (
                f"{self.word.field}:("
                + " OR ".join(
                    _render_child(replace(c, field=None) if isinstance(c, Word) else c) for c in self.children
                )
                + ")"
            )
        return super().render()

    @property
    def typed(self) -> Word | None:
        """The word as typed, when it is among the forms searched."""
        return self.word if self.word in self.children else None


@dataclass(frozen=True)
class MatchAll:
    def render(self) -> str:
        return "*"


Node = Word | DateRange | Not | And | Or | MatchAll  # a node of the syntax tree (Synonymous is an Or)


def _render_child(node) -> str:
    text = node.render()
    if isinstance(node, Synonymous) and node.word.field:
        return text  # already in its field's parentheses
    return f"({text})" if isinstance(node, (And, Or)) and len(node.children) > 1 else text


# --- lexer -------------------------------------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str  # WORD PHRASE LPAREN RPAREN OR AND NOT FIELD
    text: str
    pos: int


_FIELD_RE = re.compile(r"^([A-Za-z_]+):(.*)$", re.S)


def _lex(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            toks.append(_Tok("LPAREN", ch, i))
            i += 1
        elif ch == ")":
            toks.append(_Tok("RPAREN", ch, i))
            i += 1
        elif ch == '"':
            end = q.find('"', i + 1)
            if end < 0:
                raise QueryError("unbalanced quote", i)
            toks.append(_Tok("PHRASE", q[i + 1 : end], i))
            i = end + 1
        elif ch == "-" and i + 1 < n and not q[i + 1].isspace() and (not toks or _boundary_before(q, i)):
            toks.append(_Tok("NOT", ch, i))
            i += 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] not in '()"':
                j += 1
            toks.append(_word_token(q[i:j], i))
            i = j
    return toks


def _boundary_before(q: str, i: int) -> bool:
    return i == 0 or q[i - 1].isspace() or q[i - 1] == "("


def _word_token(text: str, pos: int) -> _Tok:
    if text in ("OR", "AND", "NOT"):
        return _Tok(text, text, pos)
    m = _FIELD_RE.match(text)
    if m:
        name = m.group(1).lower()
        if name in FIELDS:
            return _Tok("FIELD", FIELDS[name] + ":" + m.group(2), pos)
        guess = difflib.get_close_matches(name, list(FIELDS), n=1, cutoff=0.75)
        if guess:
            raise QueryError(f"unknown field '{m.group(1)}', did you mean '{FIELDS[guess[0]]}'?", pos)
    return _Tok("WORD", text, pos)


# --- parser ------------------------------------------------------------------------------------------------------
# Deeper nesting than any reader writes: the parser (and the query trees built from it) recurse once per level.
MAX_NESTING = 32


class _Parser:
    def __init__(self, toks: list[_Tok], length: int):
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.length = length
        self.ignored: list[str] = []  # tokens with nothing searchable (punctuation alone), reported, not searched

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self):
        node = self.parse_or(None)
        tok = self.peek()
        if tok is not None:
            raise QueryError("unbalanced parenthesis", tok.pos)
        return node

    def parse_or(self, fld):
        parts = [self.parse_and(fld)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            parts.append(self.parse_and(fld, after=tok))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self, fld, after: _Tok | None = None):
        parts, dropped = [], []
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.take()
                continue
            node = self.parse_unary(fld)
            if node is not None:
                parts.append(node)
            else:
                dropped.append(tok)
                self.ignored.append(self.toks[self.i - 1].text)
        if not parts and dropped:
            raise QueryError(
                f"nothing to search for in {dropped[0].text!r}: it has no letters or digits", dropped[0].pos
            )
        if not parts:
            nxt = self.peek()
            where = nxt.pos if nxt else self.length
            if after is not None:
                raise QueryError(f"'{after.text}' needs a search term on both sides", after.pos)
            if nxt is not None and nxt.kind == "OR":
                raise QueryError("'OR' needs a search term on both sides", nxt.pos)
            raise QueryError("expected a search term", where)
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def nest(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"the query nests deeper than {MAX_NESTING} levels", tok.pos)

    def parse_unary(self, fld):
        tok = self.peek()
        if tok.kind == "NOT":
            self.take()
            self.nest(tok)
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RPAREN", "AND"):
                raise QueryError(f"'{tok.text}' needs a search term after it", tok.pos)
            child = self.parse_unary(fld)
            self.depth -= 1
            return Not(child) if child is not None else None
        return self.parse_primary(fld)

    def parse_primary(self, fld):
        tok = self.take()
        if tok.kind == "LPAREN":
            if (nxt := self.peek()) is not None and nxt.kind == "RPAREN":
                raise QueryError("empty parentheses", tok.pos)
            self.nest(tok)
            node = self.parse_or(fld)
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise QueryError("unbalanced parenthesis", tok.pos)
            self.take()
            return node
        if tok.kind == "RPAREN":
            raise QueryError("unbalanced parenthesis", tok.pos)
        if tok.kind == "PHRASE":
            return _phrase(tok, fld)
        if tok.kind == "FIELD":
            name, _, value = tok.text.partition(":")
            if fld is not None:
                raise QueryError(f"field '{name}:' inside another field", tok.pos)
            if value:
                return self.field_value(name, _Tok("WORD", value, tok.pos + len(name) + 1))
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("PHRASE", "LPAREN", "WORD"):
                raise QueryError(f"field '{name}:' needs a value", tok.pos)
            if nxt.kind == "LPAREN":
                if name == "date":
                    raise QueryError("'date:' takes a date or a range such as 2020-02-01..2020-03-15", nxt.pos)
                return self.parse_primary(name)
            return self.field_value(name, self.take())
        return _words(tok, fld)

    def field_value(self, name, tok):
        if name == "date":
            return _date_node(tok.text, tok.pos)
        if tok.kind == "PHRASE":
            return _phrase(tok, name)
        return _words(tok, name)


def _date_node(text: str, pos: int) -> DateRange:
    lo_text, sep, hi_text = text.partition("..")
    lo: str | None
    hi: str | None
    try:
        if not sep:
            lo, hi = date_bounds(lo_text)
        else:
            lo = date_bounds(lo_text)[0] if lo_text else None
            hi = date_bounds(hi_text)[1] if hi_text else None
            if lo is None and hi is None:
                raise ValueError("'date:..' needs at least one end")
    except ValueError as exc:
        raise QueryError(str(exc), pos) from None
    if lo and hi and lo > hi:
        raise QueryError(f"the date range {text} is empty", pos)
    return DateRange(lo, hi)


# Split a bare word at punctuation, except between alphanumerics of alphabetic scripts (1.7, covid-19, e.g. …).
def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    cur: list[str] = []
    for k, ch in enumerate(text):
        if unicodedata.category(ch)[0] in "PS" and not _inner_joiner(text, k):
            pieces.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    pieces.append("".join(cur))
    return [p for p in pieces if p]


def _inner_joiner(text: str, k: int) -> bool:
    if k == 0 or k == len(text) - 1:
        return False
    before, after = text[k - 1], text[k + 1]
    return before.isascii() and before.isalnum() and after.isascii() and after.isalnum()


def _words(tok: _Tok, fld):
    words = [Word(w, fld) for w in (normalize_query_text(p) for p in _pieces(tok.text)) if w]
    if not words:
        return None  # punctuation alone carries nothing to search; `parse` reports a query made only of it
    return words[0] if len(words) == 1 else And(tuple(words), pasted=normalize_query_text(tok.text))


def _phrase(tok: _Tok, fld):
    text = normalize_query_text(tok.text)
    if not text:
        raise QueryError("empty phrase", tok.pos)
    return Word(text, fld, phrase=True)


# --- the parsed query --------------------------------------------------------------------------------------------
@dataclass
class ParsedQuery:
    text: str
    tree: Node
    highlight: dict[str, list[str]] = field(default_factory=dict)  # field ("headline"/"body"/...) → strings
    ignored: list[str] = field(default_factory=list)  # parts of the query with nothing to search (punctuation alone)
    expansions: list[dict] = field(default_factory=list)  # [{"term", "synonyms"}]: the words searched with synonyms

    @property
    def parsed(self) -> str:
        return self.tree.render()

    @property
    def is_browse(self) -> bool:
        return isinstance(self.tree, MatchAll)

    def to_whoosh(self) -> wq.Query:
        return _compile(self.tree)


def parse_query(text: str | None) -> ParsedQuery:
    text = (text or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is too long ({len(text)} characters; the limit is {MAX_QUERY_LENGTH})")
    if not text:
        return ParsedQuery("", MatchAll())
    canon = unicodedata.normalize("NFKC", text.translate(QUOTES_TO_ASCII))
    toks = _lex(canon)
    if not toks:
        return ParsedQuery(text, MatchAll())
    parser = _Parser(toks, len(canon))
    tree = parser.parse()
    if _count_terms(tree) > MAX_TERMS:
        raise QueryError(f"the query has too many terms (the limit is {MAX_TERMS})")
    if not _has_positive(tree) and not _has_negative(tree):
        raise QueryError(f"nothing to search for in {text!r}: it has no letters or digits")
    return ParsedQuery(text, tree, highlights(tree), parser.ignored)


def _count_terms(node) -> int:
    if isinstance(node, (And, Or)):
        return sum(_count_terms(c) for c in node.children)
    if isinstance(node, Not):
        return _count_terms(node.child)
    return 1


def _has_positive(node) -> bool:
    if isinstance(node, (And, Or)):
        return any(_has_positive(c) for c in node.children)
    return isinstance(node, (Word, DateRange))


def _has_negative(node) -> bool:
    if isinstance(node, (And, Or)):
        return any(_has_negative(c) for c in node.children)
    return isinstance(node, Not)


def highlights(tree) -> dict[str, list[str]]:
    """field → the strings to mark in it: every word the query searches there, but no negated one."""
    out: dict[str, list[str]] = {}
    _collect_highlights(tree, out, negated=False)
    return out


def _collect_highlights(node, out: dict, negated: bool) -> None:
    if isinstance(node, (And, Or)):
        for child in node.children:
            _collect_highlights(child, out, negated)
    elif isinstance(node, Not):
        _collect_highlights(node.child, out, not negated)
    elif isinstance(node, Word) and not negated:
        for fld in ("headline", "body") if node.field is None else (node.field,):
            bucket = out.setdefault(fld, [])
            if node.text not in bucket:
                bucket.append(node.text)


# --- compilation -------------------------------------------------------------------------------------------------
def substring_query(fieldname: str, text: str) -> wq.Query:
    """Documents whose `fieldname` (a bigram field) holds `text` as contiguous characters."""
    runs = [r for r in text.split(" ") if r]
    parts: list[wq.Query] = []
    for run in runs:
        grams = query_bigrams(run)
        if len(run) == 1:
            parts.append(CharPrefix(fieldname, run))
        elif len(grams) == 1:
            parts.append(wq.Term(fieldname, grams[0]))
        else:
            parts.append(wq.Phrase(fieldname, grams))
    return parts[0] if len(parts) == 1 else wq.And(parts)


class CharPrefix(wq.Prefix):
    """A one-character word over a bigram field: the documents of every bigram that starts with it. A common
    character expands to hundreds of bigrams (的: ~500 on a 10k-article index); Whoosh would OR hundreds of scored
    term matchers (~20 s a search there), so they are read once into one list with a constant score (under 1 s).
    The word fields' own terms still rank the matches."""

    def matcher(self, searcher, context=None):
        from whoosh.matching import ListMatcher, NullMatcher

        reader = searcher.reader()
        docnums = set()
        for term in self._btexts(reader):
            docnums.update(reader.postings(self.fieldname, term).all_ids())
        return ListMatcher(sorted(docnums), all_weights=self.boost) if docnums else NullMatcher()


def word_query(node: Word) -> wq.Query:
    """The Whoosh query for one word or phrase of the tree: where it matches, whatever surrounds it."""
    return _word_query(node)


def _word_query(node: Word) -> wq.Query:
    targets = _PHRASE_TARGETS.get(node.field, _TARGETS[node.field]) if node.phrase else _TARGETS[node.field]
    alternatives: list[wq.Query] = []
    for word_field, ngram_field in targets:
        if word_field and not node.phrase and " " not in node.text:
            alternatives.append(wq.Term(word_field, node.text))
        alternatives.append(substring_query(ngram_field, node.text))
    if node.field == "byline":
        alternatives.append(wq.Term("byline", node.text))
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _compile(node) -> wq.Query:
    if isinstance(node, MatchAll):
        return wq.Every()
    if isinstance(node, Word):
        return _word_query(node)
    if isinstance(node, DateRange):
        return wq.TermRange("date", node.lo, node.hi, startexcl=False, endexcl=False)
    if isinstance(node, Not):
        return wq.And([wq.Every(), wq.Not(_compile(node.child))])
    if isinstance(node, Or):
        return wq.Or([_compile(c) for c in node.children])
    if isinstance(node, And):
        positives = [_compile(c) for c in node.children if not isinstance(c, Not)]
        negatives: list[wq.Query] = [wq.Not(_compile(c.child)) for c in node.children if isinstance(c, Not)]
        matching = wq.And((positives or [wq.Every()]) + negatives)
        bonus = _closeness_bonus(node)
        # AndMaybe scores the optional clause but matches exactly the required one: the bonus only reorders.
        return wq.AndMaybe(matching, bonus) if bonus is not None else matching
    raise TypeError(f"unknown query node {node!r}")


CONTIGUOUS_BOOST = 2.0  # the words as one contiguous string (or a pasted text with its punctuation)
PROXIMITY_BOOST = 1.0  # the words as jieba words, in order, a few words apart
PROXIMITY_SLOP = 4


def _closeness_bonus(node: And) -> wq.Query | None:
    """Extra score for documents where the words of an AND stand together: as one contiguous string in the headline
    or body (the pasted form with its punctuation first, then the words run together), or near each other."""
    # a word searched with its synonyms counts as typed: its closeness to its neighbours still ranks
    typed = (c.typed if isinstance(c, Synonymous) else c for c in node.children)
    words = [w for w in typed if isinstance(w, Word) and w.field in (None, "headline")]
    if len(words) < 2 and node.pasted is None:
        return None
    ng_fields = ("headline_ng",) if all(w.field == "headline" for w in words) and words else ("headline_ng", "body_ng")
    strings = [node.pasted] if node.pasted else []
    if len(words) >= 2:
        strings.append(_run_together([w.text for w in words]))
    clauses = []
    for text in dict.fromkeys(strings):
        for ng in ng_fields:
            clauses.append(_boosted(substring_query(ng, text), CONTIGUOUS_BOOST))
    if len(words) >= 2 and not any(" " in w.text for w in words):
        for wf in ("headline", "body") if "body_ng" in ng_fields else ("headline",):
            clauses.append(wq.Phrase(wf, [w.text for w in words], slop=PROXIMITY_SLOP, boost=PROXIMITY_BOOST))
    return wq.Or(clauses) if clauses else None


def _boosted(query: wq.Query, boost: float) -> wq.Query:
    query.boost = boost  # type: ignore[attr-defined]  # Whoosh's Query base declares no boost; these nodes have one
    return query


def _run_together(texts: list[str]) -> str:
    """Words joined as the normalized text would hold them: no space, except between two alphabetic words."""
    out = texts[0]
    for text in texts[1:]:
        out += (" " if _alphabetic(out[-1]) and _alphabetic(text[0]) else "") + text
    return out


def _alphabetic(ch: str) -> bool:
    return ch.isalnum() and not is_cjk(ch)
