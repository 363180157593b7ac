"""The Lessons area (ld-admin): every lesson by status, drafts first; the editor at /admin/lessons/{key} (a stable
address: the content-gaps page links drafts here); approve / reject; upload authored Markdown lessons; have the
language model draft one from a source. The rules are the core's (coach/lessons/editing.py, uploads.py): this module
only maps forms onto them, and audits every change."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from coach import accounts
from kernel.errors import CoachError, NotFound
from coach.lessons import catalog, editing, uploads
from coach.lessons.authoring import MAX_BODY, MAX_MINUTES, MAX_OPTIONS, MIN_OPTIONS
from coach.lessons.drafting import NO_MODEL
from coach.store.models import Account, Lesson
from kernel.store import as_utc
from connectors.admin.auth import PageRefused, actor_of, client_address, require
from connectors.admin.context import container_of, flash, flashed
from connectors.admin.shell import NavLink, page_router, render

router = page_router()
NAV = [NavLink("Lessons", "/admin/lessons", roles=(accounts.ADMIN,), order=20)]
ADMIN = Depends(require(accounts.ADMIN))
KEY = Path(max_length=120)
ORDER = {"draft": 0, "approved": 1, "rejected": 2}  # drafts first: they wait for someone


def competency_ids(container) -> set[str]:
    return {c.id for c in container.coach.framework.competencies}


def audit(request: Request, action: str, target: str, detail: str = "") -> None:
    accounts.audit(container_of(request).engine, actor=actor_of(request), action=action, target=target,
                   address=client_address(request), detail=detail)


def ordered(lessons: list[Lesson]) -> list[Lesson]:
    """Drafts first, then approved, then rejected; the most recently changed first within each."""
    by_time = sorted(lessons, key=lambda lesson: as_utc(lesson.updated_at), reverse=True)
    return sorted(by_time, key=lambda lesson: ORDER.get(lesson.status, 3))


def listing_page(request: Request, *, status: str = "", results: list | None = None, error: str = "",
                 status_code: int = 200):
    container = container_of(request)
    everything = catalog.listing(container.engine)
    shown = [lesson for lesson in everything if not status or lesson.status == status]
    drafting = container.drafter.model is not None
    return render(request, "lessons.html", {
        "lessons": ordered(shown), "status": status, "counts": Counter(lesson.status for lesson in everything),
        "total": len(everything), **flashed(request), "results": results, "error": error,
        "drafting": drafting, "no_model": NO_MODEL, "path": "/admin/lessons",
        "sources": container.knowledge.sources() if drafting else [],
        "max_files": uploads.MAX_FILES, "summary": _summary(results or [])}, status_code=status_code)


def _summary(results: list[uploads.FileResult]) -> str:
    counts = Counter(result.outcome for result in results)
    return ", ".join(f"{outcome} {counts[outcome]}" for outcome in ("added", "updated", "unchanged", "refused")
                     if counts[outcome])


@router.get("/admin/lessons")
def lessons(request: Request, status: str = Query("", pattern="^(|draft|approved|rejected)$"),
            account: Account = ADMIN):
    return listing_page(request, status=status)


@router.post("/admin/lessons/upload")
async def upload(request: Request, account: Account = ADMIN):
    """Authored lesson files (multipart field `files`, one or many), each with its result: added, updated,
    unchanged, or refused with what to fix. Read from the form itself: a file input left empty sends a part without
    a file, which is "nothing chosen" here rather than a validation error."""
    received = []
    for part in (await request.form()).getlist("files")[:uploads.MAX_FILES + 1]:
        if isinstance(part, StarletteUpload) and part.filename:
            received.append((part.filename, await part.read(uploads.MAX_FILE_BYTES + 1)))  # enough to tell: too big
    if not received:
        return listing_page(request, error="Choose one or more lesson files (.md) to upload.", status_code=400)
    results = await run_in_threadpool(_load_and_audit, request, received)
    return listing_page(request, results=results)


def _load_and_audit(request: Request, received: list[tuple[str, bytes]]) -> list[uploads.FileResult]:
    container = container_of(request)
    results = uploads.load_files(container.engine, received, competency_ids(container))
    for result in results:
        audit(request, "lesson-uploaded", result.key or result.name,
              f"{result.name}: {result.outcome}" + (f" ({result.reason})" if result.reason else ""))
    return results


@router.post("/admin/lessons/draft")
def draft(request: Request, source: str = Form("", max_length=1000), account: Account = ADMIN):
    """A draft from one source by the language model (tens of seconds; a sync route, so it waits in the thread
    pool); then on to its editor."""
    container = container_of(request)
    if container.drafter.model is None:
        return listing_page(request, error=NO_MODEL, status_code=503)
    if not source:
        return listing_page(request, error="Choose the source to draft a lesson from.", status_code=400)
    try:
        lesson = container.drafter.from_source(source)
    except CoachError as exc:
        audit(request, "lesson-draft-failed", source[:300], str(exc))
        return listing_page(request, error=str(exc), status_code=404 if isinstance(exc, NotFound) else 502)
    audit(request, "lesson-drafted", lesson.key, f"from source {source}")
    flash(request, f"Drafted “{lesson.title}”. Check it, then approve or reject it.")
    return RedirectResponse(f"/admin/lessons/{lesson.key}", status_code=303)


def _lesson(request: Request, key: str) -> Lesson:
    lesson = catalog.get(container_of(request).engine, key)
    if lesson is None:
        raise PageRefused(404, f"There is no lesson “{key}”: it may have been deleted. The lessons page lists them.")
    return lesson


def editor_page(request: Request, lesson: Lesson, edit: editing.LessonEdit, *, problems: dict | None = None,
                note: str = "", opened_at: str = "", status_code: int = 200):
    container = container_of(request)
    known = [(c.id, c.name) for c in container.coach.framework.competencies]
    known += [(c, f"{c} (not in the framework)") for c in edit.competencies if c not in dict(known)]
    rows = list(edit.options) + [("", "")] * max(0, MAX_OPTIONS - len(edit.options))
    return render(request, "lesson.html", {
        "lesson": lesson, "edit": edit, "rows": rows, "problems": problems or {}, "note": note,
        **flashed(request), "opened_at": opened_at or editing.stamp(lesson),
        "competency_choices": known, "limits": {"body": MAX_BODY, "minutes": MAX_MINUTES, "min": MIN_OPTIONS,
                                                "max": MAX_OPTIONS}}, status_code=status_code)


@router.get("/admin/lessons/{key}")
def editor(request: Request, key: str = KEY, account: Account = ADMIN):
    lesson = _lesson(request, key)
    return editor_page(request, lesson, editing.LessonEdit.of(lesson))


def _split(value: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in re.split(r"[,\n]", value) if part.strip()))


@dataclass(frozen=True)
class Posted:
    """The editor's form as posted: the edit, the version it was opened at, and which button was pressed."""

    edit: editing.LessonEdit
    opened_at: str
    do: str  # save | approve | remove (a row was dropped from the form: show it again, unsaved)


