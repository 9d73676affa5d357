"""The `newsearch` command: index, search, kwic, cite, trends, stats, serve."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from search.errors import SearchError
from search.service import PROJECT_ROOT, default_index_dir, default_seeds_dir, open_engine


def bundled_seeds() -> Path:
    found = default_seeds_dir()
    if found is None:
        raise click.ClickException("no seeds/ directory found: give the files or directories to index")
    return found


def index_option(command):
    return click.option(
        "--index",
        "index_dir",
        default=default_index_dir,
        show_default="index/ or $NEWSEARCH_INDEX",
        type=click.Path(file_okay=False),
        help="Index directory.",
    )(command)


def filter_options(command):
    """--region, --date-from and --date-to: the filters search, trends and kwic share (as the API's parameters)."""
    command = click.option("--date-to", help="Latest date, YYYY[-MM[-DD]], inclusive.")(command)
    command = click.option("--date-from", help="Earliest date, YYYY[-MM[-DD]], inclusive.")(command)
    return click.option(
        "--region",
        "regions",
        multiple=True,
        help="Region path, e.g. 湖南省 or 湖南省/株洲市 (repeatable: OR; one inside another narrows to it).",
    )(command)


def synonyms_options(command):
    """--synonyms FILE and --no-default-synonyms: the list queries expand with (search/text/synonyms.py)."""
    command = click.option(
        "--default-synonyms/--no-default-synonyms",
        default=True,
        show_default=True,
        help="Expand with newsearch's default news aliases (off: only the --synonyms FILE).",
    )(command)
    return click.option(
        "--synonyms",
        "synonyms_file",
        default=lambda: os.environ.get("NEWSEARCH_SYNONYMS") or None,
        show_default="$NEWSEARCH_SYNONYMS",
        type=click.Path(dir_okay=False),
        help="The archive's own synonyms file (Solr format: `a, b, c` or `a => b`), added to the default list.",
    )(command)


def load_synonyms_or_exit(synonyms_file: str | None, default_synonyms: bool):
    """The synonyms to expand with; a file that cannot be used is a message naming its line, and exit 1."""
    from search.text.synonyms import synonyms_for

    try:
        return synonyms_for(synonyms_file, default_synonyms)
    except SearchError as exc:
        raise click.ClickException(exc.message) from None


class ByteSize(click.ParamType):
    """A size in bytes, written as people write it: 20MB, 512KiB, 1.5GB, 4096."""

    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from search.ingest.limits import parse_size

        try:
            size = parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if size < 1:
            self.fail("must be at least 1 byte", param, ctx)
        return size


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Full-text search for Chinese news archives."""


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path())
@index_option
@click.option("--rebuild", is_flag=True, help="Delete the existing index first and index everything afresh.")
@click.option("--prune", is_flag=True, help="Also remove the articles of files that are gone from PATHS.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--shards",
    type=click.IntRange(1, 256),
    default=None,
    help="Split the index into N shards built in parallel on Ray (an existing sharded index keeps its "
    "count; changing it needs --rebuild).",
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="Run the shards' writers on the Ray cluster at ADDRESS (default: a local Ray instance).",
)
@click.option(
    "--max-file-size",
    type=ByteSize(),
    default=None,
    show_default="20 MB",  # search.ingest.limits.DEFAULT_MAX_FILE_BYTES (not imported here: it loads all of ingest)
    help="Largest page file (.txt, .md) to read, and largest line of a .jsonl file; a larger one is reported, not "
    "read. Units: kB, MB, GB (or KiB, MiB, GiB).",
)
@click.option(
    "--max-article-chars",
    type=click.IntRange(min=1),
    default=None,
    show_default="200,000",  # search.ingest.limits.DEFAULT_MAX_ARTICLE_CHARS
    help="Longest article (characters of headline and body); a longer one is reported and not indexed, the rest "
    "of its file is.",
)
def index_command(paths, index_dir, rebuild, prune, quiet, shards, cluster, max_file_size, max_article_chars):
    """Index PATHS (files or directories, with the catalog.json/catalog.csv beside them; default: the bundled
    seeds/). Run again, it re-reads only changed files and replaces their articles."""
    from tqdm import tqdm

    from search.cluster.layout import index_sharded, is_sharded
    from search.index.sync import index_paths
    from search.ingest import iter_files
    from search.ingest.limits import Limits

    limits = Limits(
        max_file_bytes=max_file_size or Limits.max_file_bytes,
        max_article_chars=max_article_chars or Limits.max_article_chars,
    )

    targets = [Path(p) for p in paths] or [bundled_seeds()]
    missing = [str(p) for p in targets if not p.exists()]
    if missing and not prune:  # with --prune a vanished path means: remove its articles
        raise click.BadParameter(f"no such file or directory: {', '.join(missing)}", param_hint="PATHS")
    files = list(iter_files(p for p in targets if p.exists()))
    if not files and not prune:
        raise click.ClickException(f"no .txt, .md or .jsonl files under {', '.join(map(str, targets))}")
    # The bar counts bytes, not files: one large JSON Lines file is the whole run, and it moves as it streams.
    with tqdm(
        total=_total_bytes(files),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc="indexing",
        disable=quiet or None,
        file=sys.stderr,
    ) as bar:
        files_done = 0

        def file_done(_key: str) -> None:
            nonlocal files_done
            files_done += 1
            bar.set_postfix_str(f"{files_done}/{len(files)} files", refresh=False)

        try:
            if shards is not None or cluster is not None or is_sharded(index_dir):
                summary = index_sharded(
                    index_dir,
                    targets,
                    shards=shards,
                    cluster=cluster,
                    rebuild=rebuild,
                    prune=prune,
                    on_file=file_done,
                    on_bytes=bar.update,
                    limits=limits,
                )
            else:
                summary = index_paths(
                    index_dir,
                    targets,
                    rebuild=rebuild,
                    prune=prune,
                    on_file=file_done,
                    on_bytes=bar.update,
                    limits=limits,
                )
        except SearchError as exc:
            raise click.ClickException(exc.message) from None
    for error in summary.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"{summary.line()} → {index_dir}")
    if not summary.ok:
        sys.exit(1)


def _total_bytes(files) -> int:
    total = 0
    for path in files:
        try:
            total += os.stat(path).st_size
        except OSError:
            pass  # the sync reports it
    return total


@main.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_option
def delete_command(ids, index_dir):
    """Remove the articles with these IDS from the index (they return only if their page file changes)."""
    from search.cluster.layout import delete_sharded, is_sharded
    from search.index.sync import delete_articles

    try:
        removed, unknown = (delete_sharded if is_sharded(index_dir) else delete_articles)(index_dir, ids)
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    for article_id in unknown:
        click.echo(f"error: no article with id {article_id!r}", err=True)
    click.echo(f"{len(removed)} articles removed, {len(unknown)} unknown → {index_dir}")
    if unknown:
        sys.exit(1)


@main.command("search")
@click.argument("query", required=False, default="")
@index_option
@filter_options
@click.option("--sort", type=click.Choice(["relevance", "date", "-date"]), help="Result order.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100), help="Results per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 1000), help="Page of results.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@click.option("--no-synonyms", is_flag=True, help="Search the words as typed, without their synonyms.")
@synonyms_options
def search_command(
    query,
    index_dir,
    regions,
    date_from,
    date_to,
    sort,
    limit,
    page,
    as_json,
    no_synonyms,
    synonyms_file,
    default_synonyms,
):
    """Search the index for QUERY (empty: browse, newest first)."""
    from search.query.request import SearchRequest

    thesaurus = load_synonyms_or_exit(synonyms_file, default_synonyms)
    params = {
        "q": query,
        "region": list(regions),
        "date_from": date_from,
        "date_to": date_to,
        "sort": sort,
        "page": str(page),
        "per_page": str(limit),
        "synonyms": "false" if no_synonyms else None,
    }
    try:
        req = SearchRequest.from_params({k: v for k, v in params.items() if v}, thesaurus)
        result = open_engine(index_dir).search(req)
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result['total']} results for {result['query']['parsed']} ({result['took_ms']} ms)")
    for expansion in result["query"]["expansions"]:
        click.echo(f"synonyms: {expansion['term']} → {', '.join(expansion['synonyms'])} (--no-synonyms: as typed)")
    if result["suggestions"]:  # as the page and the JSON offer them: never applied by itself
        offered = ", ".join(f"{s['q']} ({_results(s['total'])})" for s in result["suggestions"])
        click.echo(f"did you mean: {offered}")
    for rank, hit in enumerate(result["hits"], start=(page - 1) * limit + 1):
        meta = " · ".join(x for x in (hit["date"] or "undated", "、".join(hit["region"]), hit["source"]) if x)
        click.echo(f"\n{rank}. {hit['headline'] or '(no headline)'}  [{meta}]  id={hit['id']}")
        for snippet in hit["snippets"]:
            click.echo("   " + _marked_text(snippet))


def _results(n: int) -> str:
    return f"{n} result" if n == 1 else f"{n} results"


def _marked_text(snippet: dict) -> str:
    text, out, at = snippet["text"], [], 0
    for start, end in snippet["highlights"]:
        out.append(text[at:start])
        out.append(click.style(f"【{text[start:end]}】", bold=True))
        at = end
    out.append(text[at:])
    return "".join(out)


@main.command("kwic")
@click.argument("query")
@index_option
@filter_options
@click.option("--width", default=20, show_default=True, type=click.IntRange(1, 80), help="Characters each side.")
@click.option(
    "--sort",
    type=click.Choice(["date", "-date", "relevance", "left", "right"]),
    default="date",
    show_default=True,
    help="Line order: by the articles' date or relevance, or by the context left or right of the match.",
)
@click.option(
    "--fields",
    type=click.Choice(["body", "headline", "body,headline"]),
    default="body",
    show_default=True,
    help="Where to list the matches.",
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000), help="Lines per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 1000), help="Page of lines.")
@click.option("--csv", "as_csv", is_flag=True, help="Print every line found as CSV (page and limit ignored).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@click.option("--no-synonyms", is_flag=True, help="Search the words as typed, without their synonyms.")
@synonyms_options
def kwic_command(
    query,
    index_dir,
    regions,
    date_from,
    date_to,
    width,
    sort,
    fields,
    limit,
    page,
    as_csv,
    as_json,
    no_synonyms,
    synonyms_file,
    default_synonyms,
):
    """Every place QUERY matched, one line each with WIDTH characters of context either side, the matches
    aligned (a concordance, KWIC)."""
    import dataclasses

    from search.query.kwic import MAX_LINES, KwicRequest, flat
    from web.exports import kwic_csv

    params = {
        "q": query,
        "region": list(regions),
        "date_from": date_from,
        "date_to": date_to,
        "width": str(width),
        "sort": sort,
        "fields": fields,
        "limit": str(limit),
        "page": str(page),
        "synonyms": "false" if no_synonyms else None,
    }
    thesaurus = load_synonyms_or_exit(synonyms_file, default_synonyms)
    try:
        req = KwicRequest.from_params({k: v for k, v in params.items() if v}, thesaurus)
        if as_csv:  # every line found, as the API's CSV
            req = dataclasses.replace(req, page=1, limit=MAX_LINES)
        result = open_engine(index_dir).kwic(req)
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    if as_csv:
        click.echo(kwic_csv(result["lines"]).lstrip("\ufeff"), nl=False)
        return
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    read = f"read the first {result['articles_scanned']} (capped)" if result["capped"] else "all read"
    click.echo(
        f"{result['articles']} articles match {result['query']['parsed']} ({read}): {result['matches']} lines, "
        f"page {result['page']} of {max(result['pages'], 1)} ({result['took_ms']} ms)"
    )
    rows = [(flat(line["left"]), flat(line["match"]), flat(line["right"]), line) for line in result["lines"]]
    left_width = max((display_width(left) for left, *_ in rows), default=0)
    match_width = max((display_width(match) for _, match, *_ in rows), default=0)
    for left, match, right, line in rows:
        where = " ".join(x for x in (line["date"] or "undated", line["id"]) if x)
        click.echo(
            f"{pad(left, left_width, right_align=True)} {click.style(pad(match, match_width), bold=True)} "
            f"{pad(right, display_width(right))}  [{where}]"
        )


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide and full-width characters (CJK) two, combining marks none."""
    import unicodedata

    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text
    )


