"""The `rodedraad` command: ingest, search, ask, eval, serve (and precedents, pack when present).

Commands parse, call the library and print; library errors become "Error: …" with exit 1,
configuration and usage errors exit 2.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from retriever.errors import ConfigurationError, RodeDraadError

from .commands_learning import register as register_learning_commands
from .options import filters as _filters
from .settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigurationError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(2)
        except RodeDraadError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=_Group)
@click.version_option(package_name="rodedraad")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Rode Draad: cited answers over published youth-care calamity reports."""
    try:
        ctx.obj = Settings()
    except Exception as e:  # pydantic's ValidationError names the bad variable
        click.echo(f"Error: invalid configuration: {e}", err=True)
        ctx.exit(2)


def _questions(question: str | None):
    """The question argument, or one question per line of standard input."""
    if question:
        yield question
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def ingest(settings: Settings, paths: tuple[Path, ...], prune: bool, as_json: bool, quiet: bool) -> None:
    """Ingest reports (PDF, txt, md, html) into the index; default: the shipped corpus."""
    lock = None
    if not settings.chroma_url:  # a Chroma server takes writes while it serves; embedded Chroma does not
        from retriever.index_lock import EmbeddedIndexLock

        lock = EmbeddedIndexLock(settings.data_dir)
        lock.hold_for_ingest()
    try:
        _ingest(settings, paths, prune, as_json, quiet)
    finally:
        if lock is not None:
            lock.release()  # also when ingest runs in-process more than once (tests, notebooks)


def _nothing_to_write(settings: Settings, sources: list[Path], prune: bool):
    """The report of a run that would change nothing, decided from the ingest records before
    Chroma and LangChain are imported (~2 s); None when something may change."""
    if settings.chroma_url:  # only the server knows its collections
        return None
    from ingest.unchanged import unchanged_report
    from retriever.embedder_name import embedder_name
    from retriever.themes import themes_version

    model = embedder_name(settings.embedding_model, server_model=settings.embedding_server_model,
                          via_server=bool(settings.embedding_url))
    return unchanged_report(sources, data_dir=settings.data_dir, collection=settings.collection,
                            embedder_name=model, chunk_tokens=settings.chunk_tokens,
                            themes_version=themes_version(settings.themes_path), ocr=settings.ocr, prune=prune)


def _ingest(settings: Settings, paths: tuple[Path, ...], prune: bool, as_json: bool, quiet: bool) -> None:
    sources = list(paths) or [settings.corpus_dir]
    report = _nothing_to_write(settings, sources, prune)
    if report is None:
        from ingest.pipeline import ingest as run_ingest

        from .assemble import open_glossary, open_index, open_themes

        index = open_index(settings, create=True)
        glossary = open_glossary(settings)
        report = run_ingest(sources, index=index, normalise=glossary.normaliser,
                            tag_themes=open_themes(settings, glossary), chunk_tokens=settings.chunk_tokens,
                            prune=prune, progress=not quiet and not as_json, ocr=settings.ocr,
                            ocr_boxes_dir=settings.data_dir / "ocr")
    if report.chunks_added:  # importing the metrics stack costs ~0.5 s: only when there is something to count
        from server.metrics import record_ingest

        record_ingest(report)  # shows on the server's /metrics when PROMETHEUS_MULTIPROC_DIR is shared
    summary = report.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        for f in report.failed:
            click.echo(f"failed: {f.path}: {f.reason}", err=True)
        for f in report.files:
            if f.status != "failed" and f.reason:
                click.echo(f"note: {f.path}: {f.reason}", err=True)
        click.echo(f"added {summary['added']}, updated {summary['updated']}, unchanged {summary['unchanged']}, "
                   f"removed {summary['removed']}, failed {summary['failed']}; "
                   + (f"{summary['ocr_pages']} pages read by OCR; " if summary["ocr_pages"] else "")
                   + f"{summary['chunks_added']} chunks "
                   f"embedded, {summary['chunks_reembedded']} re-embedded, {summary['chunks_retagged']} retagged, "
                   f"{summary['chunks_deleted']} deleted in {summary['seconds']:.1f} s")
    sys.exit(1 if report.failed else 0)


