"""The import path the index stores for its codec (Whoosh pickles it with every segment): `search.codec.CompactCodec`.
The code lives in search/index/codec/postings.py; this module only keeps the stored name."""

from search.index.codec.postings import CompactCodec

__all__ = ["CompactCodec"]
