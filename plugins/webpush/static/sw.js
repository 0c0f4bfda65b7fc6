// Workdesk service worker: shows each Web Push message as a notification and opens its page when tapped.
self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: event.data.text() }; }
  const url = typeof data.url === "string" ? data.url : "/notifications";
  event.waitUntil(self.registration.showNotification(data.title || "Workdesk", {
    body: data.body || "", tag: data.tag, data: { url: url }, icon: "/static/plugins/webpush/icon-192.png",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // Only our own pages open: a URL on another origin falls back to the inbox.
  let target = new URL(event.notification.data && event.notification.data.url || "/notifications", self.location.origin);
  if (target.origin !== self.location.origin) { target = new URL("/notifications", self.location.origin); }
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const w of windows) { if (w.url === target.href && "focus" in w) { return w.focus(); } }
    return self.clients.openWindow(target.href);
  }));
});
