"""The opt-in section of the account page (the core's ``account_page_panels`` hook: devices listed and
revoked with CSRF, the old /webpush/devices address redirected there), the manifest and service worker on
every page (the core's ``extra_head`` hook) and the service worker's headers; and in real Chromium at
360 px, on an ordinary page: the manifest is valid, the service worker registers with scope "/", a push
delivered into it shows the notification, and tapping it opens the task."""
from __future__ import annotations

import hashlib
import io
import json
import re
import time

import pytest
from PIL import Image

from .conftest import Device


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_devices_are_listed_and_revoked_on_the_account_page(enable_plugin, push_service, make_user, client, login):
    enable_plugin("webpush", allow_private_destinations=True, push_hosts=["127.0.0.1"])
    from workdesk.plugins.webpush.services import subscribe
    me, other = make_user(), make_user()
    device = Device()
    mine = subscribe(me, {"endpoint": push_service.endpoint(device), "keys": device.keys(), "device": "Work phone"})
    theirs = subscribe(other, {"endpoint": push_service.endpoint(Device(), "d2"), "keys": Device().keys(),
                               "device": "Their tablet"})
    login(client, me)
    html = client.get("/account").get_data(as_text=True)
    assert 'id="webpush"' in html and "Notifications on your devices" in html and "<script>" not in html
    assert "Work phone" in html and "Their tablet" not in html
    # The row carries the endpoint's digest, which the page's script matches against this browser's subscription.
    assert f'data-endpoint-hash="{hashlib.sha256(mine.endpoint.encode()).hexdigest()}"' in html
    moved = client.get("/webpush/devices")
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/account#webpush")
    assert client.post(f"/webpush/devices/{theirs.id}/revoke", data={"csrf_token": csrf(html)}).status_code == 404
    assert client.post(f"/webpush/devices/{mine.id}/revoke", data={}).status_code == 400
    done = client.post(f"/webpush/devices/{mine.id}/revoke", data={"csrf_token": csrf(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/account#webpush")
    page = client.get("/account").get_data(as_text=True)
    assert "The device no longer gets notifications." in page and "Work phone" not in page
    assert "No device gets your notifications yet." in page
    worker = client.get("/webpush/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/" and "text/javascript" in worker.headers["Content-Type"]


def test_every_page_carries_the_manifest_only_while_the_plugin_is_enabled(enable_plugin, make_user, client, login):
    from workdesk.registry import set_plugin_enabled
    enable_plugin("webpush")
    assert 'rel="manifest"' in client.get("/login").get_data(as_text=True)  # installable before signing in
    login(client, make_user())
    for path in ("/", "/search", "/account", "/notifications"):
        html = client.get(path).get_data(as_text=True)
        head = html.split("</head>")[0]
        assert 'rel="manifest" href="/webpush/manifest.webmanifest"' in head, path
        assert 'name="theme-color"' in head and 'rel="apple-touch-icon"' in head, path
        assert 'data-worker="/webpush/sw.js"' in head and "webpush.js" in head, path
    set_plugin_enabled("webpush", False)
    for path in ("/", "/account"):
        html = client.get(path).get_data(as_text=True)
        assert 'rel="manifest"' not in html and 'id="webpush"' not in html, path


def wait_for(page, check, timeout=30.0):
    """Poll ``check`` while Playwright's event loop runs (a plain sleep would hold back its events)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


@pytest.mark.browser
def test_installable_from_any_page_and_a_push_is_shown_and_opens_its_task(
        chromium, live_server, workdesk_app, monkeypatch, enable_plugin, make_user, make_department, make_task,
        artifacts_dir):
    enable_plugin("webpush")
    # Links in messages are built from base_url: here the live server, as on a real instance.
    monkeypatch.setitem(workdesk_app.config["WORKDESK"], "base_url", live_server)
    dept = make_department()
    vera = make_user("agent", departments=[dept], email="vera@example.com", password="correct horse",
                     name="Vera Viewer")
    task = make_task(vera, dept, title="Pump in hall 3")
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, is_mobile=True,
                                   has_touch=True)
    context.grant_permissions(["notifications"], origin=live_server)
    page = context.new_page()
    page.set_default_timeout(30000)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto("/login")
        page.fill("input[name=email]", "vera@example.com")
        page.fill("input[name=password]", "correct horse")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        # An ordinary page (my work), not the opt-in section: the worker registers and controls the app.
        page.wait_for_selector("html[data-service-worker=ready]")
        scope = page.evaluate("navigator.serviceWorker.getRegistration('/').then(r => r && r.active && r.scope)")
        assert scope == f"{live_server}/"
        href = page.get_attribute("link[rel=manifest]", "href")
        answer = page.request.get(href)
        assert answer.ok and answer.headers["content-type"].startswith("application/manifest+json")
        manifest = answer.json()
        assert manifest["name"] and manifest["short_name"] and manifest["start_url"] == "/"
        assert manifest["scope"] == "/" and manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            image = page.request.get(icon["src"])
            assert image.ok and image.headers["content-type"] == "image/png"
            width, height = Image.open(io.BytesIO(image.body())).size
            assert f"{width}x{height}" == icon["sizes"]
        assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        page.screenshot(path=str(artifacts_dir / "home-installable-phone.png"), full_page=True)

        # A push into the registered worker, through DevTools (what a push service's message becomes in the
        # browser), carrying the payload the plugin sends for a notification about the task.
        from workdesk.notifications import notify
        from workdesk.plugins.webpush.services import message
        payload = message(notify(vera, "x.test", "The pump is down", "Hall 3 is flooding", task=task))
        assert payload["url"] == f"{live_server}/tasks/{task.id}"
        cdp = context.new_cdp_session(page)
        registrations = []
        cdp.on("ServiceWorker.workerRegistrationUpdated",
               lambda event: registrations.extend(r for r in event["registrations"] if not r["isDeleted"]))
        cdp.send("ServiceWorker.enable")
        assert wait_for(page, lambda: registrations), "DevTools reported no service worker registration"
        registration_id = next(r["registrationId"] for r in registrations if r["scopeURL"] == f"{live_server}/")
        shown_js = ("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                    ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))")

        def deliver(data: dict) -> list:
            cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": registration_id,
                                                          "data": json.dumps(data)})
            return wait_for(page, lambda: page.evaluate(shown_js))

        assert deliver(payload) == [{"title": "The pump is down", "body": "Hall 3 is flooding",
                                     "tag": payload["tag"], "url": payload["url"]}]
        # Tapping it: the worker's click handler, run on that real notification, opens the task in this window.
        worker = wait_for(page, lambda: context.service_workers)[0]
        worker.evaluate("self.registration.getNotifications().then(ns => self.openNotification(ns[0]))")
        page.wait_for_url(f"{live_server}/tasks/{task.id}")
        assert "Pump in hall 3" in page.inner_text("h1")
        assert page.evaluate(shown_js) == []  # the tapped notification is closed
        # A message pointing off this site opens the inbox instead.
        assert deliver({"title": "Elsewhere", "url": "https://evil.example.com/x", "tag": "t2"})[0]["title"] == \
            "Elsewhere"
        worker.evaluate("self.registration.getNotifications().then(ns => self.openNotification(ns[0]))")
        page.wait_for_url(f"{live_server}/notifications")

        # The opt-in is a section of the account page, fitting the phone's width.
        page.goto("/account#webpush")
        assert page.is_visible("#webpush h2") and page.is_visible("#webpush-subscribe")
        assert page.inner_text("#webpush .empty") == "No device gets your notifications yet."
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the account page is {overflow}px wider than the screen"
        page.click("#webpush-subscribe")
        # This Chromium has no push service to subscribe with: the refusal is said in the section itself.
        page.wait_for_selector("#webpush-status:not(:empty)")
        said = page.inner_text("#webpush-status")
        assert said == "Notifications are on for this device." or \
            said.startswith("This browser could not turn notifications on: "), said
        page.screenshot(path=str(artifacts_dir / "account-webpush-phone.png"), full_page=True)
        assert violations == []
    finally:
        context.close()
