"""/api/v1/discussions: visibility across departments (404), mentions and unread counts, the post-to-task
link both ways, moderation with its audit trail, files, search, OpenAPI, disable/enable keeping data."""
from __future__ import annotations

import pytest

from workdesk import Notification
from workdesk.registry import set_plugin_enabled

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
API = "/api/v1/discussions"


def start(client, space_id, title="Holiday rota", body="Who covers the 24th?"):
    created = client.post(f"{API}/spaces/{space_id}/threads", json={"title": title, "body": body})
    assert created.status_code == 201, created.json
    return created.json


def test_a_department_space_is_invisible_to_other_departments(api_client, team, support_space):
    anna, olga = api_client(user=team["agents"][0]), api_client(user=team["outsider"])
    thread = start(anna, support_space.id)
    names = [s["name"] for s in olga.get(f"{API}/spaces").json["items"]]
    assert "Support" not in names and "Warehouse" in names
    for response in (olga.get(f"{API}/spaces/{support_space.id}/threads"),
                     olga.get(f"{API}/threads/{thread['id']}"),
                     olga.post(f"{API}/threads/{thread['id']}/posts", json={"body": "hi"}),
                     olga.get(f"{API}/spaces/{support_space.id}/pinned"),
                     olga.get(f"{API}/spaces/99999999/threads"),
                     olga.get(f"{API}/threads/999999999999999999999")):
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    posts = anna.get(f"{API}/threads/{thread['id']}").json["posts"]
    assert olga.patch(f"{API}/posts/{posts[0]['id']}", json={"body": "x"}).status_code == 404
    assert olga.post(f"{API}/posts/{posts[0]['id']}/task", json={}).status_code == 404
    assert olga.get(f"{API}/search", query_string={"q": "covers"}).json["items"] == []
    # An admin sees every space; instance-wide spaces are everyone's.
    admin = api_client(user=team["admin"])
    assert {"Support", "Warehouse"} <= {s["name"] for s in admin.get(f"{API}/spaces").json["items"]}
    made = admin.post(f"{API}/spaces", json={"name": "Everyone"})
    assert made.status_code == 201 and made.json["department_id"] is None
    assert "Everyone" in [s["name"] for s in olga.get(f"{API}/spaces").json["items"]]
    refused = olga.post(f"{API}/spaces", json={"name": "Mine"})
    assert refused.status_code == 403 and refused.json["error"]["message"]


def test_mentions_replies_and_unread_counts(api_client, team, support_space):
    anna, boris = api_client(user=team["agents"][0]), api_client(user=team["agents"][1])
    olga = team["outsider"]
    team["agents"][1].locale = "de"
    team["agents"][1].save()
    thread = start(anna, support_space.id, body="@boris@example.com and @Olga Outsider, please look")
    mention = Notification.get(Notification.recipient == team["agents"][1].id)
    # In the reader's language, whoever wrote the post.
    assert mention.kind == "discussions.mention" and mention.subject == "Anna Agent hat Sie in „Holiday rota“ erwähnt"
    # Olga cannot see the space: her mention is not delivered.
    assert Notification.select().where(Notification.recipient == olga.id).count() == 0
    unread = {s["id"]: s["unread"] for s in boris.get(f"{API}/spaces").json["items"]}
    assert unread[support_space.id] == 1
    assert {s["id"]: s["unread"] for s in anna.get(f"{API}/spaces").json["items"]}[support_space.id] == 0
    assert boris.get(f"{API}/spaces/{support_space.id}/threads").json["items"][0]["unread"] == 1
    boris.get(f"{API}/threads/{thread['id']}")
    assert {s["id"]: s["unread"] for s in boris.get(f"{API}/spaces").json["items"]}[support_space.id] == 0
    reply = boris.post(f"{API}/threads/{thread['id']}/posts", json={"body": "I can."})
    assert reply.status_code == 201
    note = Notification.select().where(Notification.recipient == team["agents"][0].id).get()
    assert note.kind == "discussions.reply" and "Boris Agent replied" in note.subject
    assert {s["id"]: s["unread"] for s in anna.get(f"{API}/spaces").json["items"]}[support_space.id] == 1
    empty = boris.post(f"{API}/threads/{thread['id']}/posts", json={"body": "   "})
    assert empty.status_code == 422 and "body" in empty.json["error"]["fields"]
    bad = boris.post(f"{API}/spaces/{support_space.id}/threads", json={"title": "x\u0000", "body": "y"})
    assert bad.status_code == 422


def test_a_post_becomes_a_task_linked_both_ways(api_client, team, support_space, client, login):
    anna = api_client(user=team["agents"][0])
    thread = start(anna, support_space.id, body="The printer on floor 2 is jammed")
    post_id = anna.get(f"{API}/threads/{thread['id']}").json["posts"][0]["id"]
    made = anna.post(f"{API}/posts/{post_id}/task", json={"title": "Fix the printer"})
    assert made.status_code == 201, made.json
    task = anna.get(f"/api/v1/tasks/{made.json['task_id']}").json
    assert task["title"] == "Fix the printer" and f"/discussions/threads/{thread['id']}#post-{post_id}" in \
        task["description"]
    assert anna.get(f"{API}/threads/{thread['id']}").json["posts"][0]["task_id"] == made.json["task_id"]
    again = anna.post(f"{API}/posts/{post_id}/task", json={})
    assert again.status_code == 422 and "post_id" in again.json["error"]["fields"]
    login(client, team["agents"][0])
    page = client.get(f"/tasks/{made.json['task_id']}").get_data(as_text=True)
    assert "Filed from a post in Support" in page and f"/discussions/threads/{thread['id']}#post-{post_id}" in page


