"""The web admin's Nudges area over HTTP, through the real app on SQLite and PostgreSQL: a manager schedules, edits,
pauses, resumes and deletes their own nudges with the chat's nudge form (errors by field), never sees or touches
another manager's; an ld-admin sees every schedule and may pause or delete; a viewer is refused; the API likewise."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from coach import accounts
from coach.bootstrap import bootstrap
from coach.learners import update_profile
from coach.lessons import catalog
from coach.nudges import schedules
from connectors.server import create_app
from tests.conftest import make_settings
from tests.integration.lesson_files import load_test_lessons
from tests.integration.admin_helpers import PASSWORD, browser, csrf, signed_in

MAX, ZOE = "slack:T1:UMAX", "slack:T1:UZOE"  # two managers' chat profiles


@pytest.fixture
def container(tmp_path, embedder, database_url):
    """Max manages Support (Ann, Bob), Zoe manages Design (Dan); accounts for both, an L&D admin, a viewer, and a
    manager account (Ned) linked to no chat profile yet."""
    built = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url), embedder=embedder)
    load_test_lessons(built, tmp_path)
    catalog.set_status(built.engine, "customer-complaints", "draft")
    update_profile(built.engine, MAX, role="manager", team="Support", timezone="Europe/Amsterdam",
                   display_name="Max")
    update_profile(built.engine, ZOE, role="manager", team="Design", timezone="Asia/Tokyo", display_name="Zoe")
    for learner, name, team in (("slack:T1:UANN", "Ann", "Support"), ("slack:T1:UBOB", "Bob", "Support"),
                                ("slack:T1:UDAN", "Dan", "Design")):
        update_profile(built.engine, learner, team=team, display_name=name)
    for email, role, learner in (("lea@example.com", "ld-admin", ""), ("max@example.com", "manager", MAX),
                                 ("zoe@example.com", "manager", ZOE), ("vic@example.com", "viewer", ""),
                                 ("ned@example.com", "manager", "")):
        accounts.add_account(built.engine, email=email, role=role, password=PASSWORD, learner_id=learner,
                             actor="test")
    return built




def audited(container, action: str) -> list[tuple[str, str]]:
    return [(e.actor, e.target) for e in accounts.latest_audit(container.engine, action=action)]


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">(.*?)</p>', html))


def nudge(client: TestClient, path: str = "/admin/nudges/new", **fields):
    form = {"csrf_token": csrf(client), "message": "Ten minutes on phishing this week?", "lesson_key": "",
            "target": "team", "repeat": "weekdays", "time": "09:00", **fields}
    return client.post(path, data=form)


def test_a_manager_schedules_a_nudge_for_their_team_with_the_chat_form(container):
    client = signed_in(container, "max@example.com")
    home = client.get("/admin")
    assert 'href="/admin/nudges"' in home.text
    form = client.get("/admin/nudges/new")
    assert form.status_code == 200 and "Schedule a nudge for Support" in form.text
    people = re.findall(r'name="people" value="([^"]+)"', form.text)
    assert people == ["slack:T1:UANN", "slack:T1:UBOB"]  # their own team only, not themselves, not Dan
    assert 'value="report-phishing"' in form.text and 'value="customer-complaints"' not in form.text  # approved only
    assert "your time zone, Europe/Amsterdam" in form.text

    forged = client.post("/admin/nudges/new", data={"message": "No token", "target": "team", "repeat": "daily",
                                                    "time": "09:00"})
    assert forged.status_code == 403 and schedules.of_owner(container.engine) == []
    made = nudge(client, lesson_key="report-phishing", target="people", people=["slack:T1:UANN"], repeat="weekly",
                 days=["mon", "thu"], time="08:30")
    assert made.status_code == 303 and made.headers["location"] == "/admin/nudges"
    [schedule] = schedules.of_owner(container.engine, MAX)
    assert schedule.learners == ["slack:T1:UANN"] and schedule.team == "" and schedule.lesson_key == "report-phishing"
    assert schedule.recurrence == {"kind": "weekly", "days": ["mon", "thu"], "time": "08:30"}
    assert schedule.timezone == "Europe/Amsterdam" and schedule.zone_mode == "schedule"
    listing = client.get("/admin/nudges").text
    assert "Scheduled: Ten minutes on phishing this week? - Mon, Thu at 08:30 (Europe/Amsterdam) to 1 person" in listing
    assert f'data-schedule="{schedule.id}"' in listing and f'href="/admin/nudges/{schedule.id}"' in listing
    assert audited(container, "nudge-created") == [("max@example.com", schedule.id)]
    detail = accounts.latest_audit(container.engine, action="nudge-created")[0].detail
    assert detail == "weekly to 1 people, lesson report-phishing" and "phishing this week" not in detail

    each_zone = nudge(client, target="team", repeat="once", date=(datetime.now() + timedelta(days=30)).date()
                      .isoformat(), time="10:00", each_learners_zone="true")
    assert each_zone.status_code == 303
    made_once = [s for s in schedules.of_owner(container.engine, MAX) if s.recurrence["kind"] == "once"][0]
    assert made_once.team == "Support" and made_once.zone_mode == "learner"


def test_each_problem_is_shown_next_to_its_field_and_nothing_is_saved(container):
    client = signed_in(container, "max@example.com")
    cases = [
        (dict(message="", lesson_key=""), {"message": "Write a message, pick a lesson, or both."}),
        (dict(target="people", people=["slack:T1:UDAN"]), {"people": "1 of them not in Support"}),
        (dict(target="people"), {"people": "Choose at least one person."}),
        (dict(target="channel"), {"channel": "Choose the channel."}),
        (dict(target="channel", channel="#general"), {"channel": "slack:TEAM_ID:CHANNEL_ID"}),
        (dict(repeat="weekly"), {"days": "Choose at least one day."}),
        (dict(repeat="once", date="2020-01-06"), {"date": "That moment has passed."}),
        (dict(repeat="once"), {"date": "Choose the day."}),
        (dict(repeat="cron", cron="9 * *"), {"cron": "Five fields"}),
        (dict(time="25:99"), {"time": "A time as HH:MM."}),
        (dict(lesson_key="customer-complaints"), {"lesson_key": "not approved"}),
        (dict(lesson_key="no-such-lesson"), {"lesson_key": "not approved"}),
        (dict(target="everyone"), {"target": "Choose who gets it."}),
    ]
    for fields, expected in cases:
        refused = nudge(client, **fields)
        assert refused.status_code == 422, fields
        errors = field_errors(refused.text)
        assert set(errors) == set(expected), (fields, errors)
        for name, words in expected.items():
            assert words in errors[name], (fields, errors)
            assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', refused.text), name  # marked for readers
    kept = nudge(client, message="Kept as typed", repeat="weekly", days=["tue"])
    assert kept.status_code == 303
    assert [s.message for s in schedules.of_owner(container.engine)] == ["Kept as typed"]
    again = nudge(client, message="x", target="people", people=["slack:T1:UANN", "slack:T1:UDAN"])
    assert re.search(r'value="slack:T1:UANN" checked', again.text)  # what was chosen stays chosen


def test_a_manager_edits_pauses_resumes_and_deletes_only_their_own(container):
    mine = schedules.create(container.engine, owner=MAX, team="Support", message="Stand-up tip",
                            recurrence={"kind": "daily", "time": "09:00"}, timezone="Europe/Amsterdam")
    by_email = schedules.create(container.engine, owner="max@example.com", team="Support", message="From the CLI",
                                recurrence={"kind": "weekdays", "time": "10:00"}, timezone="Europe/Amsterdam")
    zoes = schedules.create(container.engine, owner=ZOE, team="Design", message="Design crit",
                            recurrence={"kind": "weekdays", "time": "11:00"}, timezone="Asia/Tokyo")
    client = signed_in(container, "max@example.com")
    listing = client.get("/admin/nudges").text
    assert "Stand-up tip" in listing and "From the CLI" in listing and "Design crit" not in listing

    editor = client.get(f"/admin/nudges/{mine.id}")
    assert editor.status_code == 200 and "Stand-up tip</textarea>" in editor.text
    assert re.search(r'<option value="daily" selected>', editor.text)
    changed = nudge(client, f"/admin/nudges/{mine.id}", message="Stand-up tip, now weekly", repeat="weekly",
                    days=["fri"], time="16:00")
    assert changed.status_code == 303
    after = schedules.get(container.engine, mine.id)
    assert after.message == "Stand-up tip, now weekly" and after.recurrence["days"] == ["fri"] and after.owner == MAX
    assert nudge(client, f"/admin/nudges/{by_email.id}", message="Edited from the web").status_code == 303
    assert schedules.get(container.engine, by_email.id).owner == "max@example.com"
    assert nudge(client, f"/admin/nudges/{mine.id}", repeat="weekly").status_code == 422

    token = csrf(client)
    assert client.post(f"/admin/nudges/{mine.id}/pause", data={"csrf_token": token}).status_code == 303
    assert schedules.get(container.engine, mine.id).paused
    assert "Resume" in client.get("/admin/nudges").text
    assert client.post(f"/admin/nudges/{mine.id}/resume", data={"csrf_token": token}).status_code == 303
    assert not schedules.get(container.engine, mine.id).paused
    confirm = client.get(f"/admin/nudges/{mine.id}/delete")
    assert confirm.status_code == 200 and "Delete this nudge?" in confirm.text
    assert "Stand-up tip, now weekly" in confirm.text
    assert schedules.get(container.engine, mine.id)  # asking is not deleting
    assert client.post(f"/admin/nudges/{mine.id}/delete", data={"csrf_token": token}).status_code == 303
    assert [s.id for s in schedules.of_owner(container.engine, MAX)] == []

    for method, path, data in (("get", f"/admin/nudges/{zoes.id}", None),
                               ("get", f"/admin/nudges/{zoes.id}/delete", None),
                               ("post", f"/admin/nudges/{zoes.id}", {"csrf_token": token, "message": "Mine now",
                                                                     "target": "team", "repeat": "daily",
                                                                     "time": "09:00"}),
                               ("post", f"/admin/nudges/{zoes.id}/pause", {"csrf_token": token}),
                               ("post", f"/admin/nudges/{zoes.id}/delete", {"csrf_token": token})):
        answer = getattr(client, method)(path, **({"data": data} if data else {}))
        assert answer.status_code == 404 and "no such nudge schedule" in answer.text, path
    untouched = schedules.get(container.engine, zoes.id)
    assert untouched.message == "Design crit" and not untouched.paused and untouched.owner == ZOE
    assert len(audited(container, "access-denied")) == 5
    assert {action for action in ("nudge-changed", "nudge-paused", "nudge-resumed", "nudge-deleted")
            if audited(container, action)} == {"nudge-changed", "nudge-paused", "nudge-resumed", "nudge-deleted"}
    assert client.post(f"/admin/nudges/{by_email.id}/pause").status_code == 403  # no CSRF token
    assert not schedules.get(container.engine, by_email.id).paused


def test_ld_admin_sees_every_schedule_and_may_pause_or_delete_but_not_edit(container):
    maxs = schedules.create(container.engine, owner=MAX, team="Support", message="Stand-up tip",
                            recurrence={"kind": "daily", "time": "09:00"}, timezone="Europe/Amsterdam")
    zoes = schedules.create(container.engine, owner=ZOE, team="Design", message="Design crit",
                            recurrence={"kind": "weekdays", "time": "11:00"}, timezone="Asia/Tokyo")
    admin = signed_in(container, "lea@example.com")
    listing = admin.get("/admin/nudges").text
    assert "Stand-up tip" in listing and "Design crit" in listing and f"<td>{ZOE}</td>" in listing
    assert "Schedule a nudge" not in listing and f'href="/admin/nudges/{maxs.id}"' not in listing
    assert admin.get("/admin/nudges/new").status_code == 403
    assert admin.get(f"/admin/nudges/{maxs.id}").status_code == 403
    assert nudge(admin, f"/admin/nudges/{maxs.id}", message="Overwritten").status_code == 403
    token = csrf(admin)
    assert admin.post(f"/admin/nudges/{zoes.id}/pause", data={"csrf_token": token}).status_code == 303
    assert schedules.get(container.engine, zoes.id).paused
    assert admin.post(f"/admin/nudges/{maxs.id}/delete", data={"csrf_token": token}).status_code == 303
    assert [s.id for s in schedules.of_owner(container.engine)] == [zoes.id]
    assert audited(container, "nudge-deleted") == [("lea@example.com", maxs.id)]

    viewer = signed_in(container, "vic@example.com")
    assert 'href="/admin/nudges"' not in viewer.get("/admin").text
    assert viewer.get("/admin/nudges").status_code == 403
    assert viewer.post(f"/admin/nudges/{zoes.id}/resume", data={"csrf_token": csrf(viewer)}).status_code == 403
    assert schedules.get(container.engine, zoes.id).paused
    assert browser(container).get("/admin/nudges").headers["location"] == "/admin/login?next=/admin/nudges"


def test_a_manager_account_without_a_managers_chat_profile_is_told_how_an_admin_links_it(container):
    ned = signed_in(container, "ned@example.com")
    page = ned.get("/admin/nudges")
    assert page.status_code == 200 and "Schedule a nudge" not in page.text
    assert "coach users set-role ned@example.com manager --learner LEARNER_ID" in page.text
    refused = ned.get("/admin/nudges/new")
    assert refused.status_code == 403 and "--learner LEARNER_ID" in refused.text
    assert nudge(ned).status_code == 403 and schedules.of_owner(container.engine) == []

    accounts.update_account(container.engine, email="ned@example.com", learner_id="slack:T1:UANN", actor="test")
    linked = ned.get("/admin/nudges").text
    assert "coach learners set slack:T1:UANN --role manager --team TEAM" in linked


def test_the_nudges_api_shows_a_manager_their_own_and_an_admin_all(container):
    maxs = schedules.create(container.engine, owner=MAX, team="Support", message="Stand-up tip",
                            recurrence={"kind": "daily", "time": "09:00"}, timezone="Europe/Amsterdam")
    zoes = schedules.create(container.engine, owner=ZOE, team="Design", message="Design crit",
                            recurrence={"kind": "weekdays", "time": "11:00"}, timezone="Asia/Tokyo")
    api = TestClient(create_app(container))
    _, admin = accounts.create_token(container.engine, role="ld-admin", name="checks", actor="test")
    _, viewer = accounts.create_token(container.engine, role="viewer", name="dash", actor="test")
    _, max_token = accounts.create_token(container.engine, role="manager", account_email="max@example.com",
                                         actor="test")
    assert api.get("/api/admin/nudges").status_code == 401
    assert api.get("/api/admin/nudges", headers={"Authorization": "Bearer coach_wrong"}).status_code == 401
    assert api.get("/api/admin/nudges", headers={"Authorization": f"Bearer {viewer}"}).status_code == 403

    own = api.get("/api/admin/nudges", headers={"Authorization": f"Bearer {max_token}"}).json()
    assert [s["id"] for s in own] == [maxs.id]
    assert own[0]["owner"] == MAX and own[0]["recurrence"] == {"kind": "daily", "time": "09:00"}
    assert own[0]["next"] and own[0]["paused"] is False and "every day at 09:00" in own[0]["description"]
    everything = api.get("/api/admin/nudges", headers={"Authorization": f"Bearer {admin}"}).json()
    assert {s["id"] for s in everything} == {maxs.id, zoes.id}
