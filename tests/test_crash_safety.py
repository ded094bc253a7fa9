"""Crash safety: `rodedraad ingest` killed with SIGKILL at ten random moments, then rerun to completion,
leaves exactly what a clean run leaves: the same chunk ids, the same count per document, and ingest
records that match the collection (so the next run is incremental and correct).

Each trial gets its own data dir with embedded Chroma. The ingest runs as a real subprocess through the
CLI (`rodedraad.cli.main`, `ingest <folder> --quiet`). By default its embedding model is the test suite's
hash embedder: the model is not what a crash can break, and with it a run takes seconds instead of a
minute, so the ten kills land in parsing, Chroma writes and record updates, the windows that matter.
Set RODEDRAAD_CRASH_EMBEDDER=real to run the same test with the real model (minutes).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXTRA = SHARED / "corpus-extra"
TRIALS = 10
SEED = 20261122
REAL = os.environ.get("RODEDRAAD_CRASH_EMBEDDER", "") == "real"

WRAPPER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    if not {real!r}:
        from tests.fakes import HashEmbedder
        import rodedraad.assemble
        rodedraad.assemble.load_embedder = lambda name, **options: HashEmbedder()
    import ingest.pipeline
    _ingest = ingest.pipeline.ingest
    def marked(*args, **kwargs):
        sys.stderr.write("INGEST-START\\n")
        sys.stderr.flush()
        return _ingest(*args, **kwargs)
    ingest.pipeline.ingest = marked
    from rodedraad.cli import main
    sys.argv = ["rodedraad", "ingest", *sys.argv[1:]]
    main()
""")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The two corpus PDFs (with their catalog), two Kamervragen PDFs, two short laws, a .txt and a .md."""
    f = tmp_path_factory.mktemp("crash") / "map"
    f.mkdir()
    for p in (ROOT / "corpus").iterdir():
        if p.suffix in (".pdf", ".toml"):
            shutil.copy(p, f / p.name)
    kamervragen = sorted((EXTRA / "tk-kamervragen").glob("*.pdf"))[:2]
    laws = sorted((EXTRA / "laws-jeugd-zorg-2017").glob("BWBR00*.md"), key=lambda p: p.stat().st_size)[:2]
    if len(kamervragen) < 2 or len(laws) < 2:
        pytest.fail(f"corpus-extra not found beside the repository at {EXTRA}")
    for p in kamervragen + laws:
        shutil.copy(p, f / p.name)
    (f / "notitie.txt").write_text("Leerpunten\n\n" + "De regie over de hulp aan het gezin ontbrak. " * 40,
                                   encoding="utf-8")
    (f / "overleg.md").write_text("# Overleg\n\n" + "- De wijkteams deelden hun zorgen niet met elkaar.\n" * 30,
                                  encoding="utf-8")
    return f


def _env(data_dir: Path) -> dict:
    env = {**os.environ, "RODEDRAAD_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False",
           "PYTHONUNBUFFERED": "1"}
    env.pop("RODEDRAAD_CHROMA_URL", None)
    return env


class Run:
    """The wrapper as a subprocess, stderr in a file (a pipe nobody reads could fill and block it)."""

    def __init__(self, script: Path, folder: Path, data_dir: Path, *extra: str) -> None:
        self.log = data_dir.parent / f"{data_dir.name}-{time.monotonic_ns()}.stderr"
        self._err = self.log.open("w")
        self.proc = subprocess.Popen([sys.executable, str(script), str(folder), "--quiet", *extra],
                                     env=_env(data_dir), stdout=subprocess.DEVNULL, stderr=self._err)

    def started(self, timeout: float = 180) -> float:
        """Wait for the marker (imports done, ingest begins); returns its time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "INGEST-START" in self.log.read_text(errors="replace"):
                return time.monotonic()
            if self.proc.poll() is not None:
                raise AssertionError(f"ingest exited before starting (rc {self.proc.returncode}):\n{self.stderr()}")
            time.sleep(0.005)
        raise AssertionError("ingest did not start")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        self._err.close()


