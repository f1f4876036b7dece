// Shared by every page: strings, the service worker, persistent storage, the sync bar and loop.
import { reach, setCsrf } from "./api.js";
import * as store from "./store.js";
import { flush, setUser, status, summary } from "./sync.js";

const strings = JSON.parse(document.body.dataset.strings || "{}");
export const t = (key, vars = {}) => (strings[key] || key).replace(/\{(\w+)\}/g, (_, name) => (name in vars ? vars[name] : ""));
// The keys of a family of strings, e.g. keysWith("cat_") → the appeal categories, in order.
export const keysWith = (prefix) => Object.keys(strings).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
export const user = document.querySelector('meta[name="app-user"]')?.content || null;

// Today's date (YYYY-MM-DD) where the bank is — what the server judges deadlines by — whatever
// time zone the phone is set to.
export function bankToday() {
  return bankDate(new Date());
}

// The bank's date (YYYY-MM-DD) of a moment (a Date or an ISO timestamp from the API).
export function bankDate(moment) {
  const when = new Date(moment);
  try {
    return when.toLocaleDateString("sv-SE", { timeZone: document.body.dataset.timezone || undefined });
  } catch (error) {
    return when.toLocaleDateString("sv-SE");  // an unknown zone: the phone's own date
  }
}
export const RUNTIME_CACHE = "inspect-runtime-v1";
const $ = (id) => document.getElementById(id);

setCsrf(document.querySelector('meta[name="csrf-token"]')?.content || null, user);
setUser(user);

// The pages and API answers kept for offline use are the copies of whoever was signed in when
// they were kept. Another person signed in on the same phone (a shared outlet phone), or the
// sign-in page itself, drops them: nobody is shown another's tasks or results offline, and no
// page of another's is left to sync in this one's session (see api.js, refreshSession). What
// the phone holds of each person's own work (IndexedDB) stays theirs, shown to them alone.
const OWNER = "inspect-runtime-owner";
const cacheOwned = (async () => {
  if (!("caches" in window)) return;
  try {
    if (localStorage.getItem(OWNER) === (user || "")) return;
    await caches.delete(RUNTIME_CACHE);
    localStorage.setItem(OWNER, user || "");
  } catch (error) { console.warn("offline copies", error); }
})();

// A text with each of its dates (2026-12-01, or with a time) kept on one line, for el(): in
// English a line holds fewer words and Chromium breaks a date at its hyphens ("2026-" / "11-30").
const DATES = /\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?/g;
export function dated(text) {
  const parts = [];
  let last = 0;
  for (const found of String(text).matchAll(DATES)) {
    if (found.index > last) parts.push(text.slice(last, found.index));
    parts.push(el("span", { class: "date" }, found[0]));
    last = found.index + found[0].length;
  }
  if (last < String(text).length) parts.push(String(text).slice(last));
  return parts;
}

// A task's window in words: "期限：2026-12-01 至 2026-12-07", or one day as one date.
export const dueText = (start, end) => (start === end || !end ? t("due_on", { day: start }) : t("due", { start, end }));

// A score (a total, a section's points or percentage) as managers' pages and PDFs write it:
// two decimals, 98.20 and 100.00; "—" for none.
export const scoreText = (n) => (n === null || n === undefined ? "—" : Number(n).toFixed(2));

// A number with its unit as people write it: "15 分钟", "3 个" — but "5%", never "5 %".
export const withUnit = (value, unit) => (!unit ? String(value) : unit === "%" ? `${value}%` : `${value} ${unit}`);

// Build DOM without innerHTML: el("p", {class: "x"}, "text", child…)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Thumbnails that open the photo large, each with the evidence flags the server sends its
// reviewers (re-used, no camera data, too far away, outside the window): seen before deciding.
// ``mark`` names a data attribute that carries each photo's id.
export function photoThumbs(photos, { alt = "", mark = null } = {}) {
  return el("ul", { class: "thumbs" }, photos.map((p) => el("li", { class: "thumb" },
    el("a", { href: p.display_url, target: "_blank", rel: "noopener" },
      el("img", { src: p.thumbnail_url, alt, width: "72", height: "72", loading: "lazy", ...(mark ? { [mark]: p.id } : {}) })),
    (p.flags || []).map((flag) => el("span", { class: "tag red flag", "data-flag": flag.code }, flag.label)))));
}

// 逾期提交 beside an inspection submitted after its window, wherever it is listed. The API
// leaves submitted_late out where the window is not the reader's to know (a mystery visit, to
// the outlet), so nothing shows there.
export const lateTag = (inspection) => (inspection.submitted_late
  ? el("span", { class: "tag", "data-late": inspection.id }, t("submitted_late")) : null);

// "M-DD HH:MM" of a moment where the bank is (the time the server's pages and PDFs show),
// whatever time zone the phone is set to; the phone's own clock if the zone is unknown.
export const fmtTime = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  try {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: document.body.dataset.timezone || undefined, month: "numeric", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(d).map((p) => [p.type, p.value]));
    return `${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  } catch (error) {
    return `${d.getMonth() + 1}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
};

// When the phone last synced: the time alone if it was today (the bar stays one line on a
// phone), the day as well if not.
const syncTime = (iso) => {
  const shown = fmtTime(iso);
  return bankDate(iso) === bankToday() ? shown.split(" ")[1] : shown;
};

// Keep pages and API answers for offline use (the service worker also caches as it goes;
// this covers the first visit, before the worker controls the page).
export async function keepForOffline(urls) {
  if (!("caches" in window)) return;
  await cacheOwned;
  const cache = await caches.open(RUNTIME_CACHE);
  await Promise.all(urls.map(async (url) => {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
      if (response.ok && !response.redirected) await cache.put(url, response);
    } catch (error) { /* offline: keep what is cached */ }
  }));
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "flush") flush();
    });
    if (user) {  // signed in: the menu's pages can now be kept for offline use
      await cacheOwned;
      const registration = await navigator.serviceWorker.ready;
      registration.active?.postMessage({ type: "keep-pages" });
    }
  } catch (error) { console.warn("service worker", error); }
}

