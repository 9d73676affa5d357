"""An index records the schema it was built with; one built by another version is refused with the way out."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from search.cli import main
from search.index.schema import SCHEMA_VERSION
from search.index.store import META_FILE

P003 = "003_a8830f866c506400.txt"


@pytest.fixture()
def built(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEEDS / P003, pages / P003)
    ix = tmp_path / "ix"
    result = CliRunner().invoke(main, ["index", "-q", "--index", str(ix), str(pages)])
    assert result.exit_code == 0, result.output
    return pages, ix


def test_the_index_records_its_schema_and_analyzers(built):
    _, ix = built
    meta = json.loads((ix / META_FILE).read_text(encoding="utf-8"))
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["analyzers"]


@pytest.mark.parametrize(
    "meta, says",
    [
        ({"schema_version": SCHEMA_VERSION - 1, "analyzers": []}, f"(schema {SCHEMA_VERSION - 1}, this version reads "),
        (None, "(schema unknown, this version reads "),
        ("{not json", "(schema unknown, this version reads "),
    ],
)
def test_an_index_of_another_version_asks_for_a_rebuild(built, meta, says):
    pages, ix = built
    if meta is None:
        (ix / META_FILE).unlink()
    else:
        (ix / META_FILE).write_text(meta if isinstance(meta, str) else json.dumps(meta), encoding="utf-8")
    runner = CliRunner()
    for args in (["search", "复工"], ["stats"], ["index", "-q", str(pages)]):
        result = runner.invoke(main, [*args, "--index", str(ix)])
        assert result.exit_code != 0, args
        assert "was built by another version of newsearch" in result.output
        assert says in result.output
        assert "run `newsearch index --rebuild` to rebuild it" in result.output
        assert "Traceback" not in result.output

    rebuilt = runner.invoke(main, ["index", "-q", "--rebuild", "--index", str(ix), str(pages)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "8 articles added" in rebuilt.output
    assert json.loads((ix / META_FILE).read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION
    found = runner.invoke(main, ["search", "联络员", "--json", "--index", str(ix)])
    assert found.exit_code == 0 and json.loads(found.output)["total"] > 0
