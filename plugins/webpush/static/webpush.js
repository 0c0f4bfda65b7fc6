// Registers the service worker (scope "/") and, on the button, subscribes this browser to Web Push and
// sends the subscription to the API. No inline script: the page keeps the app's strict CSP.
(function () {
  "use strict";
  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  document.addEventListener("DOMContentLoaded", function () {
    const button = document.getElementById("webpush-subscribe");
    const status = document.getElementById("webpush-status");
    if (!button) { return; }
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      status.textContent = button.dataset.unsupported;
      button.disabled = true;
      return;
    }
    const ready = navigator.serviceWorker.register(button.dataset.worker, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; });
    ready.then(function () { document.documentElement.dataset.serviceWorker = "ready"; });
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { throw new Error(permission); }
        return ready;
      }).then(function (registration) {
        return registration.pushManager.subscribe({ userVisibleOnly: true,
                                                    applicationServerKey: keyBytes(button.dataset.key) });
      }).then(function (subscription) {
        const data = subscription.toJSON();
        return fetch(button.dataset.subscriptions, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf },
          body: JSON.stringify({ endpoint: data.endpoint, keys: data.keys,
                                 device: (button.dataset.device + " · " + navigator.platform).slice(0, 100) }),
        });
      }).then(function (response) {
        if (!response.ok) { return response.json().then(function (body) { throw new Error(body.error.message); }); }
        status.textContent = button.dataset.done;
        window.location.reload();
      }).catch(function (error) {
        status.textContent = button.dataset.failed.replace("%(reason)s", error.message);
      });
    });
  });
})();
