"""The import path the index stores for its analyzers (Whoosh pickles the schema, and `newsearch.json` names them):
`search.analysis.WordTokenizer` and `search.analysis.NgramTokenizer`. The code lives in search/text/analysis.py;
this module only keeps the stored name, so indexes built by any version stay readable."""

from search.text.analysis import NgramTokenizer, WordTokenizer

__all__ = ["NgramTokenizer", "WordTokenizer"]
