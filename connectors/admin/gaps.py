"""The Content gaps area (ld-admin only): the questions the coach could not answer, clustered by topic and sorted by
demand (coach/gaps), with a chart of them over time; from a cluster, draft a lesson with the language model or
upload the content it lacks. Closed clusters show the source whose content answered them, and when.

Only L&D sees this page: the questions are redacted, but they are still what learners asked, so managers and viewers
get a 403 (they see aggregates in Reports). Drafting is the one change made here, and it is audited.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse

from coach import accounts
from kernel.errors import CoachError, NotFound
from coach.gaps.report import Cluster
from coach.lessons.drafting import NO_MODEL
from coach.store.models import Account
from connectors.admin import gap_charts
from connectors.admin.auth import PageRefused, actor_of, client_address, require
from connectors.admin.charts import EMBED_OPTIONS
from connectors.admin.context import container_of, flash, flashed
from connectors.admin.reports import CHART_SCRIPTS
from connectors.admin.shell import NavLink, page_router, render
from knowledge.metadata import normalize_groups

router = page_router()
NAV = [NavLink("Content gaps", "/admin/gaps", roles=(accounts.ADMIN,), order=30)]
ADMIN_ONLY = Depends(require(accounts.ADMIN))
CLUSTER = Path(min_length=1, max_length=16, pattern="^[0-9a-f]+$")
STATUSES = ("open", "closed", "all")
TREND = {"new": ("new", "New: first asked in this period"),
         "rising": ("↑ rising", "More than the period before"),
         "falling": ("↓ falling", "Fewer than the period before"),
         "steady": ("→ steady", "As many as the period before")}


def upload_link(cluster: Cluster) -> str:
    """The Content area's upload form, told what the missing content is about (its competency, else its wording)."""
    return "/admin/content/upload?" + urlencode({"topic": cluster.topic or cluster.label})


def card(cluster: Cluster, names: dict[str, str]) -> dict:
    """What the page shows of one cluster (the Cluster itself plus what is worked out for display)."""
    word, meaning = TREND[cluster.trend]
    return {"cluster": cluster, "topic_name": names.get(cluster.topic, cluster.topic), "trend": word,
            "trend_meaning": meaning, "spark": gap_charts.sparkline(cluster.weekly), "upload": upload_link(cluster)}


def when(moment: datetime | None) -> dict | None:
    """A time for a <time> element: its ISO value and a short UTC text."""
    if moment is None:
        return None
    return {"iso": moment.isoformat(), "text": f"{moment.day} {moment:%b %Y}, {moment:%H:%M} UTC"}


def gaps_page(request: Request, *, status: str = "open", days: int = 14, error: str = "", status_code: int = 200):
    container = container_of(request)
    everything = container.gaps.clusters(status="all", period_days=days)  # one query; the tab filters below
    shown = [c for c in everything if status == "all" or c.status == status]
    names = {c.id: c.name for c in container.coach.framework.competencies}
    counts = {s: sum(1 for c in everything if s == "all" or c.status == s) for s in STATUSES}
    spec = gap_charts.over_time(everything)
    return render(request, "gaps.html", {
        "status": status, "days": days, "counts": counts, "cards": [card(c, names) for c in shown],
        "weeks": gap_charts.weekly_totals(everything), "spec": spec, "scripts": CHART_SCRIPTS,
        "charts": {"options": EMBED_OPTIONS, "specs": {"gaps_over_time": spec}}, "when": when,
        "drafting": container.drafter.model is not None, "no_model": NO_MODEL, "error": error,
        **flashed(request)}, status_code=status_code)


@router.get("/admin/gaps")
def gaps(request: Request, status: str = Query("open", pattern="^(open|closed|all)$"),
         days: int = Query(14, ge=1, le=365), account: Account = ADMIN_ONLY):
    return gaps_page(request, status=status, days=days)


@router.post("/admin/gaps/{cluster_id}/draft")
def draft(request: Request, cluster_id: str = CLUSTER, audience: str = Form("", max_length=500),
          account: Account = ADMIN_ONLY):
    """A lesson drafted by the language model from the cluster's questions (tens of seconds: a sync route, so it
    waits in the thread pool), then on to the lesson editor to check it and approve or reject it."""
    container = container_of(request)
    engine, address = container.engine, client_address(request)
    if container.gaps.cluster(cluster_id) is None:
        raise PageRefused(404, "There is no such content-gap cluster. The Content gaps page lists them.")
    try:
        groups = normalize_groups(audience) or ("everyone",)
    except CoachError as exc:
        return gaps_page(request, error=f"Audience: {exc}", status_code=422)
    if container.drafter.model is None:
        return gaps_page(request, error=NO_MODEL, status_code=503)
    try:
        lesson = container.drafter.draft_from_gap(cluster_id, groups)
    except NotFound as exc:  # the cluster's questions were forgotten meanwhile
        raise PageRefused(404, str(exc)) from exc
    except CoachError as exc:
        accounts.audit(engine, actor=actor_of(request), action="gap-lesson-draft-failed", target=cluster_id,
                       address=address, detail=str(exc))
        return gaps_page(request, error=str(exc), status_code=502)
    accounts.audit(engine, actor=actor_of(request), action="gap-lesson-drafted", target=lesson.key, address=address,
                   detail=f"from content gap {cluster_id}, for {', '.join(groups)}")
    flash(request, f"Drafted “{lesson.title}” from a content gap. Check it, then approve or reject it.")
    return RedirectResponse(f"/admin/lessons/{lesson.key}", status_code=303)
