"""LLM backends: any OpenAI-compatible server through LangChain, or a local GGUF via llama-cpp-python.

Both expose `complete(system, user)`; the Answerer bounds it with a timeout and falls back to the
extractive answer when it fails.
"""
from __future__ import annotations

from typing import Protocol

from retriever.errors import ConfigurationError


class ChatBackend(Protocol):
    name: str

    def complete(self, system: str, user: str) -> str: ...


class OpenAICompatibleChat:
    """vLLM, Ollama, LM Studio, llama.cpp's server, Azure OpenAI or OpenAI, via langchain-openai."""

    name = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout: float, max_tokens: int) -> None:
        from langchain_openai import ChatOpenAI

        if not base_url or not model:
            raise ConfigurationError("answer mode 'openai' needs RODEDRAAD_LLM_BASE_URL and RODEDRAAD_LLM_MODEL")
        # max_tokens goes in extra_body: ChatOpenAI sends max_completion_tokens, which llama.cpp ignores.
        self._chat = ChatOpenAI(base_url=base_url, model=model, api_key=api_key or "not-needed", temperature=0,
                                timeout=timeout, max_retries=0, extra_body={"max_tokens": max_tokens})

    def complete(self, system: str, user: str) -> str:
        msg = self._chat.invoke([("system", system), ("human", user)])
        return str(msg.content)



class LlamaCppChat:
    """A GGUF model in-process (`pip install rodedraad[llamacpp]`)."""

    name = "llamacpp"

    def __init__(self, *, model_path: str, max_tokens: int) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ConfigurationError("answer mode 'llamacpp' needs llama-cpp-python: pip install 'rodedraad[llamacpp]'") from e
        if not model_path:
            raise ConfigurationError("answer mode 'llamacpp' needs RODEDRAAD_LLM_MODEL set to a .gguf file")
        self._llm = Llama(model_path=model_path, n_ctx=4096, verbose=False)
        self._max_tokens = max_tokens

    def _messages(self, system: str, user: str) -> list[dict]:
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def complete(self, system: str, user: str) -> str:
        r = self._llm.create_chat_completion(self._messages(system, user), max_tokens=self._max_tokens, temperature=0)
        return r["choices"][0]["message"]["content"] or ""


def make_llm(mode: str, *, base_url: str = "", model: str = "", api_key: str = "", timeout: float = 20.0,
             max_tokens: int = 400) -> ChatBackend:
    """The backend for an answer mode (`openai` or `llamacpp`)."""
    if mode == "openai":
        return OpenAICompatibleChat(base_url=base_url, model=model, api_key=api_key, timeout=timeout,
                                    max_tokens=max_tokens)
    if mode == "llamacpp":
        return LlamaCppChat(model_path=model, max_tokens=max_tokens)
    raise ConfigurationError(f"answer mode {mode!r} has no LLM; choose openai or llamacpp")
