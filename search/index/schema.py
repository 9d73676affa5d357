"""The index's fields, and how an Article becomes a document.

Each searchable text has a jieba word field (for ranking, phrase-correct) and a bigram field (`*_ng`, for exact
substring matching); stored fields hold what results and article pages show.
"""

from __future__ import annotations

import json

from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from search.article import Article
from search.index.codec.formats import CompactPositions
from search.text.analysis import NGRAMS, WORDS
from search.text.regions import ancestors, label

# Bumped whenever fields or analysis change in a way an existing index cannot follow.
# 2: `file` holds the page's absolute path; payload gains the catalogue's page and issue_date.
# 3: `cluster` (near-duplicate cluster id) and `dup_bands` (its LSH band keys, see search/index/reprints.py).
# 4: positions stored as varints (search/index/codec/formats.py).
# 5: the band keys moved from an indexed field to the `dup_keys` column.
# 6: 16-bit MinHash signatures from new (vectorised) hash functions in a `minhash` column instead of `dup_keys`;
#    text fields' postings are compact lists (search/index/codec/postings.py).
# 7: the term table's blocks hold whole keys after an offset table (search/index/codec/termtable.py).
# 8: compact lists: one per term, a flagged document stream (deflated when shorter) and bit-packed positions;
#    compact term infos (search/index/codec/terminfo.py); 8-bit MinHash signatures.
# 9: `seq` column: each article's place in the indexing order of its archive (across every shard of a sharded one).
SCHEMA_VERSION = 9

# Separates list values (bylines, region paths) inside one text field, so no phrase runs from one into the next.
VALUE_GAP = " \u3000|\u3000 "


def _text(analyzer, field_boost: float = 1.0, stored: bool = False) -> TEXT:
    """A positional text field whose postings store positions as varints (search/index/codec/formats.py)."""
    field = TEXT(analyzer=analyzer, stored=stored, field_boost=field_boost)
    field.format = CompactPositions(field_boost=field_boost)
    return field


def build_schema() -> Schema:
    return Schema(
        id=ID(unique=True, stored=True),
        headline=_text(WORDS, 3.0, stored=True),
        headline_ng=_text(NGRAMS, 1.5),
        body=_text(WORDS, stored=True),
        body_ng=_text(NGRAMS, 0.5),
        byline=KEYWORD(stored=True, commas=True, scorable=True, field_boost=2.0),
        byline_ng=_text(NGRAMS),
        region=KEYWORD(commas=True),  # every ancestor path, for filters and facets
        region_ng=_text(NGRAMS, 0.3),  # place names, so 湖南 finds articles about 湖南省
        source=ID(stored=True),
        source_ng=_text(NGRAMS, 0.3),
        date=ID(stored=True, sortable=True),  # ISO yyyy-mm-dd; absent when unknown
        file=ID(stored=True),
        ordinal=NUMERIC(stored=True, sortable=True),
        payload=STORED,  # the rest of the Article, as JSON
        cluster=ID(stored=True),  # id of the first-indexed member of the article's near-duplicate cluster
        minhash=COLUMN(VarBytesColumn()),  # the body's MinHash signature, for later runs' near-duplicate checks
        # 1, 2, 3 … in the order articles were indexed, across runs and shards: ties between shards are broken by it
        # (a single index breaks them by document number, which is the same order until segments merge)
        seq=COLUMN(NumericColumn("Q")),
    )


_PAYLOAD_FIELDS = (
    "kicker",
    "subheadline",
    "column",
    "byline_roles",
    "date_source",
    "date_partial",
    "dateline_date",
    "region",
    "regions_mentioned",
    "sources",
    "url",
    "line_start",
    "line_end",
    "page",
    "issue_date",
    "kind",
)


def searchable_body(article: Article) -> str:
    """What the default search reads besides the headline: kicker, subheadline, column and the printed body."""
    return "\n".join(part for part in (article.kicker, article.subheadline, article.column, article.body) if part)


def to_document(article: Article) -> dict:
    """The fields of `article` as the index stores them. Pure: what is computed from the text (regions, reprint
    cluster and MinHash) was set on the article before."""
    paths = sorted({a for path in article.region for a in ancestors(path)})
    doc = {
        "id": article.id,
        "headline": article.headline,
        "headline_ng": article.headline,
        "body": article.body,
        "body_ng": searchable_body(article),
        "byline": ",".join(name.replace(",", " ") for name in article.byline),
        "byline_ng": VALUE_GAP.join(article.byline),
        "region": ",".join(paths),
        "region_ng": VALUE_GAP.join(label(p) for p in paths),
        "source": article.source,
        "source_ng": article.source,
        "file": article.file,
        "ordinal": article.ordinal,
        "seq": article.seq,
        "payload": json.dumps({k: getattr(article, k) for k in _PAYLOAD_FIELDS}, ensure_ascii=False),
    }
    if article.date:
        doc["date"] = article.date
    doc["cluster"] = article.cluster or article.id
    doc["minhash"] = article.dup_signature  # set by the sync's reprint tracker; an unclustered article has none
    return {k: v for k, v in doc.items() if v != ""}


def from_stored(stored: dict) -> dict:
    """A stored document → the article dict that results and pages show."""
    payload = json.loads(stored.get("payload") or "{}")
    byline = stored.get("byline") or ""
    return {
        "id": stored["id"],
        "cluster": stored.get("cluster") or stored["id"],
        "headline": stored.get("headline", ""),
        "kicker": payload.get("kicker", ""),
        "subheadline": payload.get("subheadline", ""),
        "column": payload.get("column", ""),
        "byline": [name for name in byline.split(",") if name],
        "byline_roles": payload.get("byline_roles", []),
        "date": stored.get("date"),
        "date_source": payload.get("date_source", "none"),
        "date_partial": payload.get("date_partial", ""),
        "dateline_date": payload.get("dateline_date", ""),
        "region": payload.get("region", []),
        "regions_mentioned": payload.get("regions_mentioned", []),
        "sources": payload.get("sources", {}),
        "source": stored.get("source", ""),
        "url": payload.get("url", ""),
        "file": file_name(stored.get("file", "")),
        "ordinal": stored.get("ordinal", 0),
        "line_start": payload.get("line_start", 0),
        "line_end": payload.get("line_end", 0),
        "page": payload.get("page", ""),
        "issue_date": payload.get("issue_date", ""),
        "kind": payload.get("kind", "news"),
        "body": stored.get("body", ""),
    }


def file_name(path: str) -> str:
    """What results show of a page file: its name. The stored path (absolute, for sync and the source page view) stays
    on the server."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]
