"""The Content area for scripts and checks: /api/admin/sources and /api/admin/try, JSON, bearer token of an ld-admin
(`coach tokens create --role ld-admin`). The same code as the pages underneath: upload and replace go through
content_uploads (the road `coach ingest` takes), every change is audited under the token's name."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from coach import accounts
from coach.store.models import Account
from connectors.admin.auth import actor_of, body_too_large, client_address, require_token
from connectors.admin.content import replacement_meta, retag_changes
from connectors.admin.context import container_of
from connectors.admin.content_json import detail_json, source_json
from connectors.admin.content_try import MAX_QUESTION, trial_json, try_question
from connectors.admin.content_uploads import (MAX_FILES, FormProblem, form_meta, ingest_audited,
                                              outcome_json, received, summary_json)
from knowledge.listing import SORTS, SourceQuery
from knowledge.loaders.limits import human_size

router = APIRouter(prefix="/api/admin", tags=["admin: content"])
ADMIN_TOKEN = Depends(require_token(accounts.ADMIN))


def _source_or_404(request: Request, source_id: str, **kwargs):
    detail = container_of(request).knowledge.source_detail(source_id, **kwargs)
    if detail is None:
        raise HTTPException(404, f"No source {source_id}: GET /api/admin/sources lists them.")
    return detail


async def _files(request: Request, field: str, most: int):
    """The request's file parts under `field`, parsed only after the token was checked and the size announced."""
    limit = container_of(request).settings.max_upload_bytes
    if body_too_large(request):
        raise HTTPException(413, f"Too large for one request: send fewer files at once (each up to "
                                 f"{human_size(limit)}).")
    form = await request.form(max_files=most + 1, max_fields=50)
    files = received(form.getlist(field))
    if not files or len(files) > most:
        await form.close()
        raise HTTPException(422, f"At most {most} file(s) per request." if files else
                            f"Send the file(s) as multipart form field `{field}`.")
    return form, files


def _text(form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@router.post("/sources")
async def upload_sources(request: Request, account: Account = ADMIN_TOKEN) -> dict:
    """Upload files (multipart field `files`, repeated; optional fields `audience` and `competencies`, each
    comma-separated, and `owner`): each added, updated, unchanged or refused with the reason."""
    container = container_of(request)
    form, files = await _files(request, "files", MAX_FILES)
    try:
        try:
            meta = form_meta(container.coach.framework, audience=_text(form, "audience"),
                             competencies=_text(form, "competencies"), owner=_text(form, "owner"))
        except FormProblem as exc:
            raise HTTPException(422, str(exc)) from exc
        report = await ingest_audited(container, files, meta, actor=actor_of(request),
                                      address=client_address(request))
    finally:
        await form.close()
    return {"summary": summary_json(report), "files": [outcome_json(o) for o in report.outcomes]}


@router.get("/sources")
def get_sources(request: Request, q: str = Query("", max_length=200), type: str = Query("", max_length=40),
                audience: str = Query("", max_length=64), competency: str = Query("", max_length=64),
                sort: str = Query("updated", pattern="^(" + "|".join(SORTS) + ")$"),
                dir: str = Query("desc", pattern="^(asc|desc)$"), limit: int | None = Query(None, ge=1, le=100_000),
                offset: int = Query(0, ge=0), account: Account = ADMIN_TOKEN) -> list[dict]:
    """The sources (all of them unless `limit`), newest first unless `sort`/`dir` say otherwise."""
    query = SourceQuery(q=q, doc_type=type, audience=audience.strip().lower(), competency=competency.strip().lower(),
                        sort=sort, descending=dir == "desc", offset=offset, limit=limit)
    return [source_json(row) for row in container_of(request).knowledge.listing(query).rows]


@router.get("/sources/{source_id}")
def get_source(request: Request, source_id: str, account: Account = ADMIN_TOKEN) -> dict:
    """One source's metadata and its chunks in reading order, each with its locator."""
    return detail_json(_source_or_404(request, source_id))


class Retag(BaseModel):
    """Only the fields given change; an empty audience means everyone."""

    audience: list[str] | str | None = None
    competencies: list[str] | str | None = None
    owner: str | None = Field(None, max_length=200)


@router.patch("/sources/{source_id}")
def retag_source(request: Request, source_id: str, body: Retag, account: Account = ADMIN_TOKEN) -> dict:
    """Re-tag without re-embedding: audience, competencies, owner."""
    container = container_of(request)
    before = _source_or_404(request, source_id, limit=1).source
    try:
        meta = form_meta(container.coach.framework, audience=body.audience or "",
                         competencies=body.competencies or "", owner=body.owner or "")
    except FormProblem as exc:
        raise HTTPException(422, str(exc)) from exc
    after = container.knowledge.retag(
        source_id, audience=meta.audience if body.audience is not None else None,
        competencies=meta.competencies if body.competencies is not None else None,
        owner=(meta.owner or "") if body.owner is not None else None)
    if after is None:
        raise HTTPException(404, f"No source {source_id}.")
    changes = retag_changes(before, after)
    accounts.audit(container.engine, actor=actor_of(request), action="source-retagged",
                   target=f"{source_id} {after.title}", address=client_address(request),
                   detail="; ".join(changes) or "no change")
    return {"id": after.id, "title": after.title, "audience": after.audience, "competencies": after.competencies,
            "owner": after.owner, "changes": changes}


@router.post("/sources/{source_id}/replace")
async def replace_source(request: Request, source_id: str, account: Account = ADMIN_TOKEN) -> dict:
    """A new version of the source (multipart field `file`); refused, it leaves the current version in place."""
    container = container_of(request)
    source = (await run_in_threadpool(_source_or_404, request, source_id, limit=1)).source
    form, files = await _files(request, "file", 1)
    try:
        [outcome] = (await ingest_audited(container, files, replacement_meta(source), actor=actor_of(request),
                                          address=client_address(request), key=source.key,
                                          replacing=source_id)).outcomes
    finally:
        await form.close()
    return outcome_json(outcome)


@router.delete("/sources/{source_id}")
def delete_source(request: Request, source_id: str, account: Account = ADMIN_TOKEN) -> dict:
    container = container_of(request)
    removed = container.knowledge.remove([_source_or_404(request, source_id, limit=1).source.id])
    if not removed:  # deleted by someone else in between
        raise HTTPException(404, f"No source {source_id}.")
    source = removed[0]
    accounts.audit(container.engine, actor=actor_of(request), action="source-deleted",
                   target=f"{source.id} {source.title}", address=client_address(request),
                   detail=f"{source.key}; {source.chunk_count} chunks")
    return {"deleted": source.id, "title": source.title, "chunks": source.chunk_count}


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    groups: list[str] | str = []


@router.post("/try")
def try_it(request: Request, body: Question, account: Account = ADMIN_TOKEN) -> dict:
    """The answer a learner in `groups` (plus everyone) would get, its citations, the abstention confidence and
    each passage's retrieval scores. Nothing is logged: no need, no rate-limit count, not the question."""
    container = container_of(request)
    try:
        groups = form_meta(container.coach.framework, audience=body.groups).audience
    except FormProblem as exc:
        raise HTTPException(422, str(exc)) from exc
    return trial_json(try_question(container, body.question, groups))
