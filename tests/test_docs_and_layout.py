"""The README documents every setting, command and route; the floors hold: `retriever/` is the
ground, `ingest/` and `server/` the middle, `rodedraad/` the top that builds and wires everything."""
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


def test_every_api_route_is_in_the_readme(parts):
    from server.app import create_app
    from server.config import ServerConfig

    app = create_app(parts, ServerConfig())
    paths = {r.path for r in app.routes if getattr(r, "include_in_schema", False)}
    for path in paths:
        shown = path.split("{")[0].rstrip("/")
        assert shown in README, path


OURS = ("retriever", "ingest", "server", "rodedraad")
# What each package may import of ours: the ground nothing, the middle only the ground, the top all.
ALLOWED = {"retriever": set(), "ingest": {"retriever"}, "server": {"retriever"},
           "rodedraad": {"retriever", "ingest", "server"}}


def imports_by_file(package: str) -> dict[Path, set[str]]:
    """Top-level names each module of the package imports (at module level or inside functions)."""
    out = {}
    for file in (ROOT / package).rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
        out[file] = found
    return out


def imported_modules(package: str) -> set[str]:
    return set().union(*imports_by_file(package).values())


@pytest.mark.parametrize("package", OURS)
def test_imports_point_down_the_floors(package):
    against = {f.relative_to(ROOT).as_posix(): sorted((names & set(OURS)) - ALLOWED[package] - {package})
               for f, names in imports_by_file(package).items()}
    assert not {f: names for f, names in against.items() if names}


@pytest.mark.parametrize("package", OURS)
def test_no_python_module_over_400_lines(package):
    long = {f.relative_to(ROOT).as_posix(): n for f in (ROOT / package).rglob("*.py")
            if (n := len(f.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long


def test_no_javascript_module_over_500_lines_and_the_page_loads_them_as_modules():
    static = ROOT / "server" / "static"
    long = {f.name: n for f in static.glob("*.js") if (n := len(f.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long
    assert '<script type="module"' in (static / "index.html").read_text(encoding="utf-8")


def test_create_app_builds_nothing_it_serves_the_parts_it_is_given(parts, monkeypatch):
    """The parts are built once (the session fixture); `create_app` only wires HTTP around them."""
    from fastapi.testclient import TestClient

    import rodedraad.assemble
    from retriever.index import ReportIndex
    from retriever.search import HybridRetriever
    from server.answering.answerer import Answerer
    from server.app import create_app
    from server.config import ServerConfig

    def refuse(*args, **kwargs):
        raise AssertionError("create_app built a part")

    for owner, name in ((rodedraad.assemble, "build_parts"), (rodedraad.assemble, "open_index"),
                        (ReportIndex, "open"), (HybridRetriever, "__init__"), (Answerer, "__init__")):
        monkeypatch.setattr(owner, name, refuse)
    with TestClient(create_app(parts, ServerConfig(rate_limit_per_minute=0))) as client:
        assert client.app.state.parts is parts
        health = client.get("/health").json()
        assert health["passages"] == len(parts.passages) and health["embedding_model"] == parts.embedding_model
        assert client.post("/api/chat", json={"question": "wat ging er mis bij opschalen?"}).json()["citations"]


@pytest.mark.parametrize("package", ["server", "ingest"])
def test_only_the_retriever_touches_chroma(package):
    assert "chromadb" not in imported_modules(package)
    assert "langchain_chroma" not in imported_modules(package)


def test_retriever_does_not_import_server_or_ingest():
    assert not {"server", "ingest", "rodedraad"} & imported_modules("retriever")


def test_the_shipped_corpus_has_its_provenance():
    sources = (ROOT / "corpus" / "SOURCES.md").read_text(encoding="utf-8")
    for pdf in (ROOT / "corpus").glob("*.pdf"):
        assert pdf.name in sources
        assert f'["{pdf.name}"]' in (ROOT / "corpus" / "catalog.toml").read_text(encoding="utf-8")
