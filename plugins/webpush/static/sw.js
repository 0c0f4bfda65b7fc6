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

// What tapping a notification does (named, so the browser test can run it on a real notification):
// close it, then show its page in a window of the app (one already showing it, else the first open
// one, else a new window). Only our own pages open: a URL on another origin falls back to the inbox.
self.openNotification = function (notification) {
  notification.close();
  let target = new URL(notification.data && notification.data.url || "/notifications", self.location.origin);
  if (target.origin !== self.location.origin) { target = new URL("/notifications", self.location.origin); }
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    // focus() is refused without a tap (a test, a background run): the page is shown all the same.
    const focus = (w) => ("focus" in w ? w.focus().catch(() => w) : w);
    for (const w of windows) { if (w.url === target.href) { return focus(w); } }
    const open = () => self.clients.openWindow(target.href);
    // navigate() works only on a window this worker controls; any other is left alone.
    const ours = windows.find((w) => "navigate" in w && w.url.startsWith(self.location.origin + "/"));
    if (ours) { return ours.navigate(target.href).then((moved) => (moved ? focus(moved) : open()), open); }
    return open();
  });
};

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(self.openNotification(event.notification));
});
