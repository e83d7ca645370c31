// Member app service worker: a returning member's card page starts without waiting for
// the network. Registered from index.html (the member app) only; the staff app has no
// registration, and this worker leaves /staff/ alone even though its scope is "/".
//
// - Navigations to member pages (/, /login, /points, ...: any path outside /staff/ and
//   /api/, other than /healthz and /metrics, whose last segment has no dot; the server answers them all with the same
//   index.html) are stale-while-revalidate: the cached index.html answers at once and a
//   fresh copy replaces it in the background.
// - Trunk's content-hashed files (member-<16 hex>.js, member-<16 hex>_bg.wasm) are
//   cache-first: a name never changes its content.
// - /api/ is never intercepted (network only, never cached): the card data is the app's
//   business (it keeps its own copy in localStorage and refreshes it from the API).
//
// Deploys: index.html names the hashed assets of its build. The visit after a deploy still
// gets the old index.html (and the old assets, kept in the cache) from this worker, while
// the background refresh stores the new index.html and fetches the new assets it names; so
// the visit after that runs the new build. Assets named by neither the new nor the
// previous index.html are dropped then. Changing this file itself is picked up by the
// browser's update check (the server sends /sw.js with no-cache); bump VERSION when the
// cache layout changes: activate deletes every other mc-shell-* cache.
"use strict";

const VERSION = "v1";
const CACHE = "mc-shell-" + VERSION;
const SHELL = "/";
// Root-level hashed build outputs only (the staff app's live under /staff/).
const HASHED = /^\/[\w-]+-[0-9a-f]{16}(?:_bg\.wasm|\.js|\.css)$/;

function assetsOf(html) {
  const found = new Set();
  for (const m of html.matchAll(/["'=](\/[\w-]+-[0-9a-f]{16}(?:_bg\.wasm|\.js|\.css))/g)) {
    found.add(m[1]);
  }
  return found;
}

// Caches the assets a fresh index.html names, then stores it under SHELL and drops hashed
// assets named by neither it nor the index.html it replaces. If any asset cannot be
// fetched, addAll rejects before the put: the old shell (whose assets are all cached)
// stays, so an offline visit still boots, and the next refresh tries again.
async function store(cache, response) {
  const html = await response.clone().text();
  const old = await cache.match(SHELL, { ignoreVary: true });
  const keep = assetsOf(html);
  const previous = old ? assetsOf(await old.text()) : new Set();
  const missing = [];
  for (const path of keep) {
    if (!(await cache.match(path, { ignoreVary: true }))) missing.push(path);
  }
  // Usually straight from the HTTP cache: the page has just loaded them.
  await cache.addAll(missing);
  await cache.put(SHELL, response);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (HASHED.test(path) && !keep.has(path) && !previous.has(path)) {
      await cache.delete(request);
    }
  }
}

function usable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

async function refresh() {
  const response = await fetch(SHELL, { credentials: "same-origin" });
  if (usable(response)) {
    await store(await caches.open(CACHE), response);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(refresh().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((n) => n.startsWith("mc-shell-") && n !== CACHE)
            .map((n) => caches.delete(n)),
        ),
      ),
  );
});

async function shell(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(SHELL, { ignoreVary: true });
  if (cached) {
    event.waitUntil(refresh().catch(() => {}));
    return cached;
  }
  const response = await fetch(event.request);
  if (usable(response)) {
    event.waitUntil(store(cache, response.clone()).catch(() => {}));
  }
  return response;
}

async function cacheFirst(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(event.request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(event.request);
  if (usable(response)) {
    event.waitUntil(cache.put(event.request, response.clone()).catch(() => {}));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  // Network only, never cached: the API and the staff app.
  if (path.startsWith("/api/") || path === "/staff" || path.startsWith("/staff/")) return;
  if (request.mode === "navigate") {
    // Real files (/unsupported.html, ...) and the server's own endpoints go to the
    // network as usual.
    if (path === "/healthz" || path === "/metrics") return;
    if (path.split("/").pop().includes(".")) return;
    event.respondWith(shell(event));
  } else if (HASHED.test(path)) {
    event.respondWith(cacheFirst(event));
  }
});
