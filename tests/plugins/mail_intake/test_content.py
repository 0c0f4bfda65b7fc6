"""What a message's text becomes: charsets (UTF-8, GB2312, KOI8-R, Windows-1251), HTML-only and
multipart mail turned into sanitised Markdown, quoted history trimmed in replies; taken in through
the real IMAP server."""
from __future__ import annotations

from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.header import Header

import pytest

from workdesk import Task, render_markdown

from .conftest import mail, requires_dovecot

pytestmark = requires_dovecot


def encoded(sender: str, subject: str, parts: list[tuple[str, str, str]]):
    """A message whose subject and parts are encoded in the given charsets: (subtype, text, charset)."""
    if len(parts) == 1:
        subtype, text, charset = parts[0]
        message = MIMEText(text, subtype, charset)
    else:
        message = MIMEMultipart("alternative")
        for subtype, text, charset in parts:
            message.attach(MIMEText(text, subtype, charset))
    message["From"] = sender
    message["To"] = "desk@desk.example.com"
    message["Subject"] = Header(subject, parts[0][2])
    message["Message-ID"] = f"<{abs(hash(subject))}@client.example.org>"
    return message.as_bytes()


CASES = [
    ("koi8-r", "Не работает принтер", [("plain", "Принтер на третьем этаже не печатает.", "koi8-r")],
     "Принтер на третьем этаже не печатает."),
    ("windows-1251", "Нет доступа к почте", [("html", "<p>Пароль <b>не подходит</b>.</p>", "windows-1251")],
     "Пароль **не подходит**."),
    ("gb2312", "打印机坏了", [("plain", "三楼的打印机不能打印。", "gb2312"),
                           ("html", "<p>三楼的<b>打印机</b>不能打印。</p>", "gb2312")],
     "三楼的打印机不能打印。"),
    ("utf-8", "Máy in bị hỏng", [("html", '<div>Máy in tầng 3 <a href="https://wiki.example.com/in">không in được</a>'
                                          '<script>alert(1)</script></div><ul><li>Lỗi E-42</li></ul>', "utf-8")],
     "Máy in tầng 3 [không in được](https://wiki.example.com/in)\n\n- Lỗi E-42"),
]


@pytest.mark.parametrize("charset,subject,parts,expected", CASES, ids=[case[0] for case in CASES])
def test_charsets_and_html_become_the_description(desk, charset, subject, parts, expected):
    desk.deliver(encoded(desk.requester.email, subject, parts))
    desk.run()
    (row,) = desk.ledger()
    task = Task.get_by_id(row.task_id)
    assert task.title == subject
    assert task.description == expected
    assert "<script" not in str(render_markdown(task.description))


def test_html_with_dangerous_links_keeps_only_their_text(desk):
    html = '<p><a href="javascript:alert(1)">click</a> <img src=x onerror=alert(1)> <i>soon</i></p>'
    message = mail(desk.requester.email, "Links")
    message.set_content(html, subtype="html")
    desk.deliver(message)
    desk.run()
    description = Task.get_by_id(desk.ledger()[0].task_id).description
    assert description == "click *soon*"


def test_a_reply_keeps_only_its_new_text(desk):
    from workdesk import Comment, services
    task = services.tasks.create_task(desk.requester, title="Laptop", department_id=desk.dept.id)
    body = "Thanks, that worked.\n\n-- \nMaria\nAccounting\n"
    desk.deliver(mail(desk.requester.email, f"Re: [#{task.number}] Laptop", body))
    desk.deliver(mail(desk.requester.email, f"Re: [#{task.number}] Laptop",
                      "> only a quote\n> of the earlier message"))
    desk.run()
    assert [c.body for c in Comment.select().order_by(Comment.id)] == [
        "Thanks, that worked.", "> only a quote\n> of the earlier message"]


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_unstorable_bytes_and_overlong_replies_are_still_taken_in(desk):
    from workdesk import Comment, services
    raw = (f"From: {desk.requester.email}\r\nTo: desk@desk.example.com\r\nSubject: Broken \xff\xfe bytes\r\n"
           "Message-ID: <raw-bytes@client.example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "NUL \x00 here and \xff there\r\n").encode("latin-1")
    desk.deliver(raw)
    task = services.tasks.create_task(desk.requester, title="Long", department_id=desk.dept.id)
    desk.deliver(mail(desk.requester.email, f"Re: [#{task.number}]", "word " * 5000))
    desk.run()
    first, second = desk.ledger()
    assert first.status == "accepted" and "\x00" not in Task.get_by_id(first.task_id).description
    assert second.status == "threaded"
    body = Comment.get_by_id(second.comment_id).body
    assert len(body) <= 20000 and body.endswith("(shortened)")
