"""POST /api/chat and its streaming variant (server-sent events)."""
from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from retriever.types import Answer

from ..answering.answerer import Turn
from ..deps import AnswererDep, record_answer
from ..limits import Limits, LimitsDep
from ..schemas import AnswerOut, AskRequest

router = APIRouter(prefix="/api", tags=["chat"])
log = logging.getLogger("rodedraad")


def _args(req: AskRequest, limits: Limits) -> dict:
    limits.question(req.question)
    return {"history": [Turn(t.role, t.content) for t in req.history],
            "filters": req.filters.to_filters() if req.filters else None}


@router.post("/chat", response_model=AnswerOut)
def chat(req: AskRequest, request: Request, answerer: AnswererDep, limits: LimitsDep) -> AnswerOut:
    """A short answer with numbered citations to report and printed page, or an abstention."""
    answer = answerer.answer(req.question, **_args(req, limits))
    record_answer(request, answer)
    return AnswerOut.from_answer(answer)


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/chat/stream", responses={200: {"content": {"text/event-stream": {}}, "description": "SSE: `delta` events with answer text, then one `done` event with the full response (or one `error` event)"}})
def chat_stream(req: AskRequest, request: Request, answerer: AnswererDep, limits: LimitsDep) -> StreamingResponse:
    """Server-sent events: `delta` pieces of the answer as it forms, then `done` with citations.

    The deltas concatenate to the `done` event's `answer`."""
    args = _args(req, limits)

    def events():
        try:
            for item in answerer.stream(req.question, **args):
                if isinstance(item, Answer):
                    record_answer(request, item)
                    yield sse("done", AnswerOut.from_answer(item).model_dump())
                else:
                    yield sse("delta", {"text": item})
        except Exception:  # the status line is sent already: report the failure as an event
            log.exception("chat stream failed")
            yield sse("error", {"error": "internal error; the server log has the details"})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
