"""The one composition root: everything is built here from Settings; tests pass fakes in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from coach.abstention import AbstentionModel
from coach.answering import Answerer
from coach.coach import Coach
from coach.competencies import Framework
from coach.learners import display_names, groups_of
from coach.redaction import Redactor
from coach.settings import Settings
from coach.store.db import make_engine, migrate
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunker
from knowledge.embeddings import Embedder, MiniLMEmbedder, OpenAIEmbedder
from knowledge.ingest import Ingestor
from knowledge.keyword_index import KeywordIndex
from knowledge.loaders import Limits
from knowledge.retrieval import HybridRetriever
from knowledge.vector_index import VectorIndex, make_client


@dataclass
class Container:
    settings: Settings
    engine: Engine
    knowledge: KnowledgeBase
    answerer: Answerer
    coach: Coach


def build_embedder(settings: Settings) -> Embedder:
    if settings.embeddings_base_url:
        return OpenAIEmbedder(settings.embeddings_base_url, settings.embeddings_api_key, settings.embeddings_model)
    return MiniLMEmbedder(threads=settings.embedding_threads)


def bootstrap(settings: Settings | None = None, *, embedder: Embedder | None = None, chroma_client=None) -> Container:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    embedder = embedder or build_embedder(settings)
    client = chroma_client or make_client(
        data_dir=settings.data_dir, host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl
    )
    vectors, headings = VectorIndex(client, embedder.name, "chunks"), VectorIndex(client, embedder.name, "headings")
    ingestor = Ingestor(
        engine=engine, vectors=vectors, headings=headings, embedder=embedder,
        chunker=Chunker(settings.chunk_size, settings.chunk_overlap),
        limits=Limits(max_file_bytes=settings.max_upload_bytes),
    )
    retriever = HybridRetriever(
        engine=engine, vectors=vectors, headings=headings, keyword=KeywordIndex(), embedder=embedder,
        candidates=settings.retrieval_candidates, dense_weight=settings.retrieval_dense_weight,
        fusion=settings.retrieval_fusion,
    )
    knowledge = KnowledgeBase(engine=engine, ingestor=ingestor, retriever=retriever)
    answerer = Answerer(retriever=knowledge, embed=embedder.embed_passages, abstention=AbstentionModel.load(),
                        groups_of=lambda learner_id: groups_of(engine, learner_id) or [])
    coach = Coach(engine=engine, answerer=answerer, redactor=Redactor(known_names=display_names(engine)),
                  framework=Framework.load(settings.competencies_file))
    return Container(settings=settings, engine=engine, knowledge=knowledge, answerer=answerer, coach=coach)
