"""The team pages: spaces with unread counts, threads, replies with CSRF, XSS payloads in posts and titles
rendered inert, moderation forms, and 404 for a space of another department."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
XSS_TITLE = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'
XSS_BODY = ('<script>alert(3)</script> [click](javascript:alert(4)) <a href="javascript:alert(5)">x</a> '
            '<svg onload=alert(6)> <iframe src="https://evil.example"></iframe> ![i](x" onerror="alert(7))')


class _Tags(HTMLParser):
    """Every element a browser would build from the page, with its attributes."""
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append((tag, name, value))
        if tag in ("iframe", "svg", "object", "embed") or (tag == "script" and "alert" in self.rawdata):
            self.found.append((tag, None, None))


def active_markup(html: str) -> list:
    """Event handlers, javascript: URLs and embedded frames the page would run (the layout's own scripts
    load from files, never inline)."""
    parser = _Tags()
    parser.feed(html.replace("<script src=", "<x-script src="))
    return parser.found


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_posting_and_reading_through_the_pages(team, support_space, client, login, disc, workdesk_app):
    login(client, team["agents"][0])
    index = client.get("/discussions/").get_data(as_text=True)
    assert "Support" in index and "Warehouse" not in index
    page = client.get(f"/discussions/spaces/{support_space.id}").get_data(as_text=True)
    missing = client.post(f"/discussions/spaces/{support_space.id}", data={"title": "t", "body": "b"})
    assert missing.status_code == 400  # no CSRF token: refused before anything is written
    made = client.post(f"/discussions/spaces/{support_space.id}",
                       data={"csrf_token": csrf(page), "title": XSS_TITLE, "body": XSS_BODY})
    assert made.status_code == 302
    thread_url = made.headers["Location"]
    html = client.get(thread_url).get_data(as_text=True)
    assert active_markup(html) == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    reply = client.post(thread_url, data={"csrf_token": csrf(html), "body": "**bold** reply"})
    assert reply.status_code == 302
    assert "<strong>bold</strong>" in client.get(thread_url).get_data(as_text=True)
    # Boris sees one unread space until he reads the thread.
    login(client, team["agents"][1])
    assert re.search(r'class="count"[^>]*>2<', client.get("/discussions/").get_data(as_text=True))
    client.get(thread_url)
    assert 'class="count"' not in client.get("/discussions/").get_data(as_text=True).split("<main")[-1]
    # Search escapes the query it repeats.
    found = client.get("/discussions/search", query_string={"q": "<b>bold"}).get_data(as_text=True)
    assert "<b>bold" not in found and "&lt;b&gt;bold" in found


def test_other_departments_and_moderation_forms(team, support_space, client, login, disc):
    thread = disc.create_thread(team["agents"][0], support_space.id, "Shift swap", "Anyone free on Friday?")
    post = disc.thread_posts(team["agents"][0], thread)[0]
    warehouse = next(s for s in disc.list_spaces(team["outsider"]) if s["name"] == "Warehouse")
    login(client, team["outsider"])
    token = csrf(client.get(f"/discussions/spaces/{warehouse['id']}").get_data(as_text=True))
    assert client.get(f"/discussions/spaces/{support_space.id}").status_code == 404
    assert client.get(f"/discussions/threads/{thread.id}").status_code == 404
    assert client.post(f"/discussions/posts/{post.id}/hide",
                       data={"csrf_token": token, "hide-reason": "x"}).status_code == 404
    login(client, team["agents"][1])
    html = client.get(f"/discussions/threads/{thread.id}").get_data(as_text=True)
    assert "Hide the post" not in html and "Turn into a task" in html
    login(client, team["head"])
    html = client.get(f"/discussions/threads/{thread.id}").get_data(as_text=True)
    assert "Hide the post" in html
    token = csrf(html)
    done = client.post(f"/discussions/posts/{post.id}/hide", data={"csrf_token": token, "hide-reason": "Off topic"},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Post hidden." in page and "Hidden by a moderator: Off topic" in page and "Anyone free" not in page
    made = client.post(f"/discussions/posts/{post.id}/task", data={"csrf_token": token, "task-title": "x"},
                       follow_redirects=True)
    assert "A hidden post cannot become a task." in made.get_data(as_text=True)


def test_admin_views(team, client, login, disc):
    login(client, team["admin"])
    form = client.get("/admin/discussions_spaces/new/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    created = client.post("/admin/discussions_spaces/new/",
                          data={"csrf_token": token, "name": "Announcements", "description": ""})
    assert created.status_code in (200, 302)
    assert "Announcements" in client.get("/admin/discussions_spaces/").get_data(as_text=True)
    assert client.get("/admin/discussions_moderation/").status_code == 200
    login(client, team["agents"][0])
    assert client.get("/admin/discussions_spaces/").status_code in (403, 404)


def test_a_reply_with_a_file_from_the_page(team, support_space, client, login, disc):
    import io
    thread = disc.create_thread(team["agents"][0], support_space.id, "Manuals", "Where is the pump manual?")
    login(client, team["agents"][1])
    html = client.get(f"/discussions/threads/{thread.id}").get_data(as_text=True)
    sent = client.post(f"/discussions/threads/{thread.id}", content_type="multipart/form-data",
                       data={"csrf_token": csrf(html), "body": "Here it is.",
                             "files": (io.BytesIO(b"%PDF-1.4 pump"), "pump.pdf")})
    assert sent.status_code == 302
    page = client.get(f"/discussions/threads/{thread.id}").get_data(as_text=True)
    link = re.search(r'href="(/discussions/files/\d+)">pump.pdf<', page).group(1)
    download = client.get(link)
    assert download.data == b"%PDF-1.4 pump" and download.headers["X-Content-Type-Options"] == "nosniff"
    login(client, team["outsider"])
    assert client.get(link).status_code == 404