def test_moderation_and_its_audit_trail(api_client, team, support_space):
    anna, boris = api_client(user=team["agents"][0]), api_client(user=team["agents"][1])
    head, admin = api_client(user=team["head"]), api_client(user=team["admin"])
    thread = start(anna, support_space.id, body="first version")
    post_id = anna.get(f"{API}/threads/{thread['id']}").json["posts"][0]["id"]
    refused = boris.patch(f"{API}/posts/{post_id}", json={"body": "mine now"})
    assert refused.status_code == 403 and refused.json["error"]["message"] == "Only the author can edit a post."
    edited = anna.patch(f"{API}/posts/{post_id}", json={"body": "second version"})
    assert edited.status_code == 200 and edited.json["edited_at"]
    not_head = boris.post(f"{API}/posts/{post_id}/hide", json={"reason": "spam"})
    assert not_head.status_code == 403
    no_reason = head.post(f"{API}/posts/{post_id}/hide", json={"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    hidden = head.post(f"{API}/posts/{post_id}/hide", json={"reason": "Customer's phone number"})
    assert hidden.status_code == 200 and hidden.json["hidden"] and hidden.json["body"] == ""
    assert boris.get(f"{API}/threads/{thread['id']}").json["posts"][0]["hidden_reason"] == "Customer's phone number"
    assert anna.patch(f"{API}/posts/{post_id}", json={"body": "back"}).status_code == 403
    assert boris.get(f"{API}/search", query_string={"q": "version"}).json["items"] == []
    trail = head.get(f"{API}/spaces/{support_space.id}/moderation").json["items"]
    assert [(e["action"], e["actor_id"], e["reason"]) for e in trail] == [
        ("edited", team["agents"][0].id, ""), ("hidden", team["head"].id, "Customer's phone number")]
    assert admin.get(f"{API}/spaces/{support_space.id}/moderation").status_code == 200
    assert boris.get(f"{API}/spaces/{support_space.id}/moderation").status_code == 404
    from workdesk.plugins.discussions.models import ModerationEntry
    assert ModerationEntry.get(ModerationEntry.action == "edited").before == "first version"


def test_pins_files_and_search(api_client, team, support_space):
    anna, boris = api_client(user=team["agents"][0]), api_client(user=team["agents"][1])
    thread = start(anna, support_space.id, title="Useful links", body="The [wiki](https://wiki.example.com)")
    post_id = anna.get(f"{API}/threads/{thread['id']}").json["posts"][0]["id"]
    assert boris.post(f"{API}/posts/{post_id}/pin", json={"pinned": True}).json["pinned"] is True
    assert [p["id"] for p in anna.get(f"{API}/spaces/{support_space.id}/pinned").json["items"]] == [post_id]
    import io
    upload = anna.post(f"{API}/posts/{post_id}/files", data={"files": (io.BytesIO(b"<script>x</script>"), "a.html")},
                       content_type="multipart/form-data")
    assert upload.status_code == 201, upload.json
    file_id = upload.json["files"][0]["id"]
    assert boris.post(f"{API}/posts/{post_id}/files", data={"files": (io.BytesIO(b"x"), "b.txt")},
                      content_type="multipart/form-data").status_code == 403
    empty = anna.post(f"{API}/posts/{post_id}/files", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "files" in empty.json["error"]["fields"]
    got = boris.get(f"{API}/files/{file_id}")
    assert got.status_code == 200 and got.data == b"<script>x</script>"
    assert got.headers["Content-Type"] == "application/octet-stream" and "attachment" in got.headers[
        "Content-Disposition"] and got.headers["X-Content-Type-Options"] == "nosniff"
    assert api_client(user=team["outsider"]).get(f"{API}/files/{file_id}").status_code == 404
    found = boris.get(f"{API}/search", query_string={"q": "wiki"}).json["items"]
    assert [p["id"] for p in found] == [post_id]
    assert boris.get(f"{API}/search", query_string={"q": "links"}).json["items"][0]["id"] == post_id
    assert boris.get(f"{API}/search").status_code == 422
    assert boris.get(f"{API}/search", query_string={"q": "100%_"}).json["items"] == []


def test_openapi_and_disable_enable_keeps_data(api_client, team, support_space, client):
    anna = api_client(user=team["agents"][0])
    thread = start(anna, support_space.id)
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert f"{API}/spaces" in paths and f"{API}/threads/{{thread_id}}/posts" in paths
    set_plugin_enabled("discussions", False)
    assert anna.get(f"{API}/spaces").status_code == 404
    assert f"{API}/spaces" not in client.get("/api/v1/openapi.json").json["paths"]
    set_plugin_enabled("discussions", True)
    assert anna.get(f"{API}/threads/{thread['id']}").json["title"] == "Holiday rota"


def test_files_on_posts_count_toward_the_instance_quota(api_client, team, support_space):
    import io
    from workdesk.site_settings import save_site_settings
    save_site_settings(None, {"attachment_max_mb": 1, "attachment_quota_mb": 2})
    anna = api_client(user=team["agents"][0])
    thread = start(anna, support_space.id)
    post_id = anna.get(f"{API}/threads/{thread['id']}").json["posts"][0]["id"]
    megabyte = b"x" * (1024 * 1024 - 10)

    def upload(name):
        return anna.post(f"{API}/posts/{post_id}/files", data={"files": (io.BytesIO(megabyte), name)},
                         content_type="multipart/form-data")
    assert upload("a.bin").status_code == 201 and upload("b.bin").status_code == 201
    full = upload("c.bin")
    assert full.status_code == 413 and full.json["error"]["code"] == "quota_exceeded"
    assert "is full" in full.json["error"]["message"]
