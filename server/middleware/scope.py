"""Reading an ASGI scope: headers, what the layers note about a request, what the routes left on its state."""
from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str:
    """A request header's value ('' when absent)."""
    for k, v in scope.get("headers") or []:
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


def request_info(scope: Scope) -> dict:
    """What the layers note about a request for the logs: request id, client, why it was refused."""
    return scope.setdefault("rodedraad", {})


def request_state(scope: Scope) -> dict:
    """The request's state as the routes fill it (`request.state.answer`, ...): the same dict, so
    a layer that calls this before the routes run sees what they put there."""
    return scope.setdefault("state", {})
