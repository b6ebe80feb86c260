// The service worker of /v/offline (served as /v/offline-worker.js): the page sends it the
// files it loaded, the worker keeps them, and when the network is gone it answers the page
// and its files from what it kept. Online, the network always wins and refreshes the copy,
// so a new seal key or a new script reaches the page on its next online visit.

const CACHE = "miz-verify-offline-1";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith("miz-verify-offline-")
      && name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("message", (event) => {
  const files = (event.data && event.data.keep) || [];
  const reply = event.ports[0];
  const ours = files.filter((url) => new URL(url).origin === self.location.origin);
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(ours))
    .then(() => reply && reply.postMessage({ kept: true }),
      () => reply && reply.postMessage({ kept: false })));
});

async function networkElseKept(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) { await cache.put(request, response.clone()); }
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) { return kept; }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  event.respondWith(networkElseKept(request));
});
