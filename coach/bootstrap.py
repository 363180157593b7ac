"""The one composition root: everything is built here from Settings; tests pass fakes in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from coach.abstention import AbstentionModel
from coach.answering import Answerer
import prompts
from coach import needs, thresholds
from coach.coach import Coach
from coach.gaps.service import Gaps
from coach.generation import AnswerWriter
from coach.ports import ChatModel
from coach.competencies import Framework
from coach.learners import groups_of
from coach.lessons.drafting import LessonDrafter
from coach.rate_limit import RateLimiter
from coach.redaction import Redactor
from coach.settings import Settings
from coach.source_links import SourceLinks
from coach.xapi import capture as xapi_capture
from coach.xapi.profile import Profile as XapiProfile
from coach.store.db import migrate
from kernel.store import make_engine
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunker
from knowledge.embeddings import E5Embedder, Embedder, MiniLMEmbedder, OpenAIEmbedder
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
    drafter: LessonDrafter
    gaps: Gaps


def build_embedder(settings: Settings) -> Embedder:
    if settings.embeddings_base_url:
        return OpenAIEmbedder(settings.embeddings_base_url, settings.embeddings_api_key.get_secret_value(), settings.embeddings_model)
    if settings.embedding_model == "e5":
        return E5Embedder(threads=settings.embedding_threads)
    return MiniLMEmbedder(threads=settings.embedding_threads)


def build_chat_model(settings: Settings) -> ChatModel | None:
    if not settings.llm_base_url:
        return None
    from llm.openai_chat import OpenAIChatModel

    return OpenAIChatModel(base_url=settings.llm_base_url, api_key=settings.llm_api_key.get_secret_value(), model=settings.llm_model,
                           max_tokens=settings.llm_max_tokens, concurrency=settings.llm_concurrency)


def bootstrap(settings: Settings | None = None, *, embedder: Embedder | None = None, chroma_client=None,
              chat_model: ChatModel | None = None) -> Container:
    settings = settings or Settings()
    chat_model = chat_model or build_chat_model(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    if settings.xapi_endpoint:  # learning records: statements captured with every write from here on
        xapi_capture.attach(engine, XapiProfile.of(engine, settings))
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
    cosine = thresholds.for_embedder(embedder.name)  # calibrated per embedding model
    answerer = Answerer(retriever=knowledge, embed=embedder.embed_passages,
                        abstention=AbstentionModel.for_embedder(embedder.name),
                        groups_of=lambda learner_id: groups_of(engine, learner_id) or [],
                        writer=chat_model and AnswerWriter(model=chat_model, template=prompts.load("answer"),
                                                           engine=engine, company=settings.company_name,
                                                           budget_s=settings.llm_budget_s,
                                                           embed=embedder.embed_passages,
                                                           support=cosine["answer_support"]))
    framework = Framework.load(settings.competencies_file)
    coach = Coach(engine=engine, answerer=answerer, redactor=Redactor(),
                  framework=framework, human_contact=settings.human_contact,
                  rate=RateLimiter(settings.questions_per_minute,
                                   asked_since=lambda learner, since: needs.asked_since(engine, learner, since)),
                  find_source=knowledge.find, min_group=settings.privacy_min_group,
                  source_links=SourceLinks(engine, settings.public_url) if settings.xapi_endpoint else None)
    drafter = LessonDrafter(model=chat_model, knowledge=knowledge, engine=engine, framework=framework,
                            company=settings.company_name, relevant=cosine["gap_relevant"])
    similarity = cosine["gap_similarity"] if settings.gap_similarity is None else settings.gap_similarity
    gaps = Gaps(engine=engine, embedder=embedder, answerer=answerer, chunk_vectors=knowledge.chunk_vectors,
                similarity=similarity, plausible=cosine["gap_plausible"], notify_days=settings.gap_notify_days)
    ingestor.listeners.append(gaps.on_ingested)  # every ingestion re-asks the open gaps its content may answer
    return Container(settings=settings, engine=engine, knowledge=knowledge, answerer=answerer, coach=coach,
                     drafter=drafter, gaps=gaps)
