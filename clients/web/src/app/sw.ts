/// <reference lib="webworker" />
/**
 * The service worker: keeps the app's own files so that a check-in works with no
 * network (it needs no server) and sends nothing: a cached page is served from the
 * cache alone, so opening a code tells no server when. The app asks for an update
 * when it syncs; a release changes this script (its files' hash is built into it),
 * which installs the new files. The API is never cached: a sync goes to the
 * network or says that it is offline.
 */
declare const self: ServiceWorkerGlobalScope;
/** a hash of the cached files, put in by build.mjs */
declare const APP_VERSION: string;
export {};

const CACHE = `placecode-app-${APP_VERSION}`;
const APP_FILES = ["./", "index.html", "app.js", "app.css", "manifest.webmanifest", "icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(APP_FILES))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function isAppRequest(url: URL): boolean {
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return false;
  const rest = url.pathname.slice(scope.pathname.length);
  return !rest.startsWith("v1/") && rest !== "healthz" && rest !== "openapi.json";
}

/** The page itself, for `/` and the check-in path alike: the fragment is not part of the request. */
function cacheKey(request: Request): string {
  return request.mode === "navigate" ? new URL("index.html", self.registration.scope).href : request.url;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isAppRequest(url)) return;
  const key = cacheKey(event.request);
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(key);
      if (cached) return cached;
      const response = await fetch(event.request);
      if (response.ok) await cache.put(key, response.clone());
      return response;
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window" }).then((windows) => {
      const open = windows[0];
      return open ? open.focus() : self.clients.openWindow(self.registration.scope).then(() => undefined);
    }),
  );
});
