"""Structured logs: one JSON object per line on stderr for the `rodedraad` loggers."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_STD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "rodedraad", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "rodedraad", None)
        out = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name}
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["msg"] = record.getMessage()
        for k, v in vars(record).items():
            if k not in _STD_ATTRS and k not in out:
                out[k] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging() -> None:
    """JSON lines on stderr for our loggers when nobody configured logging (e.g. under uvicorn)."""
    ours = logging.getLogger("rodedraad")
    if ours.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
