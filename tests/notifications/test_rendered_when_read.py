"""A notification is rendered when it is read, in the reader's language and time zone of that moment."""
from __future__ import annotations

import datetime as dt

from workdesk.auth import issue_token
from workdesk.notifications import Notification, notify
from workdesk.notifications.digest import send_digests
from workdesk.notifications.messages import freeze, thaw
from workdesk.models import User
from workdesk.services import tasks


def switch_language(user: User, locale: str, timezone: str | None = None) -> User:
    User.update(locale=locale, timezone=timezone or user.timezone).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def test_a_note_written_in_german_reads_in_chinese_after_the_reader_switches(
        client, login, make_user, make_department, make_task, drain_events):
    dept = make_department()
    boss = make_user("manager", [dept])
    agent = make_user("agent", [dept], locale="de")
    task = make_task(boss, dept, title="Drucker", assignee_id=agent.id)
    drain_events()
    tasks.transition(boss, task.id, "open")
    drain_events()
    note = Notification.get((Notification.recipient == agent) & (Notification.kind == "task.status_changed"))
    assert note.stored_subject == f"#{task.number} Drucker ist jetzt Offen"  # as written, in German
    assert note.subject == note.stored_subject

    agent = switch_language(agent, "zh_Hans")
    note = Notification.get_by_id(note.id)
    assert note.subject == f"#{task.number} Drucker 现为“待处理”"  # outside a request: the reader's language
    assert "Offen" not in note.body and "待处理" in note.body

    login(client, agent)
    html = client.get("/notifications").get_data(as_text=True)
    assert f"#{task.number} Drucker 现为“待处理”" in html and "ist jetzt Offen" not in html
    token = issue_token(agent, "test")
    listed = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"}).get_json()
    subjects = [item["subject"] for item in listed["items"]]
    assert f"#{task.number} Drucker 现为“待处理”" in subjects
    # A query still filters the stored text: old rows and new rows alike.
    assert Notification.select().where(Notification.subject.contains("ist jetzt Offen")).count() >= 1


def test_rows_written_before_keep_their_stored_text(make_user):
    user = make_user(locale="de")
    note = notify(user, "x.test", "Alter Text", "Körper")
    assert note.message is None  # plain strings: nothing would read differently later
    Notification.update(message=None).where(Notification.id == note.id).execute()
    switch_language(user, "fr")
    note = Notification.get_by_id(note.id)
    assert (note.subject, note.body) == ("Alter Text", "Körper")


def test_an_unreadable_frozen_message_falls_back_to_the_stored_text(make_user):
    from flask_babel import lazy_gettext
    user = make_user(locale="de")
    note = notify(user, "x.test", lazy_gettext("Assigned to you: %(task)s", task="#1 Drucker"))
    assert note.message is not None and "Assigned to you" in note.message
    Notification.update(message='{"subject": {"$call": "gettext", "args": ["%(gone)s"], "kwargs": {"other": 1}}}').where(
        Notification.id == note.id).execute()
    assert Notification.get_by_id(note.id).subject == note.stored_subject
    Notification.update(message="not json").where(Notification.id == note.id).execute()
    assert Notification.get_by_id(note.id).subject == note.stored_subject


def test_the_digest_says_its_time_in_the_readers_current_zone_and_language(make_user):
    from flask_babel import lazy_gettext
    from workdesk.notifications import set_preferences
    user = make_user(locale="en", timezone="Europe/Sofia")
    set_preferences(user, digest="hourly")
    at = dt.datetime(2026, 3, 2, 8, 25, tzinfo=dt.timezone.utc)
    for n in range(2):
        note = notify(user, "x.test", lazy_gettext("Assigned to you: %(task)s", task=f"#{n} Drucker"))
        Notification.update(created_at=at).where(Notification.id == note.id).execute()
    assert send_digests(at + dt.timedelta(hours=1)) == 1
    digest = Notification.get((Notification.recipient == user) & (Notification.kind == "notifications.digest"))
    assert digest.subject == "2 notifications since 3/2/2026, 10:25\u202fAM"
    assert digest.body == "- Assigned to you: #0 Drucker\n- Assigned to you: #1 Drucker"
    switch_language(user, "de", "Asia/Tokyo")
    digest = Notification.get_by_id(digest.id)
    assert digest.subject == "2 Benachrichtigungen seit 02.03.2026, 17:25"
    assert digest.body.startswith("- Ihnen zugewiesen: #0 Drucker")


def test_freezing_keeps_nested_messages_and_refuses_foreign_callables():
    from flask_babel.speaklater import LazyString
    from flask_babel import lazy_gettext
    frozen = freeze(lazy_gettext("For %(name)s, who is away: %(subject)s", name="Ana",
                                 subject=lazy_gettext("Assigned to you: %(task)s", task="#1")))
    assert thaw(frozen, None) == "For Ana, who is away: Assigned to you: #1"
    try:
        freeze(LazyString(lambda: "x"))
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "Unfreezable"
    else:
        raise AssertionError("a lambda was frozen")


def test_a_body_of_several_lines_reads_each_line_in_the_readers_current_language_and_zone(make_user):
    # escalation's notices list several tasks, one message per line (workdesk.MessageLines)
    from flask_babel import force_locale, lazy_gettext
    from workdesk import LocalInstant, MessageLines
    user = make_user(locale="de", timezone="Europe/Berlin")
    at = dt.datetime(2026, 3, 2, 8, 25, tzinfo=dt.timezone.utc)
    line = lazy_gettext("Assigned to you: %(task)s", task="#1 Drucker")
    note = notify(user, "x.test", "Betreff", MessageLines([line, LocalInstant(at), "plain text"]))
    with force_locale("de"):
        german = str(line)
    assert note.body.splitlines() == [german, "02.03.2026, 09:25", "plain text"]
    switch_language(user, "zh_Hans", "Asia/Shanghai")
    with force_locale("zh_Hans"):
        chinese = str(line)
    assert chinese != german
    assert Notification.get_by_id(note.id).body.splitlines() == [chinese, "2026/3/2 16:25", "plain text"]
