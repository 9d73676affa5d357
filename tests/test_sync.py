"""Keeping the index in step with an archive that grows and gets corrected: skipping, replacing, pruning, deleting,
and the provenance that leads back to the page file."""

from __future__ import annotations

import json
import os
import re
import shutil
import time

import pytest
from click.testing import CliRunner
from conftest import SEEDS

import search.ingest
from search.cli import main
from search.errors import IndexLocked, NotFound
from search.index.manifest import Manifest
from search.index.schema import from_stored
from search.index.store import open_index, run_lock
from search.index.sync import index_paths
from search.index.writer import IndexStore
from search.query.engine import SearchEngine
from search.query.request import SearchRequest

P001 = "001_52fef1ac75084d80.txt"  # 1 article
P002 = "002_35806e347c1c4678.txt"  # 4 articles
P003 = "003_a8830f866c506400.txt"  # 8 articles, prints 2020-02-19
P004 = "004_67e6d4ce4cffcbe7.txt"  # 8 articles; 江垭林场 is one article's headline and body
CATALOG = {P004: {"paper": "湖南日报", "issue_date": "2020-03-10", "page": "05"}}


def age(directory, seconds: int = 100) -> None:
    """Date every file back, as an archive's files are: their size and mtime can then be trusted."""
    past = time.time() - seconds
    for path in directory.rglob("*"):
        os.utime(path, (past, past))


