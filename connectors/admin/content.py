"""The admin's Content area (ld-admin only): upload, the list of sources, one source with its chunks (replace,
re-tag, delete), and "Try it". Every page works without JavaScript; static/admin.js adds drag and drop and a
per-file progress list to the upload. The same actions for scripts live in content_api.py."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from coach import accounts
from coach.store.models import Account
from connectors.admin.auth import PageRefused, actor_of, body_too_large, client_address, require
from connectors.admin.context import container_of, flash, flashed
from connectors.admin.content_try import MAX_QUESTION, answer_blocks, try_question
from connectors.admin.content_uploads import (MAX_FILES, STATUS_WORDS, FormProblem, form_meta,
                                              ingest_audited, outcome_json, received, summary_json)
from connectors.admin.shell import NavLink, page_router, render
from knowledge.listing import SORTS, SourceQuery
from knowledge.loaders import SUPPORTED_SUFFIXES
from knowledge.loaders.limits import human_size
from knowledge.metadata import SourceMeta
from knowledge.models import EVERYONE

router = page_router()
NAV = [NavLink("Content", "/admin/content", roles=(accounts.ADMIN,), order=10)]
ADMIN_ONLY = Depends(require(accounts.ADMIN))
PER_PAGE, CHUNKS_PER_PAGE = 50, 100
ACCEPT = ",".join(sorted(SUPPORTED_SUFFIXES))


def _render(request: Request, name: str, context: dict, status_code: int = 200):
    """Every Content page shows the one-time message left by the action before it (content_tabs.html)."""
    return render(request, name, {**flashed(request), **context}, status_code=status_code)


def _facets(container) -> dict[str, list[str]]:
    """The values the filters offer: types and audiences in use, and the framework's competencies."""
    found = container.knowledge.facets()
    return {"types": found.types, "audiences": found.audiences,
            "competencies": [c.id for c in container.coach.framework.competencies]}