def pad(text: str, columns: int, right_align: bool = False) -> str:
    """`text` padded with spaces to `columns` terminal columns."""
    fill = " " * max(0, columns - display_width(text))
    return fill + text if right_align else text + fill


@main.command("cite")
@click.argument("ids", nargs=-1, required=True)
@index_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ris", "bibtex", "csl-json", "gbt7714", "apa"]),
    default="gbt7714",
    show_default=True,
    help="RIS, BibTeX or CSL-JSON for a reference manager; a GB/T 7714-2015 or APA reference to paste.",
)
def cite_command(ids, index_dir, fmt):
    """Cite the articles with these IDS (as `search` lists them), in the order given."""
    from search.cite import citation

    try:
        engine = open_engine(index_dir)
        articles = [engine.article(article_id) for article_id in ids]
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(citation(articles, fmt), nl=False)


@main.command("trends")
@click.argument("queries", nargs=-1, required=True)
@index_option
@filter_options
@click.option(
    "--bucket",
    type=click.Choice(["auto", "year", "month", "week", "day"]),
    default="auto",
    show_default=True,
    help="Period length (week: ISO weeks; auto: from the date range).",
)
@click.option(
    "--norm",
    type=click.Choice(["count", "share"]),
    default="count",
    show_default=True,
    help="Articles, or articles per 10,000 of the period's articles.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV: a row per period, each query's count and share.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
def trends_command(queries, index_dir, regions, date_from, date_to, bucket, norm, as_csv, as_json):
    """Compare QUERIES (up to 6, each in the query language) period by period."""
    import csv

    from search.query.trends import TrendsRequest, trend_rows

    if as_csv and as_json:
        raise click.UsageError("give --csv or --json, not both")
    params = {
        "q": list(queries),
        "region": list(regions),
        "date_from": date_from,
        "date_to": date_to,
        "bucket": bucket,
        "norm": norm,
    }
    try:
        req = TrendsRequest.from_params({k: v for k, v in params.items() if v})
        result = open_engine(index_dir).trends(req)
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    rows = trend_rows(result)
    if as_csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
        return
    share = result["norm"] == "share"
    header = ["period", "articles", *(s["q"] for s in result["series"])]
    lines = [header]
    for i, period in enumerate(result["periods"]):
        values = [s["shares"][i] if share else s["counts"][i] for s in result["series"]]
        lines.append([period["value"], period["articles"], *("—" if v is None else v for v in values)])
    widths = [max(len(str(line[c])) for line in lines) for c in range(len(header))]
    for line in lines:
        click.echo("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths)))
    unit = "per 10,000 articles" if share else "articles"
    for s in result["series"]:
        undated = f", {s['undated']} undated left out" if s["undated"] else ""
        click.echo(f"{s['q']}: {s['total']} articles by {result['bucket']} ({unit} shown{undated})")


@main.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_command(index_dir, as_json):
    """What the index holds."""
    try:
        stats = open_engine(index_dir).stats()
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
        return
    click.echo(f"articles: {stats['articles']} ({stats['dated']} dated, {stats['date_min']} … {stats['date_max']})")
    click.echo(f"regions: {stats['regions']}  segments: {stats['segments']}  size: {stats['index_bytes']:,} bytes")
    for source, count in list(stats["sources"].items())[:20]:
        click.echo(f"  {count:6d}  {source}")
    click.echo(f"index: {stats['index_dir']}")


@main.group("eval")
def eval_group():
    """Measure the engine against labelled data."""


# The labelled data the project ships (tests/data/README.md says where each item came from).
LABELLED = PROJECT_ROOT / "tests" / "data"
GOLD_FILE = LABELLED / "seeds-gold.json"
QUERIES_FILE = LABELLED / "seeds-queries-dev.json"


@contextmanager
def labelled_data_errors(what: str):
    """Unreadable labelled data or an unusable index: a message and exit 1, not a traceback."""
    try:
        yield
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{what}: {exc}") from None
    except SearchError as exc:
        raise click.ClickException(exc.message) from None


@eval_group.command("queries")
@click.option(
    "--queries",
    "queries_file",
    type=click.Path(),
    default=lambda: str(QUERIES_FILE),
    show_default="tests/data/seeds-queries-dev.json",
    help="Labelled query set (JSON).",
)
@click.option(
    "--gold",
    "gold_file",
    type=click.Path(),
    default=lambda: str(GOLD_FILE),
    show_default="tests/data/seeds-gold.json",
    help="Gold article metadata (JSON).",
)
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures and misses as JSON.")
def eval_queries_command(queries_file, gold_file, index_dir, as_json):
    """Run a labelled query set against the index: recall of the expected sets, precision, MRR of the expected top
    hit, and each miss.

    Exits 1 when a target is missed (recall 1.0, precision >= 0.95, MRR >= 0.9)."""
    from search.eval.queries import load_json, score_queries
    from search.query.engine import SearchEngine

    with labelled_data_errors("cannot read the labelled data"):
        queries = load_json(queries_file, "query set")["queries"]
        gold = load_json(gold_file, "gold file")
        score = score_queries(SearchEngine(index_dir), gold, queries)
    if as_json:
        click.echo(json.dumps(score.to_dict(), ensure_ascii=False, indent=2))
    else:
        for miss in score.misses:
            click.echo(f"  miss: {miss.describe()}")
        click.echo(
            f"mapped {score.mapped}/{score.gold} gold articles; {score.queries} queries: "
            f"recall {score.recall:.3f} precision {score.precision:.3f} MRR {score.mrr:.3f}"
        )
        failed = score.failed_targets()
        click.echo(
            "targets missed: " + "; ".join(failed)
            if failed
            else "targets met (recall 1.0, precision >= 0.95, MRR >= 0.9)"
        )
    if score.failed_targets():
        sys.exit(1)


@eval_group.command("metadata")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--gold",
    "gold_file",
    type=click.Path(),
    default=lambda: str(GOLD_FILE),
    show_default="tests/data/seeds-gold.json",
    help="Gold article metadata (JSON); its `file` values are page file names or paths inside PATHS.",
)
@click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(),
    default=None,
    metavar="DIR",
    help="Deprecated: give DIR as PATHS.",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(),
    default=None,
    help="Score the articles this index holds (and its stored clusters) instead.",
)
@click.option(
    "--targets",
    "target_set",
    type=click.Choice(["seeds", "strict"]),
    default="seeds",
    show_default=True,
    help="Targets to meet: seeds (boundaries, headline, date >= 0.95; byline, region >= 0.9) or strict, for a "
    "real archive such as tests/data/rmrb-dev (boundaries >= 0.97, headline >= 0.95, date >= 0.98, "
    "byline >= 0.95, region >= 0.9). Both: duplicate pairs >= 0.9, no false merges.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures and misses as JSON.")