// Ask the browser to run a sync when the network returns, even if this tab is closed.
export async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker.ready;
    if (registration.sync) await registration.sync.register("outbox");
  } catch (error) { /* not supported: the online event and the timer still flush */ }
}

let persisted = false;
async function askPersistence() {
  if (navigator.storage && navigator.storage.persist) {
    persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  }
}

let unreachable = false;  // the last sync found no server, though the phone says it is online

async function renderBar(detail = {}) {
  const bar = $("syncbar");
  if (!bar) return;
  const s = await summary();
  // online by the phone's account (Wi-Fi) is not the server reached: the last sync says which
  if (detail.state === "offline") unreachable = navigator.onLine;
  else if (detail.state === "idle" || !navigator.onLine) unreachable = false;
  $("sync-net").textContent = !navigator.onLine ? t("offline") : unreachable ? t("unreachable") : t("online");
  $("sync-net").className = "net " + (navigator.onLine && !unreachable ? "on" : "off");
  $("sync-pending").textContent = detail.state === "syncing" ? t("syncing") : s.pending ? t("pending", { n: s.pending }) : t("all_synced");
  $("sync-last").textContent = s.lastSync ? t("last_sync", { time: syncTime(s.lastSync) }) : t("never_synced");
  bar.dataset.pending = String(s.pending);
  const error = $("sync-error");
  error.replaceChildren();
  if (detail.state === "login") error.append(el("span", {}, t("login_again"), " "), el("a", { href: "/login?next=" + encodeURIComponent(location.pathname) }, t("login")));
  for (const entry of s.errors) {
    const what = t(entry.kind === "photo" ? "photo" : entry.kind === "unphoto" ? "remove_photo" : "submit");
    const label = [entry.outlet, entry.item_code, what].filter(Boolean).join(" ");
    error.append(el("span", { class: "entry-error" }, t("sync_error", { message: `${label} · ${entry.error.message}` }),
      el("button", { type: "button", class: "small", onclick: async () => { await store.retryEntry(entry.id); flush(); } }, t("retry")),
      el("button", { type: "button", class: "small", onclick: async () => { if (confirm(t("discard_confirm"))) await store.discardEntry(entry.id); } }, t("discard"))));
  }
  for (const form of s.draftErrors) error.append(el("span", { class: "entry-error" }, t("sync_error", { message: form.draftError.message })));
  // answers the server could not take, by item (the rest of the draft is saved): which task, which items
  for (const form of s.draftProblems) {
    const named = [...Object.keys(form.draftProblems.items || {}), ...Object.keys(form.draftProblems.events || {}).map((name) => t(name))];
    error.append(el("span", { class: "entry-error", "data-draft-problems": form.id },
      el("a", { href: `/tasks/${form.id}` }, t("draft_problems", { outlet: form.inspection.outlet.name, items: named.join("、") }))));
  }
  error.hidden = !error.childNodes.length;
  const warn = $("sync-warn");
  warn.textContent = s.pending && !persisted ? t("not_persistent") : "";
  warn.hidden = !warn.textContent;
  renderCopy();
}

// What this page shows came (in part) from the service worker's offline copy: say from when,
// and once the server answers again, offer to reload (the page is not redrawn under the
// person's fingers).
let copyFrom = null;  // the oldest copy shown, as a time
let reachedSince = false;
reach.addEventListener("copy", (e) => {
  const made = Date.parse(e.detail.date || "") || Date.now();
  copyFrom = copyFrom === null ? made : Math.min(copyFrom, made);
  reachedSince = false;
  renderCopy();
});
reach.addEventListener("contact", () => {
  if (copyFrom !== null && !reachedSince) { reachedSince = true; renderCopy(); }
});

function renderCopy() {
  const line = $("sync-copy");
  if (!line) return;
  line.hidden = copyFrom === null;
  if (copyFrom === null) return;
  const time = syncTime(new Date(copyFrom).toISOString());
  line.replaceChildren(reachedSince ? t("offline_copy_reached", { time }) : t("offline_copy", { time }));
  if (reachedSince) {
    line.append(" ", el("button", { type: "button", class: "small", id: "sync-reload", onclick: () => location.reload() }, t("reload")));
  }
}

export function start() {
  registerWorker();
  askPersistence().then(() => renderBar());
  status.addEventListener("status", (e) => renderBar(e.detail));
  store.changed.addEventListener("change", () => renderBar());
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("inspect-sync") : null;
  if (channel) {
    // another tab synced or changed a form: what this tab shows may have changed underneath it
    channel.onmessage = (e) => store.changed.dispatchEvent(new CustomEvent("change", {
      detail: e.data && e.data.type === "changed" && e.data.form != null ? { form: e.data.form, remote: true } : { remote: true } }));
    status.addEventListener("status", (e) => { if (e.detail.state === "idle") channel.postMessage("synced"); });
    store.changed.addEventListener("change", (e) => {
      if (!e.detail.remote) channel.postMessage({ type: "changed", form: e.detail.form ?? null });
    });
  }
  window.addEventListener("online", () => { renderBar(); flush(); });
  window.addEventListener("offline", () => renderBar());
  $("sync-now")?.addEventListener("click", () => flush());
  setInterval(flush, 30000);
  document.getElementById("logout-form")?.addEventListener("submit", () => caches.delete(RUNTIME_CACHE));
  flush();
}

if (!document.body.dataset.strings) registerWorker();  // plain pages (sign-in, home)
