"""One writer or any number of servers on an embedded index, never both at once.

Embedded Chroma keeps part of its index in each process's memory. `rodedraad ingest` while
`rodedraad serve` ran on the same folder exited 0, and the server then failed 109 of 118 questions
in a minute (`InternalError … Error finding id`) until it was restarted. So a serving process holds
a shared lock on `<data_dir>/index.lock` (several workers may share it) and ingest needs the
exclusive one: it is refused while a server runs, and a server does not start while ingest runs.
A Chroma server (RODEDRAAD_CHROMA_URL) takes writes from many processes, so it needs no lock.

    >>> lock = EmbeddedIndexLock(Path(".rodedraad"))
    >>> lock.hold_for_ingest()   # IndexBusy when `rodedraad serve` runs on .rodedraad
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import ConfigurationError

LOCK_NAME = "index.lock"


class IndexBusy(ConfigurationError):
    """Another process holds the embedded index in a way that excludes this one."""


class EmbeddedIndexLock:
    """The lock file of one embedded index folder; the lock lasts as long as this object (or the process)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self._fd: int | None = None

    def _take(self, mode: int) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> str:
        """The process id written by the last process that took the lock ('?' when unknown)."""
        try:
            return self.path.read_text(encoding="ascii").strip() or "?"
        except (OSError, UnicodeDecodeError):
            return "?"

    def hold_for_serving(self) -> None:
        """Take the shared lock, or IndexBusy while an ingestion writes to the index."""
        if not self._take(fcntl.LOCK_SH):
            raise IndexBusy(f"the index in {self.data_dir} is being written by `rodedraad ingest` (process "
                            f"{self.holder()}); start the server when it is done, or use a Chroma server "
                            "(RODEDRAAD_CHROMA_URL)")

    def hold_for_ingest(self) -> None:
        """Take the exclusive lock, or IndexBusy while a server (or another ingestion) uses the index."""
        if not self._take(fcntl.LOCK_EX):
            raise IndexBusy(f"the index in {self.data_dir} is being served by process {self.holder()}; stop it, "
                            "or use a Chroma server (RODEDRAAD_CHROMA_URL) to ingest while serving")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
