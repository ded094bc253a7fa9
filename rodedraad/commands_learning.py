"""`rodedraad precedents`, `rodedraad themes` and `rodedraad pack`: registered on the main group by cli.py."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .options import filter_options as _filter_options
from .options import filters
from .settings import Settings


def _learning(settings: Settings):
    from .assemble import learning_for, open_searcher

    return learning_for(settings, open_searcher(settings))


def _fact(label: str, fact) -> None:
    if fact is not None:
        click.echo(f"   {label}: {fact.match} — “{fact.text}” (p. {fact.page_label}, {fact.chunk_id})")


@click.command()
@click.argument("question")
@_filter_options
@click.option("-k", "reports", default=10, show_default=True, type=click.IntRange(1, 50), help="Number of reports.")
@click.option("--json", "as_json", is_flag=True, help="Print the GET /api/precedents response.")
@click.pass_obj
def precedents(settings: Settings, question, year_from, year_to, publisher, doc_type, reports, as_json) -> None:
    """Reports that dealt with QUESTION: one entry per report, with period, cases and cited passages."""
    from server.learning.models import PrecedentsOut

    entries = _learning(settings).finder.find(question, filters=filters(year_from, year_to, (), publisher, doc_type),
                                              reports=reports)
    if as_json:
        click.echo(json.dumps(PrecedentsOut.from_entries(question, entries).model_dump(), ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("No report found for this question (with these filters).")
    for i, e in enumerate(entries, 1):
        where = f" — vermeld in {e.mentioned_in}" if e.mentioned_in else ""
        click.echo(f"{i}. {e.title} ({e.year or 'z.j.'}), {e.publisher or 'uitgever onbekend'} [{e.kind}]{where}")
        _fact("periode", e.period)
        _fact("aantal", e.cases)
        for c in e.passages:
            click.echo(f"   - p. {c.passage.page_label}: {c.quote or c.passage.text[:200]}  ({c.passage.chunk_id})")


@click.command()
@click.argument("theme_id", required=False)
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the GET /api/themes(/ID) response.")
@click.pass_obj
def themes(settings: Settings, theme_id, year_from, year_to, publisher, doc_type, as_json) -> None:
    """List the themes with counts, or with THEME_ID show its passages across reports and years."""
    from server.learning.models import ThemeDetailOut, ThemeSummaryOut

    learning = _learning(settings)
    chosen = filters(year_from, year_to, (), publisher, doc_type)
    if theme_id is None:
        overview = [ThemeSummaryOut.from_overview(o) for o in learning.browser.overview(chosen)]
        if as_json:
            click.echo(json.dumps([t.model_dump() for t in overview], ensure_ascii=False, indent=2))
            return
        for t in overview:
            docs = ", ".join(f"{d.title} ({d.year or 'z.j.'}): {d.count}" for d in t.documents)
            click.echo(f"{t.id:26} {t.count:4d}  {t.title}" + (f"  [{docs}]" if docs else ""))
        return
    detail = ThemeDetailOut.from_detail(learning.browser.detail(learning.theme_or_404(theme_id), chosen))
    if as_json:
        click.echo(json.dumps(detail.model_dump(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{detail.theme.title} — {detail.count} passages\n{detail.theme.description}")
    click.echo("per jaar: " + ", ".join(f"{y.year or 'z.j.'}: {y.count}" for y in detail.by_year))
    for r in detail.by_mentioned_report:
        click.echo(f"over {r.title} ({r.year or 'z.j.'}): {r.count}")
    for p in detail.passages:
        about = "; over " + ", ".join(a.title for a in p.about) if p.about else ""
        click.echo(f"- {p.title} ({p.year or 'z.j.'}), p. {p.page_label}{about}: “{p.quote}” ({p.chunk_id})")


@click.command()
@click.option("--theme", "theme_id", required=True, help="Theme id (see `rodedraad themes`).")
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--base-url", help="Web address of the Rode Draad page that citations link to "
                                 "(default: RODEDRAAD_PUBLIC_URL, else links stay relative).")
@click.pass_obj
def pack(settings: Settings, theme_id, year_from, year_to, publisher, doc_type, fmt, output, base_url) -> None:
    """A session pack for a learning session on one theme, as Markdown or self-contained HTML."""
    from server.learning.render import render_html, render_markdown

    learning = _learning(settings)
    built = learning.pack(theme_id, filters(year_from, year_to, (), publisher, doc_type),
                          base_url=base_url if base_url is not None else settings.public_url)
    text = render_html(built) if fmt == "html" else render_markdown(built)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output} ({len(built.sources)} sources, {len(built.questions)} suggested questions)", err=True)


def register(group: click.Group) -> None:
    """Add the learning commands to the `rodedraad` group."""
    for command in (precedents, themes, pack):
        group.add_command(command)