def run_to_completion(script: Path, folder: Path, data_dir: Path) -> float:
    """One full run; returns the seconds from the marker to exit."""
    run = Run(script, folder, data_dir)
    try:
        start = run.started()
        rc = run.proc.wait(timeout=900)
        work = time.monotonic() - start
        assert rc == 0, f"ingest failed (rc {rc}):\n{run.stderr()}"
        assert "Traceback" not in run.stderr(), run.stderr()
        return work
    finally:
        run.close()


def run_and_kill(script: Path, folder: Path, data_dir: Path, delay: float) -> bool:
    """Start a run and SIGKILL it `delay` seconds into its work; True when it was still running."""
    run = Run(script, folder, data_dir)
    try:
        run.started()
        try:
            run.proc.wait(timeout=delay)
            return False  # it finished before the moment came
        except subprocess.TimeoutExpired:
            run.proc.send_signal(signal.SIGKILL)
            run.proc.wait(timeout=30)
            return True
    finally:
        run.close()


def index_state(data_dir: Path) -> dict:
    """Chunk ids, chunks per document and what the ingest records hold, read straight from disk."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from retriever.records import SQLiteRecordManager

    client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_collection("rodedraad")
    got = col.get(include=["metadatas"])
    records = SQLiteRecordManager("chroma/rodedraad", data_dir / "records.sqlite3")
    state = {
        "ids": sorted(got["ids"]),
        "count": col.count(),
        "per_doc": dict(Counter(m["doc_id"] for m in got["metadatas"])),
        "record_keys": sorted(records.list_keys()),
        "files": sorted(records.files()),
    }
    records.close()
    return state


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crash-wrapper") / "ingest_wrapper.py"
    path.write_text(WRAPPER.format(root=str(ROOT), real=REAL), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clean(folder, script, tmp_path_factory) -> tuple[dict, float]:
    data_dir = tmp_path_factory.mktemp("clean-run")
    work = run_to_completion(script, folder, data_dir)
    state = index_state(data_dir)
    assert state["count"] > 50 and len(state["per_doc"]) == 8, state["per_doc"]
    return state, work


def test_killed_ingest_reruns_to_exactly_the_clean_index(folder, script, clean, tmp_path_factory):
    reference, work = clean
    rng = random.Random(SEED)
    # one moment in each tenth of the clean run's work, so the kills spread over the whole run
    delays = [work * (i + rng.random()) / TRIALS for i in range(TRIALS)]
    killed = 0
    for n, delay in enumerate(delays):
        data_dir = tmp_path_factory.mktemp(f"trial-{n}")
        killed += run_and_kill(script, folder, data_dir, delay)
        run_to_completion(script, folder, data_dir)
        state = index_state(data_dir)
        where = f"trial {n}, killed {delay:.2f} s into {work:.2f} s of work"
        assert state["count"] == reference["count"], where
        assert state["ids"] == reference["ids"], where
        assert state["per_doc"] == reference["per_doc"], where
        assert state["record_keys"] == state["ids"], f"{where}: ingest records differ from the collection"
        assert state["files"] == reference["files"], where
    assert killed >= TRIALS - 2, f"only {killed} of {TRIALS} runs were still running when killed"


def test_a_run_after_recovery_changes_nothing(folder, script, clean, tmp_path_factory):
    """Kill in the middle, recover, then a third run finds every file unchanged."""
    import json

    reference, work = clean
    data_dir = tmp_path_factory.mktemp("third-run")
    run_and_kill(script, folder, data_dir, work / 2)
    run_to_completion(script, folder, data_dir)
    proc = subprocess.run([sys.executable, str(script), str(folder), "--json"], env=_env(data_dir),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["unchanged"] == len(reference["files"]) and summary["chunks_added"] == 0
    assert index_state(data_dir)["ids"] == reference["ids"]