def eval_metadata_command(paths, gold_file, seeds_dir, index_dir, target_set, as_json):
    """Score extracted metadata against a gold file: boundary F1, headline, date, byline F1, region F1 and
    near-duplicate pairs found / false merges, listing each miss.

    With PATHS (files or directories, with the catalog.json/catalog.csv beside them, as `newsearch index` takes
    them), they are indexed into a temporary index (removed afterwards) and the articles it holds are scored, with
    their stored clusters: the figures the JSON API would show. Without PATHS, the gold's files are read from the
    project's seeds/ (default gold: tests/data/seeds-gold.json). With --index, an existing index is scored.

    Exits 1 when a target is missed (see --targets)."""
    from search.eval.metadata import TARGET_SETS, evaluate, evaluate_paths

    if seeds_dir is not None:
        click.echo("warning: --seeds is deprecated; give the directory as PATHS", err=True)
        paths = (*paths, seeds_dir)
    if paths and index_dir is not None:
        raise click.UsageError("give PATHS or --index, not both")
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise click.ClickException(f"no such file or directory: {', '.join(missing)}")
    targets = TARGET_SETS[target_set]
    with labelled_data_errors("cannot evaluate"):
        if paths:
            from search.ingest import iter_files

            if not any(True for _ in iter_files(paths)):
                raise click.ClickException(f"no .txt, .md or .jsonl files under {', '.join(paths)}")
            score = evaluate_paths(gold_file, list(paths), targets)
        elif index_dir is not None:
            if not Path(index_dir).is_dir():
                raise click.ClickException(f"no index at {index_dir}")
            score = evaluate(gold_file, "", index_dir, targets)
        else:
            score = evaluate(gold_file, bundled_seeds(), None, targets)
    if as_json:
        click.echo(json.dumps(score.to_dict(), ensure_ascii=False, indent=2))
    else:
        for miss in score.misses:
            click.echo(f"  miss: {miss}")
        f = score.figures
        click.echo(
            f"articles {score.articles} vs gold {score.gold}: boundary F1 {f['boundary_f1']:.3f} "
            f"headline {f['headline']:.3f} date {f['date']:.3f} byline {f['byline']:.3f} "
            f"region {f['region']:.3f}; duplicate pairs {score.duplicate_found}/{score.duplicate_pairs}, "
            f"false merges {len(score.false_merges)}"
        )
        failed = score.failed_targets()
        click.echo("targets missed: " + "; ".join(failed) if failed else f"targets met ({target_set})")
    if score.failed_targets():
        sys.exit(1)


