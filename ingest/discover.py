"""Which files an ingest run reads: every supported file under the given paths, and the paths
that cannot be read, each with its reason.

    >>> files, problems = discover([Path("corpus")])
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from retriever.types import FileOutcome

SUPPORTED = {".pdf", ".txt", ".md", ".markdown", ".html", ".htm"}
SKIPPED_NAMES = {"SOURCES.md", "README.md", "catalog.toml", "LICENSE", "LICENSE.md"}


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Files to ingest under the given paths (recursively; symlink loops and odd entries reported)."""
    found: list[Path] = []
    problems: list[FileOutcome] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_symlink() and not root.exists():
            problems.append(FileOutcome(str(root), "failed", reason="broken symbolic link or symlink loop"))
            continue
        if root.is_file():
            candidates = [root]
        elif root.is_dir():
            candidates = []
            for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                candidates += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
        else:
            problems.append(FileOutcome(str(root), "failed", reason="no such file or folder"))
            continue
        for p in candidates:
            if p.name in SKIPPED_NAMES:
                continue
            try:
                real = p.resolve(strict=True)
            except (OSError, RuntimeError):
                problems.append(FileOutcome(str(p), "failed", reason="broken symbolic link or symlink loop"))
                continue
            if not real.is_file():
                problems.append(FileOutcome(str(p), "failed", reason="not a regular file"))
                continue
            if real in seen:
                continue
            seen.add(real)
            found.append(real)
    return found, problems



def name_problem(path: Path) -> str:
    """A reason when the path cannot be stored (a name that is not valid UTF-8)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return f"file name is not valid UTF-8 ({shown}); rename the file"
    return ""
