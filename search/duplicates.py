"""Reprints and near-duplicates: MinHash over character shingles of the normalized body, LSH banding to find
candidates, and a signature check to verify them.

Every copy stays in the index; each is marked with its `cluster`, the id of the first-indexed member. The band keys
of a document are kept in a per-document column (`dup_keys`; as indexed terms they would be 32 one-posting terms per
document, nearly a fifth of the index) and each key spells out its band's MinHash values, so
`DuplicateTracker.from_reader` rebuilds every indexed document's full signature from that column alone — no stored
text is read — and a later run verifies candidates exactly as the run that indexed them would have.

Only the body is compared: a reprint commonly changes the headline, byline and dateline, and keeps the text. Two
stories on one topic (same campaign, same people) share names and phrases but few 5-character runs, so their
Jaccard similarity stays far below the threshold.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import numpy as np

SHINGLE = 5  # characters per shingle: long enough that shared names and set phrases do not make two stories alike
BANDS, ROWS = 32, 4  # 128 MinHash values; candidates from Jaccard ≈ 0.4 up (P(candidate | J=0.5) ≈ 0.87, J=0.6 ≈ 0.99)
PERMUTATIONS = BANDS * ROWS
THRESHOLD = 0.5  # estimated Jaccard at or above which a candidate is a near-duplicate
MIN_SHINGLES = 12  # shorter bodies (captions, one-line credits) only cluster when their normalized text is identical

_MULTIPLIER = np.uint64(1_000_003)
_rng = np.random.default_rng(20200219)  # fixed: band keys written by one run must be reproduced by the next
_A = _rng.integers(1, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)  # odd multipliers
_B = _rng.integers(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)
# Layout and punctuation are not part of a text's identity; letters, digits and Han characters are.
_NOISE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_KEY = re.compile(r"^(\d{2}):([0-9a-f]{32})$")
_EXACT_PREFIX = "x:"


def normalize(text: str) -> str:
    return _NOISE.sub("", (text or "").lower())


def shingles(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the normalized text's character shingles (a polynomial hash of the code points,
    computed for all shingles at once)."""
    norm = normalize(text)
    if len(norm) < SHINGLE:
        return np.zeros(0, dtype=np.uint64)
    points = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = points.size - SHINGLE + 1
    h = np.zeros(count, dtype=np.uint64)
    for k in range(SHINGLE):  # arithmetic modulo 2**64
        h = h * _MULTIPLIER + points[k:k + count]
    return np.unique((h >> np.uint64(32)) ^ (h & np.uint64(0xFFFFFFFF)))


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (PERMUTATIONS uint32 values) of a non-empty shingle set: for each permutation, the least
    multiply-shift hash (a·x + b mod 2**64, top 32 bits) of the shingle hashes."""
    out = np.empty(PERMUTATIONS, dtype=np.uint64)
    for start in range(0, len(hashes), 4096):  # bounded memory for very long bodies
        chunk = hashes[start:start + 4096]
        values = ((_A[:, None] * chunk[None, :] + _B[:, None]) >> np.uint64(32)).min(axis=1)
        out = values if start == 0 else np.minimum(out, values)
    return out.astype(np.uint32)


def band_keys_of(sig: np.ndarray) -> list[str]:
    return [f"{b:02d}:" + "".join(f"{int(v):08x}" for v in sig[b * ROWS:(b + 1) * ROWS]) for b in range(BANDS)]


def _exact_key(text: str) -> str:
    return _EXACT_PREFIX + format(zlib.crc32(normalize(text).encode("utf-8")), "08x")


def body_band_keys(body: str) -> list[str]:
    """The LSH band keys of a body: one per band, or one exact-text key for a short body, [] for an empty one."""
    hashes = shingles(body)
    if len(hashes) >= MIN_SHINGLES:
        return band_keys_of(signature(hashes))
    return [_exact_key(body)] if normalize(body) else []


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


@dataclass
class _Member:
    id: str
    cluster: str
    file: str = ""
    sig: np.ndarray | None = None  # None: a short body, matched by its exact key only


@dataclass
class DuplicateTracker:
    """Assigns each article its cluster, against the index it is about to join and the articles before it in this run.

    The indexer, per article and before writing it: `article.cluster = tracker.assign(article)`; the schema's
    `to_document` then writes `tracker.band_keys(article)` into the `dup_keys` column (via `article.dup_bands`).
    """

    threshold: float = THRESHOLD
    _members: list[_Member] = field(default_factory=list)
    _by_key: dict[str, list[int]] = field(default_factory=dict)  # band key → member indexes
    _by_file: dict[str, list[tuple[int, list[str]]]] = field(default_factory=dict)  # file → (member, its keys)
    _sigs: dict[str, np.ndarray | None] = field(default_factory=dict)  # article id → signature, for this run

    # --- loading ---------------------------------------------------------------------------------------------
    @classmethod
    def from_reader(cls, reader, threshold: float = THRESHOLD) -> "DuplicateTracker":
        """Everything needed from an open index reader (postings only; the reader may be closed afterwards)."""
        tracker = cls(threshold=threshold)
        if not reader.has_column("dup_keys"):
            return tracker
        fields = set(reader.indexed_field_names())
        live = set(reader.all_doc_ids())
        ids = _postings_map(reader, "id", live)
        clusters = _postings_map(reader, "cluster", live) if "cluster" in fields else {}
        files = _postings_map(reader, "file", live) if "file" in fields else {}
        sigs: dict[int, np.ndarray] = {}
        keys: dict[int, list[str]] = {}
        column = reader.column_reader("dup_keys")
        for d in live:
            value = column[d]
            if not value:
                continue
            doc_keys = value.decode("ascii").split()
            keys[d] = doc_keys
            for term in doc_keys:
                m = _KEY.match(term)
                if m:
                    band, hexes = int(m.group(1)), m.group(2)
                    sig = sigs.setdefault(d, np.zeros(PERMUTATIONS, dtype=np.uint32))
                    sig[band * ROWS:(band + 1) * ROWS] = [int(hexes[i:i + 8], 16) for i in range(0, 32, 8)]
        for d in sorted(keys):  # docnum order is indexing order: the first member of a cluster comes first
            if d not in ids:
                continue
            tracker._add(_Member(ids[d], clusters.get(d) or ids[d], files.get(d, ""), sigs.get(d)), keys[d])
        return tracker

    # --- per article -----------------------------------------------------------------------------------------
    def band_keys(self, article) -> list[str]:
        """The LSH band keys of the article's body ([] for an empty body)."""
        sig = self._signature(article)
        if sig is None:
            body = normalize(article.body)
            return [_exact_key(article.body)] if body else []
        return band_keys_of(sig)

    def assign(self, article) -> str:
        """The article's cluster id: that of its most similar verified near-duplicate already seen, else its own id.
        Also records the article (and sets `article.dup_bands` when the article has that attribute)."""
        sig = self._signature(article)
        keys = self.band_keys(article)
        best, best_score = None, 0.0
        for index in sorted({i for k in keys for i in self._by_key.get(k, ())}):
            member = self._members[index]
            if member.id == article.id:
                continue
            if sig is None or member.sig is None:
                score = 1.0 if sig is None and member.sig is None else 0.0  # exact key match of two short bodies
            else:
                score = similarity(sig, member.sig)
            if score >= self.threshold and score > best_score:
                best, best_score = member, score
        cluster = best.cluster if best is not None else article.id
        self._add(_Member(article.id, cluster, getattr(article, "file", ""), sig), keys)
        if hasattr(article, "dup_bands"):
            article.dup_bands = keys
        return cluster

    def forget_file(self, file: str) -> None:
        """Drop the members from `file` (the indexer is replacing that file's articles), so they attract no new ones."""
        for index, keys in self._by_file.pop(file, ()):
            for key in keys:
                members = self._by_key.get(key)
                if members and index in members:
                    members.remove(index)

    # --- internals -------------------------------------------------------------------------------------------
    def _signature(self, article) -> np.ndarray | None:
        if article.id in self._sigs:
            return self._sigs[article.id]
        hashes = shingles(article.body)
        sig = signature(hashes) if len(hashes) >= MIN_SHINGLES else None
        self._sigs[article.id] = sig
        return sig

    def _add(self, member: _Member, keys: list[str]) -> None:
        self._members.append(member)
        index = len(self._members) - 1
        for key in keys:
            self._by_key.setdefault(key, []).append(index)
        if member.file:
            self._by_file.setdefault(member.file, []).append((index, keys))


def _postings_map(reader, fieldname: str, live: set[int]) -> dict[int, str]:
    out = {}
    for term in reader.field_terms(fieldname):
        value = term.decode("utf-8") if isinstance(term, bytes) else term
        for d in reader.postings(fieldname, term).all_ids():
            if d in live:
                out[d] = value
    return out


def clusters_of(articles) -> dict[str, str]:
    """Article id → cluster id for a list of articles taken in order (no index): what an empty index would assign."""
    tracker = DuplicateTracker()
    return {a.id: tracker.assign(a) for a in articles}
