"""The OpenAPI spec tells what the layers around the routes add: the bearer scheme and their answers."""
from __future__ import annotations

from fastapi import FastAPI

from .config import ServerConfig
from .middleware.gate import is_protected


def document_security(app: FastAPI, config: ServerConfig) -> None:
    """Declare the bearer scheme and the 401/429/413/422 answers on /api and /v1 in the spec."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None and app.openapi_schema.get("x-rodedraad-ops"):
            return app.openapi_schema
        schema = build()
        if config.api_keys:
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearerAuth"] = {
                "type": "http", "scheme": "bearer", "description": "One of RODEDRAAD_API_KEYS"}
        for path, ops in schema.get("paths", {}).items():
            if not is_protected(path):
                continue
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                if config.api_keys:
                    op["security"] = [{"bearerAuth": []}]
                    op["responses"].setdefault("401", {"description": "Missing or invalid API key"})
                if config.rate_limit_per_minute:
                    op["responses"].setdefault("429", {"description": "Rate limit reached; see Retry-After"})
                op["responses"].setdefault("413", {"description": "Request body too large"})
                op["responses"].setdefault("422", {"description": "Invalid request"})
        schema["x-rodedraad-ops"] = True
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
