// On every page (the extra_head hook): registers the service worker with scope "/" so the whole team app
// is installable and can show notifications. On the account page's "Notifications on this device"
// section: subscribes this browser to Web Push and sends the subscription to the API, or turns it off
// again, and marks which listed device is this one. No inline script: the pages keep the strict CSP.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script) { return; }
  if (!("serviceWorker" in navigator)) {  // an old browser, or a page not served over https
    document.addEventListener("DOMContentLoaded", function () {
      const panel = document.getElementById("webpush-panel");
      if (!panel) { return; }
      document.getElementById("webpush-status").textContent = panel.dataset.unsupported;
      document.getElementById("webpush-subscribe").disabled = true;
    });
    return;
  }
  const ready = navigator.serviceWorker.register(script.dataset.worker, { scope: "/" })
    .then(function () { return navigator.serviceWorker.ready; });
  ready.then(function () { document.documentElement.dataset.serviceWorker = "ready"; },
             function () { document.documentElement.dataset.serviceWorker = "failed"; });

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  // The server lists devices by the SHA-256 of their endpoint; the same digest finds this browser's row.
  function endpointHash(endpoint) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(endpoint)).then(function (digest) {
      return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    });
  }
  function thisDeviceRow(subscription) {
    if (!subscription) { return Promise.resolve(null); }
    return endpointHash(subscription.endpoint).then(function (hash) {
      return document.querySelector('.webpush-devices li[data-endpoint-hash="' + hash + '"]');
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const panel = document.getElementById("webpush-panel");
    if (!panel) { return; }
    const on = document.getElementById("webpush-subscribe");
    const off = document.getElementById("webpush-unsubscribe");
    const status = document.getElementById("webpush-status");
    if (!("PushManager" in window)) {
      status.textContent = panel.dataset.unsupported;
      on.disabled = true;
      return;
    }
    const current = ready.then(function (registration) { return registration.pushManager.getSubscription(); });
    current.then(thisDeviceRow).then(function (row) {
      if (!row) { return; }
      row.querySelector(".webpush-this-device").hidden = false;
      on.hidden = true;
      off.hidden = false;
      status.textContent = panel.dataset.done;
    });
    on.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { throw new Error(permission); }
        return ready;
      }).then(function (registration) {
        return registration.pushManager.subscribe({ userVisibleOnly: true,
                                                    applicationServerKey: keyBytes(panel.dataset.key) });
      }).then(function (subscription) {
        const data = subscription.toJSON();
        return fetch(panel.dataset.subscriptions, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": panel.dataset.csrf },
          body: JSON.stringify({ endpoint: data.endpoint, keys: data.keys,
                                 device: (panel.dataset.device + " · " + navigator.platform).slice(0, 100) }),
        });
      }).then(function (response) {
        if (!response.ok) { return response.json().then(function (body) { throw new Error(body.error.message); }); }
        status.textContent = panel.dataset.done;
        window.location.reload();
      }).catch(function (error) {
        status.textContent = panel.dataset.failed.replace("%(reason)s", error.message);
      });
    });
    off.addEventListener("click", function () {
      // The browser forgets its subscription, then the listed row is revoked with its own form (CSRF).
      current.then(function (subscription) {
        return thisDeviceRow(subscription).then(function (row) {
          return (subscription ? subscription.unsubscribe() : Promise.resolve(true)).then(function () { return row; });
        });
      }).then(function (row) {
        if (row) { row.querySelector("form").submit(); } else { window.location.reload(); }
      });
    });
  });
})();