def default_workers() -> int:
    """One worker process per core this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


@main.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 64),
    show_default="2; 8 with --shards",
    help="Request threads per worker (searches are CPU work: more threads only wait for the interpreter; "
    "with --shards the shards do the work and the threads wait for them).",
)
@click.option(
    "--workers",
    default=default_workers(),
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes sharing the port (each searches on its own core). One with --shards.",
)
@click.option(
    "--shards",
    "shards_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Serve the sharded index at this directory, each shard's searcher in a Ray actor.",
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="With --shards: run the shard actors on the Ray cluster at ADDRESS (default: a local instance).",
)
@click.option(
    "--replicas",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="With --shards: actors per shard (queries alternate between them; one answers when another is down).",
)
@synonyms_options
def serve_command(
    index_dir, host, port, threads, workers, shards_dir, cluster, replicas, synonyms_file, default_synonyms
):
    """Serve the web UI and JSON API (indexes the bundled seeds first when there is no index)."""
    from search.index.store import index_exists
    from search.index.sync import index_paths
    from web.server import serve

    synonyms = load_synonyms_or_exit(synonyms_file, default_synonyms)  # a bad file stops here, before serving
    settings = {"SYNONYMS_FILE": synonyms_file, "DEFAULT_SYNONYMS": default_synonyms}
    click.echo(f"synonyms: {' + '.join(synonyms.sources) or 'none'} ({len(synonyms)} terms)", err=True)
    if shards_dir is not None:
        _serve_shards(shards_dir, host, port, threads or 8, cluster, replicas, settings)
        return
    if cluster is not None or replicas != 1:
        raise click.UsageError("--cluster and --replicas go with --shards DIR")
    threads = threads or 2
    if not index_exists(index_dir):
        click.echo(f"no index at {index_dir}: indexing the bundled seeds first…", err=True)
        summary = index_paths(index_dir, [bundled_seeds()])
        click.echo(f"{summary.added} articles indexed", err=True)

    def announce() -> None:  # once the port is ours: a busy port gives only its error
        click.echo(
            f"newsearch serving {index_dir} on http://{host}:{port}/ ({workers} worker process"
            f"{'es' if workers > 1 else ''} × {threads} threads)",
            err=True,
        )

    try:
        serve(index_dir, host, port, threads, workers, on_ready=announce, settings=settings)
    except OSError as exc:  # the port is taken, the address is not local…
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def _serve_shards(
    shards_dir: str, host: str, port: int, threads: int, cluster: str | None, replicas: int, settings: dict
) -> None:
    from search.cluster.layout import open_layout
    from web.server import serve

    try:
        layout = open_layout(shards_dir)
        click.echo(
            f"starting {layout.shards} shards × {replicas} replicas on {cluster or 'a local Ray instance'}…", err=True
        )
        engine = open_engine(shards_dir, on_ray=True, cluster=cluster, replicas=replicas)
    except SearchError as exc:
        raise click.ClickException(exc.message) from None

    def announce() -> None:
        click.echo(
            f"newsearch serving {layout.shards} shards of {shards_dir} on http://{host}:{port}/ ({threads} threads)",
            err=True,
        )

    try:
        serve(shards_dir, host, port, threads, 1, engine=engine, on_ready=announce, settings=settings)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        engine.close()


@main.group("cluster")
def cluster_group():
    """A sharded index on Ray: what is running."""


@cluster_group.command("status")
@click.option(
    "--shards", "shards_dir", required=True, type=click.Path(file_okay=False), help="The sharded index directory."
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="The Ray cluster the shards are served on (default: the local instance `serve --shards` started).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cluster_status_command(shards_dir, cluster, as_json):
    """Shards on disk (articles, segments, bytes) and the actors serving them (replicas, documents, memory)."""
    from search.cluster.actors import replica_status, running_replicas
    from search.errors import ClusterUnavailable

    try:
        on_disk = open_engine(shards_dir).stats()
    except SearchError as exc:
        raise click.ClickException(exc.message) from None
    try:
        actors = replica_status(running_replicas(shards_dir, cluster))
        reached = None
    except ClusterUnavailable as exc:
        actors, reached = [], exc.message
    if as_json:
        click.echo(
            json.dumps(
                {
                    "shards": on_disk["shards"],
                    "articles": on_disk["articles"],
                    "actors": actors,
                    "cluster_error": reached,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(
        f"{shards_dir}: {len(on_disk['shards'])} shards, {on_disk['articles']} articles, "
        f"{on_disk['index_bytes']:,} bytes"
    )
    for shard in on_disk["shards"]:
        click.echo(
            f"  shard {shard['shard']:2d}: {shard['articles']:9d} articles  {shard['segments']:3d} segments  "
            f"{shard['index_bytes'] / 2**20:9.1f} MiB"
        )
    if reached:
        click.echo(f"no serving actors: {reached}")
        return
    if not actors:
        click.echo("no serving actors (start them with `newsearch serve --shards DIR`)")
        return
    for actor in actors:
        if actor["alive"]:
            click.echo(
                f"  shard {actor['shard']:2d} replica {actor['replica']}: {actor['documents']:9d} documents  "
                f"{actor['rss_bytes'] / 2**20:7.0f} MiB  pid {actor['pid']}  node {actor['node'][:12]}"
            )
        else:
            click.echo(f"  shard {actor['shard']:2d} replica {actor['replica']}: down ({actor['error']})")


if __name__ == "__main__":
    main()
