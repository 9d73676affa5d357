"""A leaner posting value for positional fields.

Whoosh's `Positions` format pickles every posting's position list (about ten bytes and a pickle call for a term
that occurs once). `CompactPositions` stores the same information as varints — the count, then the gaps between
positions — which is smaller on disk and faster to build and read. The index stores this class by the name
`search.formats.CompactPositions` (search/formats.py), whatever module holds the code.
"""

from __future__ import annotations

from whoosh.formats import Positions

from search.index.codec.varints import varints


def _read_varints(data: bytes) -> list[int]:
    numbers, n, shift = [], 0, 0
    for byte in data:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            numbers.append(n)
            n, shift = 0, 0
    return numbers


class CompactPositions(Positions):
    """Positions as varints: count, then deltas."""

    def encode(self, poslist) -> bytes:
        deltas, base = [len(poslist)], 0
        for pos in poslist:
            deltas.append(pos - base)
            base = pos
        return varints(deltas)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        numbers = _read_varints(valuestring)
        positions, at = [], 0
        for delta in numbers[1:]:
            at += delta
            positions.append(at)
        return positions

    def decode_frequency(self, valuestring: bytes) -> int:
        n, shift = 0, 0
        for byte in valuestring:
            n |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return n
            shift += 7
        return n


# The stored name (see search/formats.py): pickled segments and schemas must not depend on where the code lives.
CompactPositions.__module__ = "search.formats"
