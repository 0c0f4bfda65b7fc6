"""The opt-in page (devices listed and revoked with CSRF), the manifest and the service worker's headers;
and in real Chromium at 360 px: the manifest is valid and the service worker registers with scope "/"."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from .conftest import Device


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_devices_are_listed_and_revoked(enable_plugin, push_service, make_user, client, login):
    enable_plugin("webpush", allow_private_destinations=True, push_hosts=["127.0.0.1"])
    from workdesk.plugins.webpush.services import subscribe
    me, other = make_user(), make_user()
    device = Device()
    mine = subscribe(me, {"endpoint": push_service.endpoint(device), "keys": device.keys(), "device": "Work phone"})
    theirs = subscribe(other, {"endpoint": push_service.endpoint(Device(), "d2"), "keys": Device().keys()})
    login(client, me)
    html = client.get("/webpush/devices").get_data(as_text=True)
    assert "Work phone" in html and 'rel="manifest"' in html and "<script>" not in html
    assert client.post(f"/webpush/devices/{theirs.id}/revoke", data={"csrf_token": csrf(html)}).status_code == 404
    assert client.post(f"/webpush/devices/{mine.id}/revoke", data={}).status_code == 400
    done = client.post(f"/webpush/devices/{mine.id}/revoke", data={"csrf_token": csrf(html)}, follow_redirects=True)
    assert "The device no longer gets notifications." in done.get_data(as_text=True)
    assert "Work phone" not in done.get_data(as_text=True)
    worker = client.get("/webpush/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/" and "text/javascript" in worker.headers["Content-Type"]


@pytest.mark.browser
def test_manifest_is_valid_and_the_service_worker_registers(chromium, live_server, enable_plugin, make_user,
                                                            artifacts_dir):
    enable_plugin("webpush")
    make_user("agent", email="vera@example.com", password="correct horse", name="Vera Viewer")
    context = chromium.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto("/login")
        page.fill("input[name=email]", "vera@example.com")
        page.fill("input[name=password]", "correct horse")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.goto("/webpush/devices")
        page.wait_for_selector("html[data-service-worker=ready]")
        scope = page.evaluate("navigator.serviceWorker.getRegistration('/').then(r => r && r.active && r.scope)")
        assert scope == f"{live_server}/"
        href = page.get_attribute("link[rel=manifest]", "href")
        answer = page.request.get(href)
        assert answer.ok and answer.headers["content-type"].startswith("application/manifest+json")
        manifest = answer.json()
        assert manifest["name"] and manifest["start_url"] == "/" and manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            image = page.request.get(icon["src"])
            assert image.ok and image.headers["content-type"] == "image/png"
            width, height = Image.open(io.BytesIO(image.body())).size
            assert f"{width}x{height}" == icon["sizes"]
        assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        page.screenshot(path=str(artifacts_dir / "devices-phone.png"), full_page=True)
        assert violations == []
    finally:
        context.close()
