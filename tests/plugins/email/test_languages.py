"""Every message is written for its reader: the recipient's language decides the inbox entry, the
e-mail's subject and body and the digest, whoever caused them (a German manager, a Chinese agent)."""
from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_datetime
from flask_babel import force_locale, gettext, ngettext

from workdesk.dates import instant_pattern
from workdesk.extensions import LANGUAGES
from workdesk.notifications import DIGEST_KIND, Notification, notify, set_preferences
from workdesk.notifications.digest import send_digests
from workdesk.services import tasks


def test_a_german_managers_change_reaches_a_chinese_agent_in_chinese(smtp_server, enable_plugin, make_user,
                                                                      make_department, make_task, drain_events,
                                                                      client):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    dept = make_department()
    boss = make_user("manager", [dept], name="Dieter Chef", locale="de")
    agent = make_user("agent", [dept], name="王芳", locale="zh_Hans")
    task = make_task(agent, dept, title="打印机卡纸")
    with force_locale("de"):  # the actor's request is in German
        tasks.assign(boss, task.id, agent.id)
        tasks.transition(boss, task.id, "open")
    drain_events()

    subjects = [n.subject for n in Notification.select().where(Notification.recipient == agent).order_by(Notification.id)]
    assert subjects == [f"分配给您：#{task.number} 打印机卡纸", f"#{task.number} 打印机卡纸 现为“待处理”"]
    status_note = Notification.select().where(Notification.recipient == agent).order_by(Notification.id.desc()).get()
    assert status_note.body == f"Dieter Chef 将 #{task.number} 打印机卡纸 从“新建”改为“待处理”。"
    assert "open" not in status_note.body and "Offen" not in status_note.body
    _to, message = server.messages[0]
    assert message["Subject"] == f"分配给您：#{task.number} 打印机卡纸"
    assert "打开任务" in message.get_body(("plain",)).get_content()
    assert "打开任务" in message.get_body(("html",)).get_content()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_email_and_a_digest_in_each_language(lang, smtp_server, enable_plugin, make_user, make_department,
                                                make_task, drain_events, workdesk_app):
    server = smtp_server()
    enable_plugin("email", **server.settings())
    dept = make_department()
    boss = make_user("manager", [dept], name="Mia Manager", locale="de" if lang != "de" else "fr")
    reader = make_user("agent", [dept], name="Reader", locale=lang)
    task = make_task(boss, dept, title="Boiler")
    tasks.assign(boss, task.id, reader.id)
    drain_events()
    with force_locale(lang):
        subject = gettext("Assigned to you: %(task)s", task=f"#{task.number} Boiler")
        open_task = gettext("Open the task")
    if lang != "en":
        assert subject != f"Assigned to you: #{task.number} Boiler" and open_task != "Open the task"
    _to, message = server.messages[0]
    assert message["Subject"] == subject
    assert open_task in message.get_body(("plain",)).get_content()

    set_preferences(reader, digest="hourly")
    first = notify(reader, "task.commented", "First", task=task)
    notify(reader, "task.commented", "Second")
    assert send_digests(first.created_at.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)) == 1
    drain_events()
    digest = Notification.get(Notification.kind == DIGEST_KIND)
    with force_locale(lang):
        expected = ngettext("%(num)d notification since %(start)s", "%(num)d notifications since %(start)s", 2,
                            start=format_datetime(first.created_at, instant_pattern(lang), tzinfo=reader.zone, locale=lang))
    assert digest.subject == expected
    _to, mail = server.messages[-1]
    assert mail["Subject"] == " ".join(digest.subject.split())  # one header line: any space becomes a space
    assert "- First" in mail.get_body(("plain",)).get_content()
    if lang != "en":
        assert "notifications since" not in digest.subject
