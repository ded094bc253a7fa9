"""Helpers for the benchmarks: free ports, `chroma run` and `rodedraad serve` as child processes that are
always stopped, RSS of a process, percentiles."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default) in MB, from /proc."""
    path = Path(f"/proc/{pid or 'self'}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children (uvicorn workers), in MB."""
    total = rss_mb(pid)
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for c in child.read_text().split():
            try:
                total += tree_rss_mb(int(c))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


class Child:
    """A child process that is stopped (SIGTERM, then SIGKILL) when the block ends."""

    def __init__(self, args: list[str], *, env: dict | None = None, log: Path, cwd: Path | None = None) -> None:
        self.args = args
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_http(self, url: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.args[0]} exited ({self.proc.returncode}); see {self.log}:\n"
                                   + self.log.read_text(errors="replace")[-2000:])
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} not up after {timeout} s; see {self.log}")

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._out.close()
        return self.proc.returncode

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def chroma_server(path: Path, log: Path) -> tuple[Child, str]:
    """`chroma run` on a free loopback port; returns the child and its URL once the heartbeat answers."""
    port = free_port()
    child = Child([str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                  env={**os.environ, "RUST_LOG": "warn"}, log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        child.wait_http(f"{url}/api/v2/heartbeat", timeout=60)
    except BaseException:
        child.stop()
        raise
    return child, url


def rodedraad_env(data_dir: Path, chroma_url: str = "", **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RODEDRAAD_")}
    env.update({"RODEDRAAD_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False"})
    if chroma_url:
        env["RODEDRAAD_CHROMA_URL"] = chroma_url
    env.update(extra)
    return env


def ingest(paths: list[Path], env: dict) -> None:
    """`rodedraad ingest` (incremental: instant when the index is already there)."""
    p = subprocess.run([str(BIN / "rodedraad"), "ingest", *map(str, paths), "--quiet"], env=env, cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"ingest failed ({p.returncode}):\n{p.stderr[-2000:]}")
    print(f"  ingest: {p.stdout.strip()}", flush=True)
