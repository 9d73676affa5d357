"""LEB128 varints (7 bits a byte, high bit = more follows): one at a time for headers, and whole arrays at once with
numpy for posting lists and term statistics."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_MAX_VARINT_BYTES = 10  # a 64-bit number


def varints(numbers: Iterable[int]) -> bytes:
    """LEB128 bytes of non-negative ints (7 bits a byte, high bit = more follows)."""
    out = bytearray()
    for n in numbers:
        while n > 0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


def read_varint(data: bytes | memoryview, at: int, what: str) -> tuple[int, int]:
    """The varint at `at` in `data` and the offset after it; a ValueError naming `what` when the data ends first."""
    value = shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    raise ValueError(f"corrupt {what}: a number is cut short")


def decode_varints(buf: np.ndarray) -> np.ndarray:
    """LEB128 varints (7 bits a byte, high bit = more follows) → int64."""
    if buf.size == 0:
        return np.empty(0, dtype=np.int64)
    last = buf < 0x80
    starts = np.flatnonzero(np.concatenate(([True], last[:-1])))
    owner: np.ndarray = np.cumsum(last) - last
    shift = 7 * (np.arange(buf.size) - starts[owner])
    return np.add.reduceat((buf & 0x7F).astype(np.int64) << shift, starts)


def encode_varints(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LEB128 bytes of non-negative `numbers`, and the byte offset where each number starts (plus the total)."""
    numbers = numbers.astype(np.uint64)
    sizes = np.ones(numbers.size, dtype=np.int64)
    for k in range(1, _MAX_VARINT_BYTES):
        sizes += numbers >= (np.uint64(1) << np.uint64(7 * k))
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    for k in range(int(sizes.max()) if numbers.size else 0):
        has = sizes > k
        chunk = (numbers[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[:-1][has] + k] = (chunk | more).astype(np.uint8)
    return out, offsets