def posted(title: str = Form("", max_length=200), body: str = Form("", max_length=20_000),
           question: str = Form("", max_length=2_000), option_text: list[str] = Form([]),
           option_feedback: list[str] = Form([]), correct: str = Form("", max_length=3),
           explanation: str = Form("", max_length=4_000), competencies: list[str] = Form([]),
           audience: str = Form("", max_length=1_000), minutes: str = Form("", max_length=10),
           sources: str = Form("", max_length=4_000), opened_at: str = Form("", max_length=40),
           do: str = Form("save", max_length=20)) -> Posted:
    """Blank option rows are left out (and row N for do=remove-N); the right-answer mark follows its row."""
    removing = re.fullmatch(r"remove-(\d+)", do)
    texts, feedbacks = option_text[:MAX_OPTIONS * 2], option_feedback[:MAX_OPTIONS * 2]
    rows = list(zip(texts, feedbacks + [""] * (len(texts) - len(feedbacks))))
    marked = int(correct) if correct.isdigit() else None
    options, right = [], None
    for number, (text, feedback) in enumerate(rows):
        if (removing and number == int(removing.group(1))) or not (text.strip() or feedback.strip()):
            continue
        if number == marked:
            right = len(options)
        options.append((text, feedback))
    edit = editing.LessonEdit(title=title, body=body, question=question, options=options, correct=right,
                              explanation=explanation, competencies=list(dict.fromkeys(competencies)),
                              audience=[a.lower() for a in _split(audience)], minutes=minutes.strip(),
                              sources=_split(sources))
    return Posted(edit, opened_at, "remove" if removing else do)