def write_catalog(pages, catalog: dict) -> None:
    (pages / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.fixture()
def archive(tmp_path):
    pages = tmp_path / "archive"
    pages.mkdir()
    for name in (P002, P003, P004):
        shutil.copy(SEEDS / name, pages / name)
    write_catalog(pages, CATALOG)
    age(pages)
    return pages


def stored(index_dir) -> dict[str, dict]:
    engine = SearchEngine(index_dir)
    try:
        return {doc["id"]: from_stored(doc) for doc in engine.searcher().all_stored_fields()}
    finally:
        engine.close()


def run_search(index_dir, **params) -> dict:
    engine = SearchEngine(index_dir)
    try:
        result = engine.search(SearchRequest.from_params(params))
    finally:
        engine.close()
    result.pop("took_ms")
    return result


def date_counts(result) -> dict[str, int]:
    """Matches per day (the histogram also lists the empty days between them)."""
    return {item["value"]: item["count"] for item in result["facets"]["date"] if item["count"]}


def edit_archive(pages) -> None:
    """One page corrected, one removed, one added, the catalogue updated for the new page and an old one."""
    page = pages / P004
    page.write_text(page.read_text(encoding="utf-8").replace("江垭林场", "江垭苗圃"), encoding="utf-8")
    (pages / P002).unlink()
    shutil.copy(SEEDS / P001, pages / P001)
    write_catalog(
        pages,
        {
            **CATALOG,
            P003: {"paper": "株洲晚报", "issue_date": "2020-02-20", "page": "A03"},
            P001: {"paper": "人民日报", "issue_date": "2020-02-25", "page": "04"},
        },
    )


def test_unchanged_files_are_skipped_unread(archive, tmp_path, monkeypatch):
    first = index_paths(tmp_path / "ix", [archive])
    assert (first.files, first.added, first.unchanged, first.failed) == (3, 20, 0, 0)

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read")

    def no_index_scan(*args, **kwargs):  # on a large index these scans were most of a no-op run (18 s at 36k)
        raise AssertionError("a sync that changes nothing read the index's ids or near-duplicate clusters")

    monkeypatch.setattr(search.ingest, "read_file", no_reading)
    monkeypatch.setattr(IndexStore, "live_ids", no_index_scan)
    monkeypatch.setattr(IndexStore, "tracker_rows", no_index_scan)
    again = index_paths(tmp_path / "ix", [archive])
    assert again.to_dict() == {
        "files": 3,
        "added": 0,
        "replaced": 0,
        "removed": 0,
        "unchanged": 20,
        "duplicates": 0,
        "skipped": 20,
        "failed": 0,
        "errors": [],
    }


def test_a_touched_file_is_read_but_not_replaced(archive, tmp_path):
    index_paths(tmp_path / "ix", [archive])
    before = stored(tmp_path / "ix")
    os.utime(archive / P003)  # mtime now, same bytes
    summary = index_paths(tmp_path / "ix", [archive])
    assert (summary.added, summary.replaced, summary.removed, summary.unchanged) == (0, 0, 0, 20)
    assert stored(tmp_path / "ix") == before


def test_edits_deletions_and_additions_give_exactly_the_new_article_set(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    assert run_search(ix, q="江垭林场")["total"] == 1
    assert date_counts(run_search(ix, q="")) == {"2020-02-19": 8, "2020-03-10": 8}  # every article dated by its issue

    edit_archive(archive)
    kept = index_paths(ix, [archive])  # without --prune the removed page's articles stay
    assert (kept.added, kept.replaced, kept.removed, kept.unchanged) == (2, 15, 1, 0)
    assert len(stored(ix)) == 21
    pruned = index_paths(ix, [archive], prune=True)
    assert (pruned.added, pruned.replaced, pruned.removed, pruned.unchanged) == (0, 0, 4, 17)

    # The incremental index holds exactly what a fresh build of the edited archive holds.
    fresh = tmp_path / "fresh"
    index_paths(fresh, [archive])
    articles = stored(ix)
    assert articles == stored(fresh)
    assert len(articles) == 17
    assert sorted({a["file"].rsplit("/", 1)[-1] for a in articles.values()}) == [P001, P003, P004]
    for params in ({"q": ""}, {"q": "复工"}, {"q": "江垭苗圃"}, {"q": "复工", "region": "湖南省"}):
        # Same hits and facets; scores may differ while deleted documents still count in term statistics.
        incremental, rebuilt = run_search(ix, per_page="100", **params), run_search(fresh, per_page="100", **params)
        assert {h["id"] for h in incremental.pop("hits")} == {h["id"] for h in rebuilt.pop("hits")}
        assert incremental == rebuilt

    assert run_search(ix, q="江垭林场")["total"] == 0
    assert run_search(ix, q="江垭苗圃")["total"] == 1
    browse = run_search(ix, q="")
    assert browse["total"] == 17 and browse["undated"] == 0
    assert date_counts(browse) == {"2020-02-20": 8, "2020-02-25": 1, "2020-03-10": 8}
    assert SearchEngine(ix).stats()["sources"] == {"株洲晚报": 8, "湖南日报": 8, "人民日报": 1}


def test_a_catalogue_change_alone_reindexes_that_page(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    write_catalog(archive, {P004: {**CATALOG[P004], "issue_date": "2020-03-11"}})
    summary = index_paths(ix, [archive])
    assert (summary.added, summary.replaced, summary.removed, summary.unchanged) == (0, 8, 0, 12)
    dates = sorted(a["date"] for a in stored(ix).values() if a["file"].endswith(P004))
    assert dates == ["2020-03-11"] * 8  # the new issue date, also for the two articles with datelines of 3月9日


def test_files_given_one_by_one_follow_the_same_rules(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive / P003, archive / P004])
    again = index_paths(ix, [archive / P003, archive / P004])
    assert (again.added, again.unchanged) == (0, 16)
    assert {a["source"] for a in stored(ix).values() if a["file"].endswith(P004)} == {"湖南日报"}  # its catalogue
    (archive / P004).unlink()
    pruned = index_paths(ix, [archive / P003, archive / P004], prune=True)
    assert (pruned.removed, pruned.unchanged) == (8, 8)
    assert len(stored(ix)) == 8


def test_a_killed_run_keeps_its_batches_and_the_manifest_claims_only_those(archive, tmp_path, monkeypatch):
    ix = tmp_path / "ix"
    monkeypatch.setattr("search.index.sync.BATCH_SIZE", 1)  # a commit after every file
    real_read = search.ingest.read_file

    def killed_at_the_third(path, *args):
        if path.endswith(P004):
            raise KeyboardInterrupt
        return real_read(path, *args)

    monkeypatch.setattr(search.ingest, "read_file", killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        index_paths(ix, [archive])
    assert len(stored(ix)) == 12  # 002 and 003, each committed
    assert sorted(p.rsplit("/", 1)[-1] for p in Manifest.load(ix).files) == [P002, P003]

    monkeypatch.setattr(search.ingest, "read_file", real_read)
    summary = index_paths(ix, [archive])
    assert (summary.added, summary.unchanged) == (8, 12)
    assert len(stored(ix)) == 20


def test_a_run_killed_before_its_manifest_write_is_repaired_without_duplicates(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    (ix / "manifest.json").unlink()  # committed articles the manifest does not know of
    summary = index_paths(ix, [archive])
    assert (summary.added, summary.replaced, summary.removed) == (0, 20, 0)
    assert len(stored(ix)) == 20


def test_a_second_writer_is_refused(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    whoosh_ix = open_index(ix)
    with run_lock(whoosh_ix, ix), pytest.raises(IndexLocked, match="locked by another writer"):
        index_paths(ix, [archive])
    writer = whoosh_ix.writer()
    try:
        with pytest.raises(IndexLocked, match="locked by another writer"):
            index_paths(ix, [archive])
    finally:
        writer.cancel()
    assert index_paths(ix, [archive]).unchanged == 20


def test_rebuild_starts_afresh(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    summary = index_paths(ix, [archive], rebuild=True)
    assert (summary.added, summary.unchanged) == (20, 0)
    assert len(stored(ix)) == 20


def test_delete_command(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    [target] = [i for i, a in stored(ix).items() if a["headline"].startswith("江垭林场")]
    runner = CliRunner()
    result = runner.invoke(main, ["delete", target, "nosuchid", "--index", str(ix)])
    assert result.exit_code == 1
    assert "no article with id 'nosuchid'" in result.output
    assert "1 articles removed, 1 unknown" in result.output
    assert "Traceback" not in result.output
    assert target not in stored(ix) and len(stored(ix)) == 19
    assert run_search(ix, q="江垭林场")["total"] == 0
    # The page is unchanged, so the next sync does not bring the article back.
    again = runner.invoke(main, ["index", "-q", "--index", str(ix), str(archive)])
    assert "0 articles added, 0 replaced, 0 removed, 19 unchanged, 0 failed" in again.output
    assert runner.invoke(main, ["delete", target, "--index", str(ix)]).exit_code == 1


def _squash(text: str) -> str:
    return re.sub(r"[\s\u3000\xa0|#]+", "", text)


def test_provenance_line_spans_hold_the_articles_first_sentence(seed_index, engine):
    articles = [from_stored(doc) for doc in engine.searcher().all_stored_fields()]
    assert len(articles) == 22
    for stored_article in articles:
        article = engine.article(stored_article["id"])
        prov = article["provenance"]
        assert set(prov) == {"file", "line_start", "line_end", "page", "paper", "issue_date"}
        assert "/" not in prov["file"] and (SEEDS / prov["file"]).is_file()  # a name: server paths stay private
        page = engine.source_page(article["id"])
        span = [line for line in page["lines"] if line["in_article"]]
        assert [line["n"] for line in span] == list(range(prov["line_start"], prov["line_end"] + 1))
        # The first line of running text (short lines before it are a column tag, kicker or byline).
        first_line = next(line for line in article["body"].splitlines() if len(line) >= 15)
        first_sentence = _squash(re.split(r"[。！？]", first_line, maxsplit=1)[0])[:20]
        assert first_sentence and first_sentence in _squash("".join(line["text"] for line in span)), article["id"]


def test_source_page_of_a_removed_file_is_not_found(archive, tmp_path):
    ix = tmp_path / "ix"
    index_paths(ix, [archive])
    [target] = [i for i, a in stored(ix).items() if a["file"].endswith(P002)][:1]
    (archive / P002).unlink()
    engine = SearchEngine(ix)
    with pytest.raises(NotFound, match="no longer readable"):
        engine.source_page(target)
    with pytest.raises(NotFound, match="no article with id"):
        engine.source_page("nosuchid")


def test_done_when_an_archive_is_indexed_edited_and_reindexed_with_prune(archive, tmp_path):
    """The issue's done-when, through the command line: search, facets and article data show exactly the new state,
    with the catalogue's dates and papers."""
    ix, runner = str(tmp_path / "ix"), CliRunner()
    first = runner.invoke(main, ["index", "-q", "--index", ix, str(archive)])
    assert first.exit_code == 0, first.output
    assert "3 files: 20 articles added, 0 replaced, 0 removed, 0 unchanged, 0 failed" in first.output

    edit_archive(archive)
    second = runner.invoke(main, ["index", "-q", "--prune", "--index", ix, str(archive)])
    assert second.exit_code == 0, second.output
    assert "3 files: 2 articles added, 15 replaced, 5 removed, 0 unchanged, 0 failed" in second.output
    third = runner.invoke(main, ["index", "-q", "--prune", "--index", ix, str(archive)])
    assert "3 files: 0 articles added, 0 replaced, 0 removed, 17 unchanged, 0 failed" in third.output

    def cli_json(*args):
        result = runner.invoke(main, [*args, "--json", "--index", ix])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    browse = cli_json("search", "", "--limit", "100")
    assert browse["total"] == 17
    assert date_counts(browse) == {"2020-02-20": 8, "2020-02-25": 1, "2020-03-10": 8}
    assert {(h["source"], h["date"]) for h in browse["hits"] if h["source"] == "株洲晚报"} == {
        ("株洲晚报", "2020-02-20")
    }
    assert cli_json("search", "江垭林场")["total"] == 0
    [hit] = cli_json("search", "江垭苗圃")["hits"]
    stats = cli_json("stats")
    assert stats["articles"] == 17 and stats["sources"] == {"株洲晚报": 8, "湖南日报": 8, "人民日报": 1}

    article = SearchEngine(ix).article(hit["id"])
    assert article["headline"] == "江垭苗圃：全面推进春季造林工作"
    assert (article["date"], article["date_source"], article["source"]) == ("2020-03-10", "catalog", "湖南日报")
    assert article["provenance"] == {
        "file": P004,
        "line_start": 103,
        "line_end": 111,
        "page": "05",
        "paper": "湖南日报",
        "issue_date": "2020-03-10",
    }
    [added] = [h for h in browse["hits"] if h["source"] == "人民日报"]
    assert (added["date"], SearchEngine(ix).article(added["id"])["date_source"]) == ("2020-02-25", "catalog")


def test_an_id_whose_document_was_deleted_is_indexed_again(tmp_path):
    """The term dictionary keeps a deleted document's id until its segment is merged; the next copy of that article
    (here: in another file, as after a killed run whose committed batch a later run deleted) must go in, not be
    skipped as a duplicate of an article the index no longer has."""
    from search.index.sync import delete_articles

    record = {
        "id": "again-1",
        "headline": "株洲新闻",
        "date": "2020-02-19",
        "region": "湖南省",
        "body": "株洲市今天召开复工复产推进会。会议要求各地加快推进重点项目建设。",
    }
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    (second / "b.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    ix = tmp_path / "ix"
    index_paths(ix, [first])
    assert delete_articles(ix, ["again-1"]) == (["again-1"], [])
    assert "again-1" not in stored(ix)
    summary = index_paths(ix, [second])
    assert (summary.added, summary.duplicates) == (1, 0)
    assert stored(ix)["again-1"]["file"] == "b.jsonl"


def test_seq_numbers_articles_in_indexing_order_across_runs(tmp_path, archive):
    """`seq` is 1, 2, 3 … in the order articles went in, and a later run (here: a replaced file) continues from
    the highest number given, never reusing one: ties between shards are broken by it."""
    from search.index.columns import seq_numbers

    index_dir = tmp_path / "ix"
    index_paths(index_dir, [archive])
    with open_index(index_dir).reader() as reader:
        first = seq_numbers(reader)
        assert first.tolist() == list(range(1, reader.doc_count_all() + 1))
    (archive / P002).write_text(
        (SEEDS / P002).read_text(encoding="utf-8") + "\n补记：株洲市新增复工企业三家。\n", encoding="utf-8"
    )
    index_paths(index_dir, [archive])
    with open_index(index_dir).reader() as reader:
        live = [int(seq_numbers(reader)[d]) for d in reader.all_doc_ids()]
    added = sorted(s for s in live if s > first.max())
    assert added and added[0] == first.max() + 1 and len(set(live)) == len(live)
