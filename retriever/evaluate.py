"""Retrieval evaluation over JSONL question files (`question`, `lang`, `kind`, `quotes`).

A quote counts as found in a passage when at least half of it (lowercased, whitespace collapsed)
appears there as one contiguous run: the same rule as the reference scorer in shared/eval.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from difflib import SequenceMatcher
from pathlib import Path

from .errors import RodeDraadError

_WS = re.compile(r"\s+")
KS = (1, 3, 5, 10)
BUDGET = 4000


def _norm(s: str) -> str:
    return _WS.sub(" ", s).strip().lower()


def quote_found(quote: str, passage: str) -> bool:
    """At least half of the quote appears in the passage as one contiguous run."""
    q, p = _norm(quote), _norm(passage)
    if q in p:
        return True
    m = SequenceMatcher(None, q, p, autojunk=False).find_longest_match(0, len(q), 0, len(p))
    return m.size >= 0.5 * len(q)


def load_items(path: Path) -> list[dict]:
    """Questions of an eval file; a bad line is an error naming its number."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise RodeDraadError(f"cannot read {path}: {e}") from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise RodeDraadError(f"{path}:{n}: not JSON ({e.msg})") from e
        if "question" not in item:
            raise RodeDraadError(f"{path}:{n}: no 'question' field")
        item.setdefault("id", f"q{n}")
        items.append(item)
    return items


def _within_budget(passages: list[str], budget: int) -> list[str]:
    out, used = [], 0
    for p in passages:
        if used >= budget:
            break
        out.append(p[: budget - used])
        used += len(p)
    return out


def score_item(item: dict, passages: list[str]) -> dict:
    """Recall@k, recall within the first 4000 characters and reciprocal rank for one question."""
    first: dict[int, int] = {}
    for qi, quote in enumerate(item["quotes"]):
        for rank, p in enumerate(passages, 1):
            if quote_found(quote, p):
                first[qi] = rank
                break
    n = len(item["quotes"])
    row = {"id": item["id"], "lang": item.get("lang"), "kind": item.get("kind"), "fold": item.get("fold")}
    for k in KS:
        row[f"r@{k}"] = sum(1 for r in first.values() if r <= k) / n
    seen = _within_budget(passages, BUDGET)
    row[f"r@{BUDGET}c"] = sum(1 for q in item["quotes"] if any(quote_found(q, p) for p in seen)) / n
    row["rr"] = 1 / min(first.values()) if first else 0.0
    return row


def standalone_question(item: dict, condense: Callable[[str, list[str]], str] | None) -> str:
    """The question as search sees it: through `condense(question, earlier questions)`, the
    chat's own step (it drops instructions to the assistant and condenses a follow-up)."""
    history = [h for h in item.get("history") or [] if isinstance(h, str) and h.strip()]
    return condense(item["question"], history) if condense is not None else item["question"]


def select_fold(items: Iterable[dict], fold: str | None) -> list[dict]:
    """The items of one fold (`tune`, `check`), or all of them when fold is None."""
    return [i for i in items if fold is None or i.get("fold") == fold]


def evaluate(items: Iterable[dict], retrieve: Callable[[str, int], list[str]],
             condense: Callable[[str, list[str]], str] | None = None) -> tuple[dict, list[dict]]:
    """Score every question with quotes; returns (aggregates, rows).

    `condense(question, history)` turns a follow-up into the question search gets."""
    rows = []
    for item in items:
        if not item.get("quotes"):
            continue
        rows.append(score_item(item, retrieve(standalone_question(item, condense), max(max(KS), 40))))
    return aggregate(rows), rows


def _mean(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if k.startswith("r")] if rows else []
    return {"n": len(rows), **{k: sum(r[k] for r in rows) / len(rows) for k in keys}}


def aggregate(rows: list[dict]) -> dict:
    """Overall figures, then per fold (when the items have one), per language and per kind
    (rr is the reciprocal rank; its mean is the MRR)."""
    out = {"all": _mean(rows)}
    for field in ("fold", "lang", "kind"):
        values = sorted({str(r[field]) for r in rows if r.get(field) is not None})
        for value in values:
            out[f"{field}={value}"] = _mean([r for r in rows if str(r.get(field)) == value])
    return out
