"""The index's record of which page files it holds, so a nightly `newsearch index` re-reads only what changed.

`manifest.json` in the index directory:

    {"version": 1, "files": {"/abs/path/0412.txt": {"size": 5120, "mtime_ns": 1711…, "sha1": "…",
                                                     "catalog": "<fingerprint of its catalogue entry, or ''>",
                                                     "articles": 8}}}

It only ever describes committed state: the indexer writes it (atomically: a temporary file, then a rename) after
each commit, listing only files whose articles that commit holds. A run killed before it wrote the manifest leaves
files the manifest does not know, and the next run indexes them again (replacing by file, so nothing doubles).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1


@dataclass
class FileRecord:
    size: int
    mtime_ns: int
    sha1: str
    catalog: str = ""
    articles: int = 0


class Manifest:
    def __init__(self, index_dir: str | Path, files: dict[str, FileRecord] | None = None):
        self.path = Path(index_dir) / MANIFEST_FILE
        self.files: dict[str, FileRecord] = files or {}

    @classmethod
    def load(cls, index_dir: str | Path) -> Manifest:
        """The manifest of `index_dir`; empty when missing or unreadable (everything is then checked afresh)."""
        manifest = cls(index_dir)
        try:
            data = json.loads(manifest.path.read_text(encoding="utf-8"))
            if data.get("version") == MANIFEST_VERSION:
                manifest.files = {path: FileRecord(**record) for path, record in data["files"].items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass
        return manifest

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "files": {p: asdict(r) for p, r in sorted(self.files.items())}}
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=0)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def unchanged(self, path: str, stat: os.stat_result, catalog: str) -> bool:
        """Same size, modification time and catalogue entry as when it was indexed: no need to read it."""
        record = self.files.get(path)
        return (
            record is not None
            and record.size == stat.st_size
            and record.mtime_ns == stat.st_mtime_ns
            and record.catalog == catalog
        )


def file_key(path: str | Path) -> str:
    """How a page file is named in the index (`file` field) and in the manifest: its absolute path."""
    return str(Path(path).resolve())
