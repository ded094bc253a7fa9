"""Builds the parts from Settings; used only at the edges (CLI, create_app)."""
from __future__ import annotations

from retriever.embedder import Embedder, load_embedder
from retriever.glossary import Glossary
from retriever.index import ReportIndex
from retriever.search import HybridRetriever
from retriever.themes import ThemeTagger

from .settings import Settings


def open_index(settings: Settings, *, embedder: Embedder | None = None, create: bool = False) -> ReportIndex:
    """The configured index (embedded or server); create=True also opens the ingest records."""
    embedder = embedder or load_embedder(settings.embedding_model, threads=settings.embed_threads,
                                         processes=settings.workers)
    return ReportIndex.open(data_dir=settings.data_dir, embedder=embedder,
                            chroma_url=settings.chroma_url, name=settings.collection, create=create)


def open_glossary(settings: Settings) -> Glossary:
    return Glossary.load(settings.glossary_path)


def open_themes(settings: Settings, glossary: Glossary) -> ThemeTagger:
    return ThemeTagger.load(settings.themes_path, glossary.normaliser)


def open_searcher(settings: Settings, *, index: ReportIndex | None = None) -> HybridRetriever:
    """A HybridRetriever over the configured index, with the optional reranker."""
    index = index or open_index(settings)
    reranker = None
    if settings.reranker_model:
        from retriever.rerank import CrossEncoderReranker

        reranker = CrossEncoderReranker(settings.reranker_model)
    key = settings.chroma_url.replace("://", "_").replace("/", "_").replace(":", "_") or "embedded"
    return HybridRetriever(index, glossary=open_glossary(settings), reranker=reranker,
                           query_cache_size=settings.query_cache_size,
                           keyword_dir=settings.data_dir / "keyword" / f"{key}-{settings.collection}")


def open_answerer(settings: Settings, searcher: HybridRetriever):
    """The Answerer for the configured answer mode."""
    from server.answering.answerer import Answerer
    from server.answering.llm import make_llm
    from server.answering.prompts import PromptLibrary

    prompts = PromptLibrary(settings.prompts_dir)
    llm = make_llm(settings) if settings.answer_mode != "extractive" else None
    return Answerer(searcher, prompts=prompts, llm=llm, mode=settings.answer_mode, llm_timeout=settings.llm_timeout)
