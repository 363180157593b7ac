"""The privacy notice and terms of use the Teams app links to unless COACH_PRIVACY_URL / COACH_TERMS_URL name the
company's own. Teams requires both links; written here from the running settings, they say what this deployment
keeps, where a question may go, and how a learner sees and deletes what is kept, so they stay true as it changes."""

from __future__ import annotations

from html import escape

from coach.contacts import Contacts
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

PRIVACY_PATH, TERMS_PATH = "/privacy", "/terms"
router = APIRouter()

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
</style></head><body><h1>{title}</h1>{body}</body></html>"""


@router.get(PRIVACY_PATH, response_class=HTMLResponse, include_in_schema=False)
def privacy(request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title="Learning coach: privacy", body=privacy_body(_settings(request))))


@router.get(TERMS_PATH, response_class=HTMLResponse, include_in_schema=False)
def terms(request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title="Learning coach: terms of use", body=terms_body(_settings(request))))


def _settings(request: Request):
    return request.app.state.container.settings


def privacy_body(settings) -> str:
    company, contact = escape(settings.company_name), escape(Contacts.parse(settings.human_contact).default or "the L&D team")
    services = [name for name, url in (("a language model", settings.llm_base_url),
                                       ("an embeddings service", settings.embeddings_base_url)) if url]
    sent = (f"{company} connected {' and '.join(services)}: a question reaches it only with personal details removed, "
            "together with the passages of learning content that answer it." if services else
            "Questions stay in the coach's own database: no language model or other outside service sees them.")
    return f"""<p>The learning coach answers work questions from the learning content {company} published. This is
what it keeps about you, who sees it, and how you see and delete it.</p>
<h2>What it keeps</h2><ul>
<li>Your profile: your name as the chat shows it, time zone, language, the audience groups and role or team an admin
gave you, your lesson preferences, and whether nudges are paused.</li>
<li>Every question you ask, with personal details removed before it is stored (e-mail addresses, phone numbers, bank
and card numbers, employee ids, names it recognises), its topics, whether the content answered it, and your rating
and comment on the answer.</li>
<li>Your micro-lesson progress: lessons offered and done, quiz answers, when each review is due.</li>
<li>Where it can message you (the address of your chat with it in Slack or Teams, and which of its messages answered
which question), for nudges, lessons and answers that come later.</li></ul>
<p>{sent}</p>
<h2>Who sees it</h2>
<p>L&amp;D sees the questions the content could not answer, with personal details removed and without who asked, to
fill those gaps. Managers see only totals for groups of at least {settings.privacy_min_group} people, never a question
or a name.</p>
<h2>See it, delete it</h2><ul>
<li>Say <em>what do you know about me</em> in any chat with the coach to see what it keeps about you.</li>
<li>Say <em>forget me</em> and confirm: your profile, questions, lesson progress and chat addresses are deleted for
good.</li>
<li>Say <em>pause</em> to stop nudges and lessons, <em>resume</em> to start them again.</li></ul>
<p>It keeps what is listed until you delete it. Questions about this notice: {contact}.</p>"""


def terms_body(settings) -> str:
    company, contact = escape(settings.company_name), escape(Contacts.parse(settings.human_contact).default or "the L&D team")
    return f"""<p>The learning coach is for people at {company}, for questions about their work.</p><ul>
<li>Its answers come from the learning content {company} published and name their sources. An answer can still be
incomplete or wrong, especially one marked as written by AI: check the source before you act on anything
important.</li>
<li>When the content does not cover a question, the coach says so; the question then reaches L&amp;D as a gap.</li>
<li>Do not share other people's personal details or anything you would not put in a work chat.</li>
<li>{company}'s own policies for work tools apply.</li></ul>
<p>What it keeps about you: see <a href="{PRIVACY_PATH}">privacy</a>. Questions: {contact}.</p>"""
