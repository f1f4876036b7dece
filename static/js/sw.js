// The service worker: the app shell from the cache, API reads network-first with the cache as
// fallback, writes never cached. Served by Flask at /sw.js with the placeholders filled in.
const VERSION = "__VERSION__";
const SHELL_CACHE = "inspect-shell-" + VERSION;
const RUNTIME_CACHE = "inspect-runtime-v1";  // pages and API answers; survives new versions
const PRECACHE = __PRECACHE__;
const PAGES = __PAGES__;
const FORM_SHELL = "/__shell__/form";
const RESULT_SHELL = "/__shell__/result";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    // One by one: a file that fails now is fetched (and cached) on first use instead of
    // failing the whole installation.
    await Promise.all(PRECACHE.map((url) => shell.add(url).catch((error) => console.warn("precache", url, error))));
    await keepPages();
    await self.skipWaiting();
  })());
});

// The menu's pages, for offline use. Only kept when signed in (a redirect to the sign-in page
// is not a page): a worker installed on the sign-in page keeps none, so every signed-in page
// asks again (``missingOnly``: a page already kept is refreshed as it is visited instead).
async function keepPages({ missingOnly = false } = {}) {
  const runtime = await caches.open(RUNTIME_CACHE);
  await Promise.all(PAGES.map(async (url) => {
    if (missingOnly && await runtime.match(url)) return;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok && !response.redirected) await runtime.put(url, response);
    } catch (error) { /* offline: pages are cached on their next visit */ }
  }));
}

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "keep-pages") event.waitUntil(keepPages({ missingOnly: true }));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("inspect-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

const isApiRead = (url) => /^\/api\/v1\/(inspections|me|rectification\/items|photos\/\d+\/thumb)/.test(url.pathname);
const shellFor = (path) => (/^\/tasks\/\d+$/.test(path) ? FORM_SHELL : /^\/results\/\d+$/.test(path) ? RESULT_SHELL : null);

function marked(response) {
  // Tell the page an answer came from the cache (it shows "offline copy" states).
  const headers = new Headers(response.headers);
  headers.set("X-From-Cache", "1");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request, { navigation = false } = {}) {
  const url = new URL(request.url);
  const cache = await caches.open(RUNTIME_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(request, response.clone());
      const shell = navigation && shellFor(url.pathname);
      if (shell) await cache.put(shell, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: navigation })
      || (navigation && shellFor(url.pathname) && await cache.match(shellFor(url.pathname)));
    if (cached) return navigation ? cached : marked(cached);
    if (navigation) {
      const home = await cache.match("/");
      if (home) return home;
    }
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;  // writes go to the network, never to a cache
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, { navigation: true }));
  } else if (isApiRead(url)) {
    event.respondWith(networkFirst(request));
  } else if (PRECACHE.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

// Background Sync: wake an open page to flush its outbox (the page holds the session's CSRF
// token and the flush logic; without an open page the next start flushes).
self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window" });
    for (const page of pages) page.postMessage({ type: "flush" });
  })());
});
