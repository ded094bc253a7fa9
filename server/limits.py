"""Question length and result count: checked where the routes read them, against the configured
RequestLimits (the body size is refused earlier, by server/middleware/body_size.py)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from retriever.errors import RodeDraadError

from .config import RequestLimits
from .schemas import MAX_QUESTION


class LimitExceeded(RodeDraadError):
    """A question or a result count over the configured limit; `detail` says which field."""

    status_code = 422

    def __init__(self, message: str, *, field: str, kind: str) -> None:
        super().__init__(message)
        self.detail = [{"loc": ["body", field], "msg": message, "type": kind}]


class Limits:
    """The request's limits; `question()` also notes the question's length for the access log."""

    def __init__(self, limits: RequestLimits, request: Request) -> None:
        self.limits = limits
        self.request = request

    def question(self, text: str, *, field: str = "question", noun: str = "question") -> str:
        """The question, or LimitExceeded when it is longer than the limit."""
        self.request.state.question_chars = len(text)
        most = min(self.limits.max_question_chars, MAX_QUESTION)  # the schemas' bound holds as well
        if len(text) > most:
            raise LimitExceeded(f"the {noun} is longer than {most} characters",
                                field=field, kind="string_too_long")
        return text

    def results(self, k: int) -> int:
        """The result count, or LimitExceeded when more than the limit."""
        if k > self.limits.max_results:
            raise LimitExceeded(f"k may be at most {self.limits.max_results}", field="k", kind="less_than_equal")
        return k


def get_limits(request: Request) -> Limits:
    return Limits(request.app.state.config.limits, request)


LimitsDep = Annotated[Limits, Depends(get_limits)]
