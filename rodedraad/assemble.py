"""The one place that builds parts from Settings: index, searcher, lookups, answerer, LLM, theme
tagger, learning service, the extractive answerer for the bots, and the metrics wrappers.

    >>> settings = Settings()
    >>> app = server.app.create_app(build_parts(settings), server_config(settings))
"""
from __future__ import annotations

from functools import partial

from retriever.embedder import Embedder, load_embedder
from retriever.glossary import Glossary
from retriever.index import ReportIndex
from retriever.index_probe import index_problem
from retriever.passages import PassageLookup
from retriever.search import HybridRetriever
from retriever.terms import TermStatistics
from retriever.themes import ThemeTagger
from retriever.types import Searcher

from .settings import Settings


def open_embedder(settings: Settings) -> Embedder:
    """An embeddings server when embedding_url is set, else the configured local model."""
    if settings.embedding_url:
        from retriever.remote_embedder import RemoteEmbedder

        return RemoteEmbedder(settings.embedding_url, settings.embedding_server_model,
                              api_key=settings.embedding_api_key, prefixes=settings.embedding_prefixes,
                              batch_size=settings.embedding_batch_size, retries=settings.embedding_retries,
                              timeout=settings.embedding_timeout, max_tokens=settings.embedding_max_tokens)
    return load_embedder(settings.embedding_model, threads=settings.embed_threads, processes=settings.workers)


def open_index(settings: Settings, *, embedder: Embedder | None = None, create: bool = False) -> ReportIndex:
    """The configured index (embedded or server); create=True also opens the ingest records."""
    embedder = embedder or open_embedder(settings)
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


def passages_of(searcher: HybridRetriever) -> PassageLookup:
    """Passage and document lookups over the searcher's index."""
    return PassageLookup(searcher.derived)


def terms_of(searcher: HybridRetriever) -> TermStatistics:
    """Stems and term weights over the searcher's keyword index."""
    return TermStatistics(searcher.questions)


def open_llm(settings: Settings):
    """The LLM backend of the configured answer mode, or None for extractive answers."""
    from server.answering.llm import make_llm

    if settings.answer_mode == "extractive":
        return None
    return make_llm(settings.answer_mode, base_url=settings.llm_base_url, model=settings.llm_model,
                    api_key=settings.llm_api_key, timeout=settings.llm_timeout, max_tokens=settings.llm_max_tokens)


def open_answerer(settings: Settings, searcher: Searcher, terms: TermStatistics):
    """The Answerer for the configured answer mode, over `searcher` (plain or timed)."""
    from server.answering.answerer import Answerer
    from server.answering.prompts import PromptLibrary

    return Answerer(searcher, terms=terms, prompts=PromptLibrary(settings.prompts_dir), llm=open_llm(settings),
                    mode=settings.answer_mode, llm_timeout=settings.llm_timeout)


def extractive_answerer(answerer):
    """`answerer` when it answers without an LLM, else one that does, over the same searcher and prompts."""
    from server.answering.answerer import Answerer

    if answerer.llm is None:
        return answerer
    return Answerer(answerer.searcher, terms=answerer.terms, prompts=answerer.prompts, k=answerer.k,
                    policy=answerer.policy)


def open_learning(settings: Settings, searcher: Searcher, passages: PassageLookup, terms: TermStatistics,
                  tagger: ThemeTagger):
    """Precedents, theme browsing and session packs over the searcher."""
    from retriever.mentions import MentionCatalogue
    from retriever.precedents import PrecedentFinder
    from server.learning import LearningService
    from server.learning.browse import ThemeBrowser
    from server.learning.pack import PackBuilder

    finder = PrecedentFinder(searcher, passages, terms, MentionCatalogue.load())
    browser = ThemeBrowser(passages, tagger, finder)
    return LearningService(tagger, finder, browser, PackBuilder(browser, settings.prompts_dir))


def learning_for(settings: Settings, searcher: HybridRetriever):
    """The learning service for the command line, over a plain searcher."""
    return open_learning(settings, searcher, passages_of(searcher), terms_of(searcher),
                         open_themes(settings, searcher.glossary))


def open_page_views(settings: Settings, passages: PassageLookup):
    """The original files (from the ingest records in data_dir) and their highlighted pages, cached
    under data_dir/pages."""
    from retriever.sources import SourceFiles
    from server.pageview import PageViews
    from server.pageview.cache import PageCache

    return PageViews(passages=passages, sources=SourceFiles(data_dir=settings.data_dir, collection=settings.collection),
                     cache=PageCache(settings.data_dir / "pages"))


def build_parts(settings: Settings, *, searcher: HybridRetriever | None = None, answerer=None):
    """Everything the server serves, built once per process. `searcher` and `answerer` are used
    instead of new ones when given (tests share theirs); the searches of a given answerer are
    timed only when it searches through an InstrumentedSearcher, as the one built here does."""
    from server.metrics import InstrumentedAnswerer, InstrumentedSearcher
    from server.parts import Parts

    if searcher is None:
        searcher = open_searcher(settings)
        searcher.warm_up()
    passages, terms = passages_of(searcher), terms_of(searcher)
    timed = InstrumentedSearcher(searcher, passages)
    answerer = answerer or open_answerer(settings, timed, terms)
    quick = extractive_answerer(answerer)
    main = InstrumentedAnswerer(answerer)
    return Parts(
        searcher=timed,
        answerer=main,
        extractive_answerer=main if quick is answerer else InstrumentedAnswerer(quick),
        passages=passages,
        learning=open_learning(settings, timed, passages, terms, open_themes(settings, searcher.glossary)),
        embedding_model=searcher.index.embedder.name,
        index_problem=partial(index_problem, searcher.index, passages),
        pages=open_page_views(settings, passages),
    )


def server_config(settings: Settings):
    """What the HTTP layer needs of the settings."""
    from server.config import RequestLimits, ServerConfig

    return ServerConfig(
        answer_mode=settings.answer_mode, host=settings.host, api_keys=tuple(settings.api_keys),
        cors_origins=tuple(settings.cors_origins), public_url=settings.public_url,
        limits=RequestLimits(max_body_bytes=settings.max_body_bytes, max_question_chars=settings.max_question_chars,
                             max_results=settings.max_results),
        rate_limit_per_minute=settings.rate_limit_per_minute, request_threads=settings.request_threads,
        audit_log=settings.audit_log, slack_bot_token=settings.slack_bot_token,
        slack_signing_secret=settings.slack_signing_secret, slack_api_url=settings.slack_api_url,
        teams_secret=settings.teams_secret)
