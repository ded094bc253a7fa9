"""POST /api/chat and its streaming variant (server-sent events)."""
from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from rodedraad.types import Answer

from ..answering.answerer import Turn
from ..deps import AnswererDep
from ..schemas import AnswerOut, AskRequest

router = APIRouter(prefix="/api", tags=["chat"])


def _args(req: AskRequest) -> dict:
    return {"history": [Turn(t.role, t.content) for t in req.history],
            "filters": req.filters.to_filters() if req.filters else None}


@router.post("/chat", response_model=AnswerOut)
def chat(req: AskRequest, answerer: AnswererDep) -> AnswerOut:
    """A short answer with numbered citations to report and printed page, or an abstention."""
    return AnswerOut.from_answer(answerer.answer(req.question, **_args(req)))


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/chat/stream", responses={200: {"content": {"text/event-stream": {}}, "description": "SSE: `delta` events with answer text, then one `done` event with the full response"}})
def chat_stream(req: AskRequest, answerer: AnswererDep) -> StreamingResponse:
    """Server-sent events: `delta` pieces of the answer as it forms, then `done` with citations."""
    def events():
        for item in answerer.stream(req.question, **_args(req)):
            if isinstance(item, Answer):
                yield sse("done", AnswerOut.from_answer(item).model_dump())
            else:
                yield sse("delta", {"text": item})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
