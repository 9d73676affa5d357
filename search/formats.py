"""The import path the index stores for its posting format (Whoosh pickles it in the schema):
`search.formats.CompactPositions`. The code lives in search/index/codec/formats.py; this module only keeps the stored
name."""

from search.index.codec.formats import CompactPositions

__all__ = ["CompactPositions"]
