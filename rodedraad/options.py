"""Options the commands share: the filters on year, document, publisher and type."""
from __future__ import annotations

import click

from retriever.types import Filters


def filters(year_from: int | None, year_to: int | None, doc=(), publisher=(), doc_type=()) -> Filters:
    """The Filters of a command's options; a year range that ends before it starts is a usage error."""
    if year_from and year_to and year_from > year_to:
        raise click.UsageError("--year-from must not be after --year-to")
    return Filters.build(year_from=year_from, year_to=year_to, doc_ids=doc, publishers=publisher, doc_types=doc_type)


def filter_options(f):
    """--year-from, --year-to, --publisher and --doc-type on a command."""
    for option in reversed((
        click.option("--year-from", type=click.IntRange(1900, 2100), help="Only reports from this year on."),
        click.option("--year-to", type=click.IntRange(1900, 2100), help="Only reports up to this year."),
        click.option("--publisher", multiple=True, help="Only this publisher (part of the name; repeatable)."),
        click.option("--doc-type", multiple=True, help="Only this document type (repeatable)."),
    )):
        f = option(f)
    return f
