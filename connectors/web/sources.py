"""A source as a learner may read it, opened from a reply's source list at the cited passage: most sources have no
web address of their own (a PDF or slide deck L&D uploaded), so the coach shows the text it answered from. Only the
passages the learner's audience may see are shown (a web visitor: `everyone` content); none: not found."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from coach.i18n import _, short_date, speaking
from connectors.web.render import markdown_html
from connectors.web.shell import document, learner_of, page_language, with_cookie
from kernel.ports import EVERYONE

router = APIRouter()


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str = Path(pattern=r"^[0-9a-f]{1,32}$")) -> Response:
    container, learner = request.app.state.container, learner_of(request)
    language = page_language(request, learner)
    detail = container.knowledge.source_detail(source_id)
    audience = {EVERYONE, *container.answerer.groups_of(learner)}
    passages = [c for c in detail.chunks if audience & set(c.audience)] if detail else []
    with speaking(language) as lang:
        back_to_chat, missing = _("Back to the chat"), _("There is no such source, or it is not open to you.")
        back = f'<p><a href="/">{escape(back_to_chat)}</a></p>'
        if not passages:
            main = f'<p role="alert">{escape(missing)}</p>{back}'
            return with_cookie(HTMLResponse(document(lang, _("Learning coach"), main), status_code=404), learner)
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
        return with_cookie(HTMLResponse(document(lang, source.title, main)), learner)
