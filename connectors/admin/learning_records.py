"""Learning records (ld-admin): the xAPI outbox to the company's LRS (coach/xapi/): whether it is on, how many
statements wait, are in flight, were sent or failed, why (the LRS's own answer), and a button that queues the
failed ones again once the cause is fixed (audited). No statement's content is shown: it names learners'
activity, and the LRS is where L&D reads it."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from coach import accounts
from coach.xapi import outbox
from connectors.admin.auth import actor_of, require
from connectors.admin.context import container_of, flash, flashed
from connectors.admin.shell import NavLink, page_router, render

router = page_router()
NAV = [NavLink("Learning records", "/admin/learning-records", roles=(accounts.ADMIN,), order=60)]
ADMIN_ONLY = Depends(require(accounts.ADMIN))


@router.get("/admin/learning-records")
def learning_records(request: Request, account=ADMIN_ONLY):
    container = container_of(request)
    status = outbox.status(container.engine)
    failed = outbox.failed(container.engine, limit=20)
    return render(request, "learning_records.html", {
        "endpoint": container.settings.xapi_endpoint, "status": status, "failed": failed, **flashed(request)})


@router.post("/admin/learning-records/retry")
def retry(request: Request, account=ADMIN_ONLY):
    engine = container_of(request).engine
    count = outbox.retry(engine)
    accounts.audit(engine, actor=actor_of(request), action="xapi-retry", target="outbox", detail=f"{count} queued")
    flash(request, f"{count} failed statement{'s' if count != 1 else ''} queued again.")
    return RedirectResponse("/admin/learning-records", status_code=303)