def _field(form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _texts(form, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


# --- the list ----------------------------------------------------------------------------------------------------


@router.get("/admin/content")
def sources(request: Request, q: str = Query("", max_length=200), type: str = Query("", max_length=40),
            audience: str = Query("", max_length=64), competency: str = Query("", max_length=64),
            sort: str = Query("updated", pattern="^(" + "|".join(SORTS) + ")$"),
            dir: str = Query("desc", pattern="^(asc|desc)$"), page: int = Query(1, ge=1, le=100_000),
            account: Account = ADMIN_ONLY):
    container = container_of(request)
    query = SourceQuery(q=q, doc_type=type, audience=audience.strip().lower(), competency=competency.strip().lower(),
                        sort=sort, descending=dir == "desc", offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    listed = container.knowledge.listing(query)
    pages = max(1, math.ceil(listed.total / PER_PAGE))
    filters = {k: v for k, v in (("q", q), ("type", type), ("audience", audience), ("competency", competency)) if v}

    def link(**changes) -> str:
        return "/admin/content?" + urlencode({**filters, "sort": sort, "dir": dir, **changes})

    def sort_link(column: str) -> str:
        flip = "asc" if sort == column and dir == "desc" else "desc" if sort == column else (
            "asc" if column in ("title", "type", "owner") else "desc")
        return link(sort=column, dir=flip, page=1)

    return _render(request, "content.html", {
        "listed": listed, "page": page, "pages": pages, "filters": filters, "sort": sort, "dir": dir,
        "facets": _facets(container), "link": link, "sort_link": sort_link,
        "q": q, "type": type, "audience": audience, "competency": competency})


# --- upload ------------------------------------------------------------------------------------------------------


def _upload_context(request: Request, **extra) -> dict:
    container = container_of(request)
    settings = container.settings
    return {"facets": _facets(container), "accept": ACCEPT,
            "framework": container.coach.framework.competencies, "max_size": human_size(settings.max_upload_bytes),
            "max_files": MAX_FILES, "owner": request.state.account.email, "audience": "", "chosen": [],
            "results": None, "error": "", **extra}


@router.get("/admin/content/upload")
def upload_form(request: Request, topic: str = Query("", max_length=200), account: Account = ADMIN_ONLY):
    """`topic`: from a content gap's "Upload the missing content": its competency is ticked already."""
    known = {c.id for c in container_of(request).coach.framework.competencies}
    return _render(request, "content_upload.html", _upload_context(
        request, gap_topic=topic, chosen=[topic] if topic in known else []))


@router.post("/admin/content/upload")
async def upload(request: Request, account: Account = ADMIN_ONLY):
    """One or many files (field `files`). The page's script sends one file per request and asks for JSON, to show
    each file's progress and result as it comes; a plain form post gets the results page."""
    container = container_of(request)
    settings, wants_json = container.settings, "application/json" in request.headers.get("accept", "")

    def refuse(status: int, message: str, **form_values):
        if wants_json:
            return JSONResponse({"detail": message}, status_code=status)
        return _render(request, "content_upload.html", _upload_context(request, error=message, **form_values),
                       status_code=status)

    if body_too_large(request):
        return refuse(413, f"This upload is too large for one request: send fewer files at once (each file may be "
                           f"up to {human_size(settings.max_upload_bytes)}).")
    async with request.form(max_files=MAX_FILES + 1, max_fields=200) as form:
        values = {"audience": _field(form, "audience"), "chosen": _texts(form, "competencies"),
                  "owner": _field(form, "owner")}
        try:
            meta = form_meta(container.coach.framework, audience=values["audience"], competencies=values["chosen"],
                             owner=values["owner"])
        except FormProblem as exc:
            return refuse(422, str(exc), **values)
        files = received(form.getlist("files"))
        if not files:
            return refuse(422, "Choose at least one file to upload.", **values)
        if len(files) > MAX_FILES:
            return refuse(422, f"Upload at most {MAX_FILES} files at once.", **values)
        report = await ingest_audited(container, files, meta, actor=actor_of(request),
                                      address=client_address(request))
    if wants_json:
        return JSONResponse({"summary": summary_json(report), "files": [outcome_json(o) for o in report.outcomes]})
    return _render(request, "content_upload.html", _upload_context(
        request, results=[outcome_json(o) for o in report.outcomes], summary=summary_json(report), **values))


# --- one source --------------------------------------------------------------------------------------------------


def _found(request: Request, source_id: str, **kwargs):
    detail = container_of(request).knowledge.source_detail(source_id, **kwargs)
    if detail is None:
        raise PageRefused(404, "There is no such source (it may have been deleted). The list shows what is there.")
    return detail


@router.get("/admin/content/sources/{source_id}")
def source_page(request: Request, source_id: str, page: int = Query(1, ge=1, le=100_000),
                account: Account = ADMIN_ONLY):
    detail = _found(request, source_id, offset=(page - 1) * CHUNKS_PER_PAGE, limit=CHUNKS_PER_PAGE)
    container = container_of(request)
    return _render(request, "content_source.html", {
        "detail": detail, "source": detail.source, "page": page,
        "pages": max(1, math.ceil(detail.total_chunks / CHUNKS_PER_PAGE)), "accept": ACCEPT,
        "framework": container.coach.framework.competencies, "facets": _facets(container),
        "audience_text": ", ".join(g for g in detail.source.audience if g != EVERYONE)})


@router.post("/admin/content/sources/{source_id}/tags")
def retag(request: Request, source_id: str, audience: str = Form("", max_length=1000),
          competencies: list[str] = Form([]), owner: str = Form("", max_length=300), account: Account = ADMIN_ONLY):
    """Sync: re-tagging writes to the database and the vector index (a worker thread, like every sync route)."""
    container = container_of(request)
    before = _found(request, source_id, limit=1).source
    try:
        meta = form_meta(container.coach.framework, audience=audience, competencies=competencies, owner=owner)
    except FormProblem as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(f"/admin/content/sources/{source_id}#tags", status_code=303)
    after = container.knowledge.retag(source_id, audience=meta.audience, competencies=meta.competencies,
                                      owner=meta.owner or "")
    if after is None:
        return RedirectResponse("/admin/content", status_code=303)
    changes = retag_changes(before, after)
    accounts.audit(container.engine, actor=actor_of(request), action="source-retagged",
                   target=f"{source_id} {after.title}", address=client_address(request),
                   detail="; ".join(changes) or "no change")
    flash(request, "Saved: " + ("; ".join(changes) if changes else "nothing changed") + ".")
    return RedirectResponse(f"/admin/content/sources/{source_id}", status_code=303)


def retag_changes(before, after) -> list[str]:
    """What a re-tag changed, in words for the audit log and the page."""
    changes = []
    for label, old, new in (("audience", before.audience, after.audience),
                            ("competencies", before.competencies, after.competencies),
                            ("owner", [before.owner] if before.owner else [], [after.owner] if after.owner else [])):
        if list(old) != list(new):
            changes.append(f"{label} {', '.join(old) or '-'} -> {', '.join(new) or '-'}")
    return changes


def replacement_meta(source) -> SourceMeta:
    """A new version keeps the source's audience, tags, owner and link; its title comes from the new file."""
    return SourceMeta(audience=tuple(g for g in source.audience if g != EVERYONE),
                      competencies=tuple(source.competencies), owner=source.owner or None, link=source.link or None)


@router.post("/admin/content/sources/{source_id}/replace")
async def replace_file(request: Request, source_id: str, account: Account = ADMIN_ONLY):
    container = container_of(request)
    settings = container.settings
    source = (await run_in_threadpool(_found, request, source_id, limit=1)).source
    back = RedirectResponse(f"/admin/content/sources/{source_id}", status_code=303)
    if body_too_large(request):
        flash(request, f"The file is too large: each file may be up to {human_size(settings.max_upload_bytes)}.",
              "error")
        return back
    async with request.form(max_files=2, max_fields=20) as form:
        files = received(form.getlist("file"))
        if len(files) != 1:
            flash(request, "Choose the one file that replaces this source.", "error")
            return back
        [outcome] = (await ingest_audited(container, files, replacement_meta(source), actor=actor_of(request),
                                          address=client_address(request), key=source.key,
                                          replacing=source_id)).outcomes
    status = STATUS_WORDS.get(outcome.status, outcome.status)
    if status == "refused":
        flash(request, f"{outcome.path} was refused, so the current version stays: {outcome.reason}", "error")
    elif status == "unchanged":
        flash(request, f"{outcome.path} is the version already in the knowledge base: nothing changed.")
    else:
        flash(request, f"Replaced with {outcome.path}: {outcome.chunks} chunk{'s' * (outcome.chunks != 1)}.")
    return back


@router.get("/admin/content/sources/{source_id}/delete")
def delete_confirm(request: Request, source_id: str, account: Account = ADMIN_ONLY):
    return _render(request, "content_delete.html", {"source": _found(request, source_id, limit=1).source})


@router.post("/admin/content/sources/{source_id}/delete")
def delete(request: Request, source_id: str, account: Account = ADMIN_ONLY):
    container = container_of(request)
    removed = container.knowledge.remove([_found(request, source_id, limit=1).source.id])
    for source in removed:
        accounts.audit(container.engine, actor=actor_of(request), action="source-deleted",
                       target=f"{source.id} {source.title}", address=client_address(request),
                       detail=f"{source.key}; {source.chunk_count} chunks")
        flash(request, f"Deleted {source.title}: learners no longer get answers from it.")
    return RedirectResponse("/admin/content", status_code=303)


# --- try it ------------------------------------------------------------------------------------------------------


def _try_context(request: Request, **extra) -> dict:
    container = container_of(request)
    groups = [g for g in _facets(container)["audiences"] if g != EVERYONE]
    return {"known_groups": groups, "question": "", "chosen": [], "other": "", "trial": None, "blocks": [],
            "error": "", "max_question": MAX_QUESTION, **extra}


@router.get("/admin/content/try")
def try_form(request: Request, account: Account = ADMIN_ONLY):
    return _render(request, "content_try.html", _try_context(request))


@router.post("/admin/content/try")
def try_it(request: Request, question: str = Form("", max_length=MAX_QUESTION), groups: list[str] = Form([]),
           other: str = Form("", max_length=500), account: Account = ADMIN_ONLY):
    """Nothing is recorded: not the question (it may name someone), not a need, not a rate-limit count."""
    container, values = container_of(request), {"question": question, "chosen": groups, "other": other}
    try:
        audience = form_meta(container.coach.framework, audience=[*groups, other]).audience
    except FormProblem as exc:
        return _render(request, "content_try.html", _try_context(request, error=str(exc), **values), 422)
    if not question.strip():
        return _render(request, "content_try.html", _try_context(request, error="Type a question to try.", **values),
                       422)
    trial = try_question(container, question, audience)
    return _render(request, "content_try.html", _try_context(request, trial=trial, blocks=answer_blocks(trial.reply),
                                                             **values))
