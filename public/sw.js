// Member app service worker: a returning member's card page (and the points mall) starts
// without waiting for the network. Registered from index.html (the member app) and
// mall.html (the points mall); the staff app has no registration, and this worker leaves
// /staff/ alone even though its scope is "/".
//
// Two app shells, each with its own index.html and hashed assets:
// - the member app "/": navigations to member pages (/, /login, ...: any path
//   outside /staff/, /mall/ and /api/, other than /healthz and /metrics, whose last
//   segment has no dot; the server answers them all with the same index.html), other
//   than the mall's paths below;
// - the points mall "/mall/": navigations under /mall/, /coupons, /claim, /profile,
//   /tiers, /growth, /inbox and /points
//   (the server answers them with dist/mall/index.html).
// Navigations are stale-while-revalidate: the cached shell answers at once and a fresh
// copy replaces it in the background. Trunk's content-hashed files (member-<hex>.js,
// /mall/mall-<hex>_bg.wasm, ...) are cache-first: a name never changes its content.
// /api/ is never intercepted (network only, never cached): the card data is the app's
// business (it keeps its own copy in localStorage and refreshes it from the API).
//
// Deploys: index.html names the hashed assets of its build. The visit after a deploy still
// gets the old index.html (and the old assets, kept in the cache) from this worker, while
// the background refresh stores the new index.html and fetches the new assets it names; so
// the visit after that runs the new build. Assets of a shell named by neither its new nor
// its previous index.html are dropped then. Changing this file itself is picked up by the
// browser's update check (the server sends /sw.js with no-cache); bump VERSION when the
// cache layout changes: activate deletes every other mc-shell-* cache.
"use strict";

const VERSION = "v3";
const CACHE = "mc-shell-" + VERSION;
// Each shell's hashed build outputs live directly in its folder (the staff app's live
// under /staff/ and are never cached). Trunk's hash is a u64 in hex without leading
// zeros: usually 16 digits, sometimes fewer.
const SHELLS = {
  "/": /^\/[\w-]+-[0-9a-f]{8,16}(?:_bg\.wasm|\.js|\.css)$/,
  "/mall/": /^\/mall\/[\w-]+-[0-9a-f]{8,16}(?:_bg\.wasm|\.js|\.css)$/,
};

// The mall bundle also answers the coupon wallet, claim links, the profile and the tier
// screens (the
// server's static_files.rs APPS).
const MALL_PATHS = /^\/(?:mall|coupons|claim|profile|tiers|growth|inbox|points|join|invite)(?:\/|$)/;

function shellOf(path) {
  return MALL_PATHS.test(path) ? "/mall/" : "/";
}

function hashed(path) {
  return SHELLS[shellOf(path)].test(path);
}

function assetsOf(shell, html) {
  const found = new Set();
  for (const m of html.matchAll(/["'=](\/[\w/-]+-[0-9a-f]{8,16}(?:_bg\.wasm|\.js|\.css))/g)) {
    if (SHELLS[shell].test(m[1])) found.add(m[1]);
  }
  return found;
}

// Caches the assets a fresh index.html names, then stores it under its shell and drops
// that shell's hashed assets named by neither it nor the index.html it replaces. If any
// asset cannot be fetched, addAll rejects before the put: the old shell (whose assets are
// all cached) stays, so an offline visit still boots, and the next refresh tries again.
async function store(cache, shell, response) {
  const html = await response.clone().text();
  const old = await cache.match(shell, { ignoreVary: true });
  const keep = assetsOf(shell, html);
  const previous = old ? assetsOf(shell, await old.text()) : new Set();
  const missing = [];
  for (const path of keep) {
    if (!(await cache.match(path, { ignoreVary: true }))) missing.push(path);
  }
  // Usually straight from the HTTP cache: the page has just loaded them.
  await cache.addAll(missing);
  await cache.put(shell, response);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (SHELLS[shell].test(path) && !keep.has(path) && !previous.has(path)) {
      await cache.delete(request);
    }
  }
}

function usable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

async function refresh(shell) {
  const response = await fetch(shell, { credentials: "same-origin" });
  if (usable(response)) {
    await store(await caches.open(CACHE), shell, response);
  }
}

// The mall's shell is stored on its first visit, not here: most members may never open it.
self.addEventListener("install", (event) => {
  event.waitUntil(refresh("/").then(() => self.skipWaiting()));
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

// What a navigation gets when there is neither a cached shell nor a network (the mall
// opened offline before its first visit): a page that says so and retries, instead of
// the browser's error page. Worded in the member's language (their pick, else the
// browser's), both kept here since the app's texts are in its bundles.
const OFFLINE_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>网络不可用 · You're offline</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:3rem 1.5rem;text-align:center;color:#1f2933}
button{font:inherit;padding:.7rem 2rem;border-radius:.5rem;border:1px solid #c5ccd3;background:#fff}</style>
</head><body><main id="offline" class="offline-state">
<h1 id="offline-title">网络不可用</h1><p id="offline-hint">请检查网络连接后重试</p>
<button id="offline-retry" type="button" onclick="location.reload()">重试</button></main>
<script>
var en = (localStorage.getItem("mc.lang") || (/Language\/(\S+)/.exec(navigator.userAgent) || [])[1]
  || navigator.language || "zh").toLowerCase().indexOf("zh") !== 0;
if (en) {
  document.documentElement.lang = "en";
  document.getElementById("offline-title").textContent = "You're offline";
  document.getElementById("offline-hint").textContent = "Check your connection and try again";
  document.getElementById("offline-retry").textContent = "Retry";
}
</script></body></html>`;

function offlinePage() {
  return new Response(OFFLINE_PAGE, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

async function navigate(event, shell) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(shell, { ignoreVary: true });
  if (cached) {
    event.waitUntil(refresh(shell).catch(() => {}));
    return cached;
  }
  let response;
  try {
    response = await fetch(event.request);
  } catch (_) {
    return offlinePage();
  }
  if (usable(response)) {
    event.waitUntil(store(cache, shell, response.clone()).catch(() => {}));
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
    // The documents sign-up links to are server pages, not app screens.
    if (path === "/healthz" || path === "/metrics" || path === "/privacy" || path === "/terms") {
      return;
    }
    if (path.split("/").pop().includes(".")) return;
    event.respondWith(navigate(event, shellOf(path)));
  } else if (hashed(path)) {
    event.respondWith(cacheFirst(event));
  }
});