@router.post("/admin/lessons/{key}/edit")
def save(request: Request, key: str = KEY, form: Posted = Depends(posted), account: Account = ADMIN):
    """Save (do=save), save and approve (do=approve), or drop option row N without saving (do=remove-N)."""
    lesson = _lesson(request, key)
    edit, opened_at, do = form.edit, form.opened_at, form.do
    if do == "remove":
        return editor_page(request, lesson, edit, opened_at=opened_at,
                           note="Option removed from the form. Save to keep the change.")
    if do not in ("save", "approve"):
        raise PageRefused(400, "Unknown action.")
    container = container_of(request)
    try:
        saved, problems = editing.save(container.engine, key=key, edit=edit, competencies=competency_ids(container),
                                       opened_at=opened_at, status="approved" if do == "approve" else None)
    except editing.EditConflict as exc:
        return editor_page(request, lesson, edit, problems={"form": [str(exc)]}, opened_at=opened_at,
                           status_code=409)
    if problems:
        return editor_page(request, lesson, edit, problems=problems, opened_at=opened_at, status_code=422)
    audit(request, "lesson-approved" if do == "approve" else "lesson-saved", key, saved.title)
    if do == "approve":
        flash(request, f"Approved “{saved.title}”: learners can get it now.")
        return RedirectResponse("/admin/lessons", status_code=303)
    flash(request, f"Saved “{saved.title}” ({saved.status}).")
    return RedirectResponse(f"/admin/lessons/{key}", status_code=303)


@router.post("/admin/lessons/{key}/approve")
def approve(request: Request, key: str = KEY, account: Account = ADMIN):
    """Approve as stored (after the same checks as an authored file): it reaches learners from now on."""
    return _set_status(request, key, "approved")


@router.post("/admin/lessons/{key}/reject")
def reject(request: Request, key: str = KEY, account: Account = ADMIN):
    """Reject: it never reaches learners (an approved one is withdrawn, its reviews stop)."""
    return _set_status(request, key, "rejected")


def _set_status(request: Request, key: str, status: str):
    container = container_of(request)
    lesson = _lesson(request, key)
    lesson, problems = editing.set_status(container.engine, key=key, status=status,
                                          competencies=competency_ids(container))
    if problems:
        return editor_page(request, lesson, editing.LessonEdit.of(lesson), problems=problems, status_code=422,
                           note="This lesson cannot be approved yet: fix what is marked, then save and approve.")
    audit(request, f"lesson-{status}", key, lesson.title)
    flash(request, f"{'Approved' if status == 'approved' else 'Rejected'} “{lesson.title}”"
                   + (": learners can get it now." if status == "approved" else ": it will not reach learners."))
    return RedirectResponse("/admin/lessons", status_code=303)


@router.get("/admin/lessons/{key}/markdown")
def markdown(request: Request, key: str = KEY, account: Account = ADMIN):
    """The lesson as an authored Markdown file, to keep in version control and load again with `coach lessons load`."""
    lesson = _lesson(request, key)
    return Response(editing.LessonEdit.of(lesson).markdown(key), media_type="text/markdown; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{key}.md"'})
