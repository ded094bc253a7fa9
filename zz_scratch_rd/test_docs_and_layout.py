"""The README documents every setting, command and route; data flows ingest → retriever ← server."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rodedraad.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_in_the_readme(name):
    assert f"RODEDRAAD_{name.upper()}" in README


def test_every_cli_command_is_in_the_readme():
    from rodedraad.cli import main

    for command in main.commands:
        assert f"rodedraad {command}" in README, command


def test_every_api_route_is_in_the_readme():
    from server.app import create_app

    app = create_app(Settings(_env_file=None))
    paths = {r.path for r in app.routes if getattr(r, "include_in_schema", False)}
    for path in paths:
        shown = path.split("{")[0].rstrip("/")
        assert shown in README, path


def imported_modules(package: str) -> set[str]:
    found = set()
    for file in (ROOT / package).rglob("*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ["server", "ingest"])
def test_only_the_retriever_touches_chroma(package):
    assert "chromadb" not in imported_modules(package)
    assert "langchain_chroma" not in imported_modules(package)


def test_retriever_does_not_import_server_or_ingest():
    assert not {"server", "ingest"} & imported_modules("retriever")


def test_the_shipped_corpus_has_its_provenance():
    sources = (ROOT / "corpus" / "SOURCES.md").read_text(encoding="utf-8")
    for pdf in (ROOT / "corpus").glob("*.pdf"):
        assert pdf.name in sources
        assert f'["{pdf.name}"]' in (ROOT / "corpus" / "catalog.toml").read_text(encoding="utf-8")
