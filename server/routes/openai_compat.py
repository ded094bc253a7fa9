"""OpenAI-compatible endpoints, so OpenAI clients and chat UIs (Open WebUI) can connect.

The answer text carries its citations as footnotes; `sources` carries them as data. System
messages from the client are ignored: the assistant's own rules always apply.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from retriever.errors import RodeDraadError
from retriever.types import Answer

from ..answering.answerer import Turn, pieces
from ..deps import AnswererDep, record_answer
from ..document_text import mark_quotes, markdown_text
from ..errors import openai_error
from ..limits import Limits, LimitsDep
from ..schemas import AnswerOut


class OpenAIErrorBody(BaseModel):
    message: str
    type: Literal["invalid_request_error", "authentication_error", "permission_error", "rate_limit_error",
                  "server_error"]
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """Every /v1 error, in the shape OpenAI clients parse (see server/errors.py)."""

    error: OpenAIErrorBody


# Declared for the whole router so the spec (and the fuzz test's response checks) hold /v1 to it.
router = APIRouter(prefix="/v1", tags=["openai"], responses={
    400: {"model": OpenAIError, "description": "Malformed request or conversation"},
    413: {"model": OpenAIError, "description": "Request body too large"}})
log = logging.getLogger("rodedraad")
MODEL_ID = "rodedraad"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list | None = Field(None)

    @field_validator("content")
    @classmethod
    def _encodable(cls, v):
        # "\ud83d" is valid JSON but no text: no encoder (the embedder's included) accepts it
        texts = [v] if isinstance(v, str) else [p.get("text") for p in v or [] if isinstance(p, dict)]
        if any(isinstance(t, str) and _SURROGATE.search(t) for t in texts):
            raise ValueError("the text holds a lone surrogate (half of a UTF-16 pair), which is not valid Unicode")
        return v

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(p["text"] for p in self.content if isinstance(p, dict) and isinstance(p.get("text"), str))
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID
    messages: list[MessageIn] = Field(..., min_length=1, max_length=60)
    stream: bool = False


class BadConversation(RodeDraadError):
    """The messages hold no question to answer; `param` names the field in OpenAI's error shape."""

    param = "messages"


def footnotes(a: Answer) -> str:
    """The answer as Markdown, with its sources as footnotes. Document text is quoted and escaped
    (server/document_text.py): a chat UI renders no link, image or HTML from a report."""
    body = markdown_text(mark_quotes(a.text, a.citations))
    if not a.citations:
        extra = "".join(f"\n- {markdown_text(p.title)} ({p.year or 'z.j.'})" for p in a.nearest)
        return body + (f"\n{extra}" if extra else "")
    notes = "\n".join(f"[{c.n}] {markdown_text(c.passage.title)} ({c.passage.year or 'z.j.'}), "
                      f"p. {markdown_text(c.passage.page_label)}" for c in a.citations)
    return f"{body}\n\n{notes}"


def _split(req: ChatCompletionRequest, limits: Limits) -> tuple[str, list[Turn]]:
    convo = [m for m in req.messages if m.role in ("user", "assistant")]
    if not convo or convo[-1].role != "user" or not convo[-1].text().strip():
        raise BadConversation("the last message must be a non-empty user message")
    question = limits.question(convo[-1].text().strip(), field="messages")
    return question, [Turn(m.role, m.text()) for m in convo[:-1]]


def _sources(a: Answer) -> list[dict]:
    return [c.model_dump() for c in AnswerOut.from_answer(a).citations]


@router.get("/models")
def models() -> dict:
    """The one model this server offers."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "rodedraad"}]}


@router.post("/chat/completions")
def chat_completions(req: ChatCompletionRequest, request: Request, answerer: AnswererDep, limits: LimitsDep):
    """Chat completion (plain or streaming) answered from the reports, with citations."""
    question, history = _split(req, limits)
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if not req.stream:
        a = answerer.answer(question, history=history)
        record_answer(request, a, footnotes(a))
        return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": footnotes(a)},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "sources": _sources(a), "abstained": a.abstained}

    def chunk(delta: dict, finish=None, **extra) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def events():
        yield chunk({"role": "assistant", "content": ""})
        try:
            # The answer's pieces all arrive at its end; the quotes are marked and escaped over the
            # whole text, so the deltas are cut from that (they concatenate to the plain content).
            for item in answerer.stream(question, history=history):
                if isinstance(item, Answer):
                    shown = footnotes(item)
                    record_answer(request, item, shown)
                    for piece in pieces(shown):
                        yield chunk({"content": piece})
                    yield chunk({}, "stop", sources=_sources(item), abstained=item.abstained)
        except Exception:  # the status line is sent already: end the stream with an error object
            log.exception("chat completion stream failed")
            _, error = openai_error(500, "internal error; the server log has the details")
            yield f"data: {json.dumps(error)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