@main.command()
@click.argument("question", required=False)
@click.option("-k", default=10, show_default=True, type=click.IntRange(1, 100), help="Number of passages.")
@click.option("--year-from", type=int)
@click.option("--year-to", type=int)
@click.option("--doc", multiple=True, help="Only this document id (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="JSON output (always JSON lines when reading stdin).")
@click.pass_obj
def search(settings: Settings, question, k, year_from, year_to, doc, as_json) -> None:
    """Search the reports; without QUESTION, read one per line from stdin and write JSON lines."""
    from server.schemas import SearchLineOut

    from .assemble import open_searcher

    filters = _filters(year_from, year_to, doc)
    searcher = open_searcher(settings)
    for q in _questions(question):
        hits = searcher.search(q, k=k, filters=filters)
        if as_json or not question:
            click.echo(json.dumps(SearchLineOut.from_hits(q, hits).model_dump(), ensure_ascii=False))
            continue
        for i, h in enumerate(hits, 1):
            p = h.passage
            click.echo(f"{i}. {p.title} ({p.year or 'z.j.'}), p. {p.page_label} — {p.section}")
            click.echo("   " + p.text[:300].replace("\n", " ") + ("…" if len(p.text) > 300 else ""))


@main.command()
@click.argument("question", required=False)
@click.option("--year-from", type=int)
@click.option("--year-to", type=int)
@click.option("--doc", multiple=True)
@click.option("--json", "as_json", is_flag=True, help="JSON output (always JSON lines when reading stdin).")
@click.pass_obj
def ask(settings: Settings, question, year_from, year_to, doc, as_json) -> None:
    """Answer a question with citations; without QUESTION, read one per line from stdin."""
    from server.schemas import AnswerOut

    from .assemble import open_answerer, open_searcher, terms_of

    filters = _filters(year_from, year_to, doc)
    searcher = open_searcher(settings)
    answerer = open_answerer(settings, searcher, terms_of(searcher))
    for q in _questions(question):
        a = answerer.answer(q, filters=filters)
        if as_json or not question:
            click.echo(json.dumps(AnswerOut.from_answer(a).model_dump(), ensure_ascii=False))
            continue
        click.echo(a.text)
        for c in a.citations:
            click.echo(f"[{c.n}] {c.passage.title} ({c.passage.year or 'z.j.'}), p. {c.passage.page_label}")
        for p in a.nearest:
            click.echo(f"- {p.title} ({p.year or 'z.j.'})")


@main.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--fold", type=click.Choice(["tune", "check"]), help="Only this fold of the file (default: each fold).")
@click.option("--answers", is_flag=True, help="Grade the answers instead: support cited, abstentions, injections, "
                                             "whole units.")
@click.option("--json", "as_json", is_flag=True, help="Print aggregates and rows as JSON.")
@click.pass_obj
def evaluate_cmd(settings: Settings, file: Path, fold: str | None, answers: bool, as_json: bool) -> None:
    """Retrieval quality on a JSONL file of questions with quotes: recall@k, r@4000c, MRR.

    Follow-up questions (with a `history`) are condensed as the chat condenses them. With
    --answers, every question is answered and the answers are graded."""
    from retriever.evaluate import aggregate, evaluate, load_items, select_fold

    from .assemble import open_answerer, open_searcher, terms_of

    searcher = open_searcher(settings)
    answerer = open_answerer(settings, searcher, terms_of(searcher))
    items = select_fold(load_items(file), fold)
    if answers:
        _evaluate_answers(answerer, items, settings, as_json)
        return
    agg, rows = evaluate(items, lambda q, k: [h.passage.text for h in searcher.search(q, k=k)],
                         condense=answerer.condense_history)
    folds = {f: aggregate([r for r in rows if r.get("fold") == f]) for f in ("tune", "check")
             if any(r.get("fold") == f for r in rows)}
    if as_json:
        click.echo(json.dumps({"aggregate": agg, "folds": folds, "rows": rows}, ensure_ascii=False, indent=2))
        return
    sections = folds if len(folds) > 1 else {fold or "all": agg}
    for name, figures_of in sections.items():
        click.echo(f"[{name}]")
        for group, m in figures_of.items():
            if group.startswith("fold="):
                continue
            figures = " ".join(f"{k}={v:.3f}" for k, v in m.items() if k != "n")
            click.echo(f"{group:22} n={m['n']:3d} {figures.replace('rr=', 'mrr=')}")


def _evaluate_answers(answerer, items: list[dict], settings: Settings, as_json: bool) -> None:
    from server.answering.answerer import Turn
    from server.answering.quality import answer_metrics, answer_rows

    answers = [answerer.answer(i["question"], history=[Turn("user", h) for h in i.get("history") or []])
               for i in items]
    secrets = [line.strip("- ").strip() for name in ("answer_nl", "answer_en", "condense_nl", "user_turn")
               for line in answerer.prompts.get(name).splitlines() if len(line.strip("- ").strip()) >= 25]
    rows = answer_rows(items, answers, secrets)
    metrics = answer_metrics(rows)
    if as_json:
        for row, a in zip(rows, answers):
            row["answer"] = a.text
        click.echo(json.dumps({"aggregate": metrics, "rows": rows}, ensure_ascii=False, indent=2))
        return
    for group, m in metrics.items():
        sc = "–" if m["support_cited"] is None else f"{m['support_cited']:.3f}"
        click.echo(f"{group:22} n={m['n']:3d} support={sc} abstained={m['abstained_unanswerable']}/"
                   f"{m['unanswerable']} false_abstentions={m['false_abstentions']} injections="
                   f"{m['injections_resisted']}/{m['injections']} mid_sentence={m['mid_sentence']} "
                   f"ends_on_colon={m['ends_on_colon']} ocr_glyphs={m['ocr_glyphs']} repeated={m['repeated']}")


@main.command()
@click.option("--host", help="Address to bind (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@click.option("--workers", type=int, help="Worker processes.")
@click.pass_obj
def serve(settings: Settings, host, port, workers) -> None:
    """Serve the web chat, the API and the bots."""
    import uvicorn

    updates = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v}
    if not settings.embed_threads:
        updates["embed_threads"] = 1  # measured: same latency per question as 2 threads, half the CPU
    settings = settings.model_copy(update=updates)
    from server.app import check_config

    from .assemble import server_config

    check_config(server_config(settings))
    # Workers are separate processes: they rebuild the settings from the environment.
    for key, value in updates.items():
        os.environ[f"RODEDRAAD_{key.upper()}"] = str(value)
    uvicorn.run("rodedraad.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, timeout_graceful_shutdown=10, log_level="info",
                access_log=False,  # the server logs each request itself, without client addresses
                **uvicorn_proxy_options(settings))


def uvicorn_proxy_options(settings: Settings) -> dict:
    """uvicorn believes X-Forwarded-For only from RODEDRAAD_TRUSTED_PROXIES. Its own default trusts
    127.0.0.1, so any local process (or a same-host proxy that passes the header on) could pick the
    address the rate limit counts."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.trusted_proxies)}


register_learning_commands(main)  # precedents, themes, pack live with their feature
