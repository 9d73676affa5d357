"""Reprints and near-duplicates: MinHash over character shingles of the normalized body, LSH banding to find
candidates, and a signature check to verify them.

Every copy stays in the index; each is marked with its `cluster`, the id of the first-indexed member. A document's
signature (129 bytes) is kept in a per-document column (`minhash`), so `DuplicateTracker.from_reader` rebuilds every
indexed document's signature and band keys from that column alone — no stored text is read — and a later run
verifies candidates exactly as the run that indexed them would have.

Only the body is compared: a reprint commonly changes the headline, byline and dateline, and keeps the text. Two
stories on one topic (same campaign, same people) share names and phrases but few 5-character runs, so their
Jaccard similarity stays far below the threshold.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from search.text.analysis import code_points

SHINGLE = 5  # characters per shingle: long enough that shared names and set phrases do not make two stories alike
BANDS, ROWS = 32, 4  # 128 MinHash values; candidates from Jaccard ≈ 0.4 up (P(candidate | J=0.5) ≈ 0.87, J=0.6 ≈ 0.99)
PERMUTATIONS = BANDS * ROWS
THRESHOLD = 0.5  # estimated Jaccard at or above which a candidate is a near-duplicate
MIN_SHINGLES = 12  # shorter bodies (captions, one-line credits) only cluster when their normalized text is identical

_MULTIPLIER = np.uint64(1_000_003)
_rng = np.random.default_rng(20200219)  # fixed: band keys written by one run must be reproduced by the next
_A = (_rng.integers(1, 1 << 32, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)).astype(np.uint32)  # odd
_B = _rng.integers(0, 1 << 32, size=PERMUTATIONS, dtype=np.uint64).astype(np.uint32)
# Layout and punctuation are not part of a text's identity; letters, digits and Han characters are.
_NOISE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")


def normalize(text: str) -> str:
    return _NOISE.sub("", (text or "").lower())


def shingles(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the normalized text's character shingles (a polynomial hash of the code points,
    computed for all shingles at once)."""
    norm = normalize(text)
    if len(norm) < SHINGLE:
        return np.zeros(0, dtype=np.uint64)
    points = code_points(norm).astype(np.uint64)
    count = points.size - SHINGLE + 1
    h = np.zeros(count, dtype=np.uint64)
    for k in range(SHINGLE):  # arithmetic modulo 2**64
        h = h * _MULTIPLIER + points[k : k + count]
    return np.unique((h >> np.uint64(32)) ^ (h & np.uint64(0xFFFFFFFF)))


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (PERMUTATIONS 8-bit values, "b-bit MinHash") of a non-empty shingle set: for each
    permutation, the least multiply-shift hash (a·x + b mod 2**32: universal for the 32-bit shingle hashes, and half
    the work of 64-bit arithmetic) of the shingle hashes, its low 8 bits. Two unrelated minima agree by chance once
    in 256, which raises an estimated similarity by (1 − J)/256 — at the 0.5 threshold, 0.002 — and a million
    signatures take 128 MB (in the tracker and in the index's column: 0.05 bytes a byte of text, half of 16 bits)."""
    out = np.empty(PERMUTATIONS, dtype=np.uint32)
    for start in range(0, len(hashes), 4096):  # bounded memory for very long bodies
        chunk = hashes[start : start + 4096].astype(np.uint32)
        values = (_A[:, None] * chunk[None, :] + _B[:, None]).min(axis=1)
        out = values if start == 0 else np.minimum(out, values)
    return (out & np.uint32(0xFF)).astype(np.uint8)  # the low bits: a minimum's high bits are mostly zeros


_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # odd: keeps bands apart
_SHORT_TAG = np.uint64(0xD1B54A32D192ED03)


def band_keys(sig: np.ndarray) -> np.ndarray:
    """The LSH keys of a signature: per band its ROWS values packed into 32 bits, salted with the band number."""
    rows = sig.astype(np.uint64).reshape(BANDS, ROWS)
    packed = (rows[:, 0] << np.uint64(24)) | (rows[:, 1] << np.uint64(16)) | (rows[:, 2] << np.uint64(8)) | rows[:, 3]
    return packed ^ _BAND_SALT


def _short_key(crc: int) -> np.ndarray:
    return np.array([np.uint64(crc) ^ _SHORT_TAG], dtype=np.uint64)


def _exact_crc(text: str) -> int:
    return zlib.crc32(normalize(text).encode("utf-8"))


# What the `minhash` column holds per document: b"" (empty body), b"x" + the CRC-32 of a short body's normalized
# text, or b"s" + the 8-bit signature.
def minhash_record(body: str) -> bytes:
    hashes = shingles(body)
    if len(hashes) >= MIN_SHINGLES:
        return b"s" + signature(hashes).tobytes()
    return b"x" + _exact_crc(body).to_bytes(4, "big") if normalize(body) else b""


def _parse_record(record: bytes) -> tuple[np.ndarray | None, np.ndarray]:
    """(signature or None, LSH keys) of a `minhash` record."""
    if record[:1] == b"s" and len(record) == 1 + PERMUTATIONS:
        sig = np.frombuffer(record, dtype=np.uint8, offset=1)
        return sig, band_keys(sig)
    if record[:1] == b"x" and len(record) == 5:
        return None, _short_key(int.from_bytes(record[1:], "big"))
    return None, np.empty(0, dtype=np.uint64)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


class DuplicateTracker:
    """Assigns each article its cluster, against the index it is about to join and the articles before it in this run.

    The indexer, per article and before writing it: `article.cluster = tracker.assign(article)`; the schema's
    `to_document` then writes the article's `minhash` record (set on `article.dup_signature`) into its column.

    Sized for millions of articles: signatures are rows of one 8-bit matrix, band keys live in sorted numpy runs
    (`_KeyIndex`), members are plain lists — about 570 bytes an article.
    """

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        self._ids: list[str] = []
        self._clusters: list[str] = []
        self._sigs = _Rows(PERMUTATIONS)
        self._has_sig = bytearray()
        self._alive = bytearray()
        self._by_file: dict[str, list[int]] = {}
        self._keys = _KeyIndex()

    # --- loading ---------------------------------------------------------------------------------------------
    @classmethod
    def from_reader(cls, reader, threshold: float = THRESHOLD) -> DuplicateTracker:
        """Everything needed from an open index reader (postings and the `minhash` column; no stored text)."""
        return cls.from_rows(tracker_rows(reader), threshold)

    @classmethod
    def from_rows(cls, rows, threshold: float = THRESHOLD) -> DuplicateTracker:
        """From `tracker_rows` of one index, or of every shard of a sharded one, taken in `seq` order (indexing
        order: the first member of a cluster comes first)."""
        tracker = cls(threshold=threshold)
        for _, id_, cluster, file, record in sorted(rows, key=lambda row: row[0]):
            sig, keys = _parse_record(record)
            tracker._add(id_, cluster, file, sig, keys)
        return tracker

    # --- per article -----------------------------------------------------------------------------------------
    def assign(self, article) -> str:
        """The article's cluster id: that of its most similar verified near-duplicate already seen, else its own id.
        Also records the article (and sets `article.dup_signature` when the article has that attribute)."""
        record = minhash_record(article.body)
        sig, keys = _parse_record(record)
        best, best_score = None, 0.0
        for index in sorted(self._keys.lookup(keys)):
            if not self._alive[index] or self._ids[index] == article.id:
                continue
            if sig is None or not self._has_sig[index]:
                score = 1.0 if sig is None and not self._has_sig[index] else 0.0  # exact key of two short bodies
            else:
                score = similarity(sig, self._sigs[index])
            if score >= self.threshold and score > best_score:
                best, best_score = index, score
        cluster = self._clusters[best] if best is not None else article.id
        self._add(article.id, cluster, getattr(article, "file", ""), sig, keys)
        if hasattr(article, "dup_signature"):
            article.dup_signature = record
        return cluster

    def forget_file(self, file: str) -> None:
        """Drop the members from `file` (the indexer is replacing that file's articles), so they attract no new ones."""
        for index in self._by_file.pop(file, ()):
            self._alive[index] = 0

    # --- internals -------------------------------------------------------------------------------------------
    def _add(self, id_: str, cluster: str, file: str, sig: np.ndarray | None, keys: np.ndarray) -> None:
        index = len(self._ids)
        self._ids.append(id_)
        self._clusters.append(id_ if cluster == id_ else cluster)
        self._sigs.append(sig)
        self._has_sig.append(sig is not None)
        self._alive.append(1)
        self._keys.add(keys, index)
        if file:
            self._by_file.setdefault(file, []).append(index)


class _Rows:
    """A growing matrix of fixed-width uint8 rows, in blocks (no copying as it grows)."""

    BLOCK = 4096

    def __init__(self, width: int):
        self.width = width
        self.blocks: list[np.ndarray] = []
        self.count = 0

    def append(self, row: np.ndarray | None) -> None:
        if self.count % self.BLOCK == 0:
            self.blocks.append(np.zeros((self.BLOCK, self.width), dtype=np.uint8))
        if row is not None:
            self.blocks[-1][self.count % self.BLOCK] = row
        self.count += 1

    def __getitem__(self, index: int) -> np.ndarray:
        return self.blocks[index // self.BLOCK][index % self.BLOCK]


class _KeyIndex:
    """LSH key → member indexes: sorted numpy runs, merged as they grow (so lookups search a few of them), plus a
    buffer of the latest additions."""

    BUFFER = 1 << 16

    def __init__(self):
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.buffer: dict[int, list[int]] = {}
        self.pending: list[tuple[np.ndarray, int]] = []
        self.buffered = 0

    def add(self, keys: np.ndarray, member: int) -> None:
        for key in keys.tolist():
            self.buffer.setdefault(key, []).append(member)
        self.pending.append((keys, member))
        self.buffered += len(keys)
        if self.buffered >= self.BUFFER:
            self._flush()

    def lookup(self, keys: np.ndarray) -> set[int]:
        found: set[int] = set()
        for run_keys, run_members in self.runs:
            lo = np.searchsorted(run_keys, keys, side="left")
            hi = np.searchsorted(run_keys, keys, side="right")
            for a, b in zip(lo.tolist(), hi.tolist()):
                if b > a:
                    found.update(run_members[a:b].tolist())
        for key in keys.tolist():
            found.update(self.buffer.get(key, ()))
        return found

    def _flush(self) -> None:
        keys = np.concatenate([k for k, _ in self.pending])
        members = np.concatenate([np.full(k.size, m, dtype=np.int32) for k, m in self.pending])
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], members[order]))
        self.buffer, self.pending, self.buffered = {}, [], 0
        while len(self.runs) > 1 and self.runs[-2][0].size <= 2 * self.runs[-1][0].size:
            (k1, m1), (k2, m2) = self.runs.pop(-2), self.runs.pop()
            keys, members = np.concatenate((k1, k2)), np.concatenate((m1, m2))
            order = np.argsort(keys, kind="stable")
            self.runs.append((keys[order], members[order]))


def tracker_rows(reader) -> list[tuple[int, str, str, str, bytes]]:
    """(seq, id, cluster, file, minhash record) of every live document with a record, in document order."""
    if not reader.has_column("minhash"):
        return []
    from search.index.columns import seq_numbers

    fields = set(reader.indexed_field_names())
    live = set(reader.all_doc_ids())
    ids = _postings_map(reader, "id", live)
    clusters = _postings_map(reader, "cluster", live) if "cluster" in fields else {}
    files = _postings_map(reader, "file", live) if "file" in fields else {}
    seq = seq_numbers(reader)
    column = reader.column_reader("minhash")
    rows = []
    for d in sorted(live):
        record = column[d]
        if d in ids and record:
            rows.append((int(seq[d]), ids[d], clusters.get(d) or ids[d], files.get(d, ""), record))
    return rows


def _postings_map(reader, fieldname: str, live: set[int]) -> dict[int, str]:
    from search.index.columns import field_documents

    out = {}
    for term, docs in field_documents(reader, fieldname):
        value = term.decode("utf-8") if isinstance(term, bytes) else term
        for d in docs:
            if d in live:
                out[d] = value
    return out
