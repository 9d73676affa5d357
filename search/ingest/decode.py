"""Bytes → text. UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312). Never raises."""

from __future__ import annotations

import codecs


class DecodeError(ValueError):
    """The bytes are not a text file we can read; the message says why."""


def decode_bytes(data: bytes) -> str:
    """Decode a page file. Raises DecodeError (only) with a human reason for empty, binary or undecodable input."""
    if not data.strip():
        raise DecodeError("empty file" if not data else "file holds only whitespace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _check_text(data.decode("utf-16"))
        except UnicodeDecodeError as e:
            raise DecodeError(f"cannot decode as UTF-16 ({e.reason} at offset {e.start})") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DecodeError(f"binary file (NUL byte at offset {nul})")
    try:
        return _check_text(data.decode("utf-8"))
    except UnicodeDecodeError as utf8_error:
        try:
            return _check_text(data.decode("gb18030"))
        except UnicodeDecodeError as gb_error:
            raise DecodeError(_undecodable(data, utf8_error, gb_error)) from None


def _undecodable(data: bytes, utf8_error: UnicodeDecodeError, gb_error: UnicodeDecodeError) -> str:
    """Why neither encoding reads the file: cut off inside a character (an encoding that fails only at the very end,
    UTF-8 first), or the first bad byte of each."""
    for name, error in (("UTF-8", utf8_error), ("GB18030", gb_error)):
        if error.end == len(data) and error.start >= len(data) - 4:
            return (
                f"cannot decode as UTF-8 or GB18030: the file ends in the middle of a {name} character "
                f"(cut off at byte {error.start}; truncated?)"
            )
    return (
        f"cannot decode as UTF-8 or GB18030 (UTF-8: byte 0x{data[utf8_error.start]:02x} at offset "
        f"{utf8_error.start}; GB18030: byte 0x{data[gb_error.start]:02x} at offset {gb_error.start})"
    )


def _check_text(text: str) -> str:
    if not text.strip():
        raise DecodeError("file holds only whitespace")
    controls = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\r\f\v")
    if controls > max(8, len(text[:4096]) // 50):
        raise DecodeError("binary file (control characters)")
    return text


def page_lines(text: str) -> list[str]:
    """A page's lines as provenance numbers them: split at "\\n" only (str.splitlines would also split at form feeds,
    \\x1c–\\x1e and U+2028, which editors do not show as line breaks), a trailing "\\r" dropped."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
