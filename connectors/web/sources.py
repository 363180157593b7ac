"""A source as a learner may read it, opened from a reply's source list at the cited passage: most sources have no
web address of their own (a PDF or slide deck L&D uploaded), so the coach shows the text it answered from. Only the
passages the learner's audience may see are shown (a web visitor: `everyone` content); none: not found."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from coach.i18n import _, short_date, speaking
from connectors.web.render import markdown_html
from coach.messages import Citation
from coach.xapi import capture
from connectors.web.render import source_href
from connectors.web.shell import document, learner_of, page_language, with_cookie
from kernel.ports import EVERYONE

router = APIRouter()


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str = Path(pattern=r"^[0-9a-f]{1,32}$")) -> Response:
    learner = learner_of(request)
    return with_cookie(_page(request, source_id, learner, page_language(request, learner)), learner)


@router.get("/read/{token}", response_class=HTMLResponse)
def read_source(request: Request, token: str = Path(max_length=4000)) -> Response:
    """A source link of an answer (coach/source_links.py): the audience of the learner it was made for is checked,
    the reading recorded, then the original opens at its page, or the coach's page of the passage."""
    container = request.app.state.container
    links = container.coach.source_links
    opened = links.opened(token) if links else None
    detail = container.knowledge.source_detail(opened.source_id) if opened else None
    audience = {EVERYONE, *container.answerer.groups_of(opened.learner_id)} if opened else set()
    if detail is None or not any(audience & set(c.audience) for c in detail.chunks):
        return _page(request, "", "", page_language(request, learner_of(request)))  # the same 404 either way
    capture.read_source(container.engine, learner_id=opened.learner_id, source_id=opened.source_id,
                        title=detail.source.title, need_id=opened.need_id)
    citation = Citation(n=0, source_id=opened.source_id, chunk_id=opened.chunk_id, title=detail.source.title,
                        where=opened.where, link=detail.source.link, updated_at=detail.source.updated_at)
    target = source_href(citation)
    if not target.startswith(("https://", "http://")):  # no web address of its own: the coach's page of it
        target = f"/read/{token}/passage#chunk-{opened.chunk_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/read/{token}/passage", response_class=HTMLResponse)
def read_passage(request: Request, token: str = Path(max_length=4000)) -> Response:
    """The source as the learner the link was made for may read it (they may have no web chat cookie at all)."""
    container = request.app.state.container
    opened = container.coach.source_links.opened(token) if container.coach.source_links else None
    if opened is None:
        return _page(request, "", "", page_language(request, learner_of(request)))
    return _page(request, opened.source_id, opened.learner_id, container.coach.language_of(opened.learner_id))


def _page(request: Request, source_id: str, learner: str, language: str) -> Response:
    container = request.app.state.container
    detail = container.knowledge.source_detail(source_id) if source_id else None
    audience = {EVERYONE, *container.answerer.groups_of(learner)}
    passages = [c for c in detail.chunks if audience & set(c.audience)] if detail else []
    with speaking(language) as lang:
        back_to_chat, missing = _("Back to the chat"), _("There is no such source, or it is not open to you.")
        back = f'<p><a href="/">{escape(back_to_chat)}</a></p>'
        if not passages:
            main = f'<p role="alert">{escape(missing)}</p>{back}'
            return HTMLResponse(document(lang, _("Learning coach"), main), status_code=404)
        source, parts, heading = detail.source, [], None
        for chunk in passages:
            shown = chunk.where if chunk.where != heading else ""
            heading = chunk.where
            title = f"<h2>{escape(shown)}</h2>" if shown else ""
            parts.append(f'<section class="passage" id="chunk-{escape(chunk.id)}">{title}'
                         f'{markdown_html(chunk.text)}</section>')
        open_original, updated = _("Open the original"), _("updated {date}").format(date=short_date(source.updated_at))
        original = (f' · <a href="{escape(source.link)}">{escape(open_original)}</a>'
                    if source.link.startswith(("https://", "http://")) else "")
        main = (f'{back}<p class="where">{escape(updated)}{original}</p>'
                f'{"".join(parts)}')
        return HTMLResponse(document(lang, source.title, main))
