"""Markdown descriptions and comments (rendered by markdown-it-py, sanitised by nh3), mentions, internal
notes and comment edits with their history, on the pages and in the API."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from workdesk import render_markdown
from workdesk import Notification
from workdesk.models import Comment, CommentRevision
from workdesk.services.tasks import add_comment, update_task
from workdesk.site_settings import save_site_settings

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[pic](data:image/png;base64,iVBORw0KGgo=)",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<svg onload="alert(1)"></svg>',
    "<iframe src=\"https://evil.example\"></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](vbscript:msgbox(1))",
]
DANGEROUS = re.compile(r"<(script|img|iframe|svg|div|style)\b|\son\w+=|javascript:|vbscript:|data:|style=", re.I)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_harmless(workdesk_app, payload):
    html = str(render_markdown(payload, mentions=()))
    # only escaped text may mention the payload's markup: no live tag, attribute or URL survives
    live = re.sub(r"&lt;.*?&gt;", "", html)
    assert not DANGEROUS.search(re.sub(r">[^<]*<", "><", live)), html
    for href in re.findall(r'<a [^>]*href="([^"]*)"', html):
        assert href.startswith(("http://", "https://", "mailto:")), html


def test_markdown_features_and_links(workdesk_app):
    html = str(render_markdown("**bold** *it* `code`\n\n- one\n- two\n\nSee https://example.com/a?b=1 and "
                               "[docs](https://docs.example.com)", mentions=()))
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.com/a?b=1" rel="noopener nofollow">' in html
    assert '<a href="https://docs.example.com" rel="noopener nofollow">docs</a>' in html


def test_mentions_are_highlighted_outside_code(workdesk_app, cast):
    html = str(render_markdown("Thanks @Ana Agent and @fred@example.com; `@Ana Agent` stays code, "
                               "@Nobody Known is plain"))
    assert '<span class="mention">@Ana Agent</span>' in html
    assert '<span class="mention">@fred@example.com</span>' in html
    assert "<code>@Ana Agent</code>" in html and "@Nobody Known" in html and html.count("mention") == 2


@BOTH_DATABASES
def test_task_page_renders_markdown_and_escapes_payloads(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it, description="Steps:\n\n1. **plug in**\n2. <script>alert(1)</script>")
    add_comment(cast.agent, task.id, "Try [the guide](https://help.example.com) @Rita Requester "
                                     "<img src=x onerror=alert(1)>")
    login(client, cast.requester)
    page = client.get(f"/tasks/{task.id}").text
    assert "<strong>plug in</strong>" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://help.example.com" rel="noopener nofollow">the guide</a>' in page
    assert '<span class="mention">@Rita Requester</span>' in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@BOTH_DATABASES
def test_internal_notes_only_for_people_who_work_tasks(client, login, cast, make_task, api_client, drain_events):
    task = make_task(cast.requester, cast.it)
    update_task(cast.admin, task.id, {"assignee_id": cast.agent.id})
    add_comment(cast.agent, task.id, "Public answer")
    add_comment(cast.agent, task.id, "Internal: the vendor is late again @Rita Requester", internal=True)
    drain_events()
    # the requester is notified of the answer only, even though the note mentions them
    subjects = [n.subject for n in Notification.select().where(Notification.recipient == cast.requester)]
    assert len(subjects) == 1
    login(client, cast.requester)
    page = client.get(f"/tasks/{task.id}").text
    assert "Public answer" in page and "vendor is late" not in page
    assert "added an internal note" not in page and 'name="internal"' not in page
    requester = api_client(user=cast.requester)
    bodies = [c["body"] for c in requester.get(f"/api/v1/tasks/{task.id}/comments").json["items"]]
    assert bodies == ["Public answer"]
    events = requester.get(f"/api/v1/tasks/{task.id}/events").json["items"]
    assert all("internal" not in e["changes"] for e in events)
    refused = requester.post(f"/api/v1/tasks/{task.id}/comments", json={"body": "sneaky", "internal": True})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    hidden = Comment.get(Comment.internal == True)  # noqa: E712
    assert requester.patch(f"/api/v1/tasks/{task.id}/comments/{hidden.id}", json={"body": "x"}).status_code == 404

    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert "vendor is late" in page and "Internal note" in page and "added an internal note" in page
    agent = api_client(user=cast.agent)
    items = agent.get(f"/api/v1/tasks/{task.id}/comments").json["items"]
    assert [c["internal"] for c in items] == [False, True]
    made = agent.post(f"/api/v1/tasks/{task.id}/comments", json={"body": "Note two", "internal": True})
    assert made.status_code == 201 and made.json["internal"] is True
    response = client.post(f"/tasks/{task.id}/comments", data={"body": "Note three", "internal": "y"})
    assert response.status_code == 302
    assert Comment.get(Comment.body == "Note three").internal is True


@BOTH_DATABASES
def test_authors_edit_their_comments_within_the_window(client, login, cast, make_task, api_client):
    save_site_settings(None, {"comment_edit_minutes": 10})
    task = make_task(cast.requester, cast.it)
    comment = add_comment(cast.requester, task.id, "Frist version")
    login(client, cast.requester)
    page = client.get(f"/tasks/{task.id}").text
    assert f"/tasks/{task.id}/comments/{comment.id}/edit" in page
    response = client.post(f"/tasks/{task.id}/comments/{comment.id}/edit", data={"body": "First version"})
    assert response.status_code == 302
    page = client.get(f"/tasks/{task.id}").text
    assert "First version" in page and "Earlier versions" in page and "Frist version" in page
    assert "edited a comment" in page
    assert [r.body for r in CommentRevision.select()] == ["Frist version"]

    # another person may not edit it, and nobody after the window
    agent = api_client(user=cast.agent)
    other = agent.patch(f"/api/v1/tasks/{task.id}/comments/{comment.id}", json={"body": "mine now"})
    assert other.status_code == 403
    requester = api_client(user=cast.requester)
    edited = requester.patch(f"/api/v1/tasks/{task.id}/comments/{comment.id}", json={"body": "Third"})
    assert edited.status_code == 200 and edited.json["edited_at"] is not None
    revisions = requester.get(f"/api/v1/tasks/{task.id}/comments/{comment.id}/revisions").json["items"]
    assert [r["body"] for r in revisions] == ["Frist version", "First version"]
    written = Comment.get_by_id(comment.id).created_at
    Comment.update(created_at=written - dt.timedelta(minutes=11)).execute()
    late = requester.patch(f"/api/v1/tasks/{task.id}/comments/{comment.id}", json={"body": "Too late"})
    assert late.status_code == 403
    assert late.json["error"]["message"] == "Comments can be edited for 10 minutes after writing them."
    assert f"/comments/{comment.id}/edit" not in client.get(f"/tasks/{task.id}").text
    save_site_settings(None, {"comment_edit_minutes": 0})
    Comment.update(created_at=written).execute()
    assert requester.patch(f"/api/v1/tasks/{task.id}/comments/{comment.id}", json={"body": "x"}).json[
        "error"]["message"] == "Comments cannot be edited on this Workdesk."


def test_description_edit_keeps_markdown_source(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it)
    update_task(cast.admin, task.id, {"description": "# Heading\n\n> quoted"})
    login(client, cast.agent)
    page = client.get(f"/tasks/{task.id}").text
    assert "<h1>Heading</h1>" in page and "<blockquote>" in page
    assert "# Heading" in page  # the edit form shows the Markdown as written


def test_mention_suggestions(client, login, cast, make_task):
    task = make_task(cast.requester, cast.it)
    login(client, cast.agent)
    found = client.get(f"/tasks/{task.id}/mentions?q=ri").json["items"]
    assert found == [{"name": "Rita Requester", "email": "rita@example.com"}]
    assert client.get(f"/tasks/{task.id}/mentions?q=").json["items"] == []
    login(client, cast.other_agent)
    assert client.get(f"/tasks/{task.id}/mentions?q=ri").status_code == 404
