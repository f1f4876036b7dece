// 我的任务: assignments grouped by today / overdue / upcoming / done (and cancelled or reassigned ones the phone still holds), each with its sync state;
// every open form is fetched and kept on the phone as soon as the list loads.
import { ApiError, getJSON, noteCopy } from "./api.js";
import { bankToday, dated, dueText, el, keepForOffline, lateTag, start, t, user } from "./app.js";
import * as store from "./store.js";
import { GONE, flush, isClosed } from "./sync.js";

const $ = (x) => document.getElementById(x);
const OPEN = store.EDITABLE_STATUSES;
const GROUPS = ["today", "overdue", "upcoming", "done", "cancelled"];
// the lists this page reads: kept for offline use with the page (the same URLs, the same keys)
const OPEN_LIST = `/api/v1/inspections?mine=true&${OPEN.map((status) => `status=${status}`).join("&")}&per_page=200`;
// the 10 submitted last (not those due last: a task of a long window sent today comes first)
const DONE_LIST = "/api/v1/inspections?mine=true&status=submitted&status=final&order=recent&per_page=10";
const today = bankToday();  // YYYY-MM-DD where the bank is, as the form's late warning

// A submission on the phone counts as done unless the server refused it (or one of its photos,
// which it waits for): it then waits for the person among the open tasks, marked 有错误.
function group(task, local, entries) {
  if (task.status === "cancelled" || task.gone) return "cancelled";
  const refused = Boolean(local) && entries.some((e) => e.inspection_id === local.id && e.error);
  if (!OPEN.includes(task.status) || (local && local.submission && !refused)) return "done";
  if (task.due_end && task.due_end < today) return "overdue";
  if (task.due_start && task.due_start > today) return "upcoming";
  return "today";
}

function syncState(task, local, entries) {
  if (task.gone) return ["gone", t("gone")];
  if (task.status === "cancelled") return ["cancelled", task.status_label];
  // nothing on this phone: a finished task (e.g. filled on another device) shows its status
  if (!local) return OPEN.includes(task.status) ? ["new", t("state_new")] : ["synced", task.status_label];
  const mine = entries.filter((e) => e.inspection_id === local.id);
  if (mine.some((e) => e.error) || local.conflict || local.draftError || (local.draftProblems && !local.submission)) return ["error", t("state_error")];
  if (local.submission && local.submission.state !== "done") return ["queued", t("state_queued")];
  if (local.dirty || mine.length) return ["local", t("state_local")];
  if (local.submission) return ["synced", t("submitted")];
  // the list keeps every open form on the phone: a copy with nothing in it is a task not started
  if (OPEN.includes(task.status) && !started(local)) return ["new", t("state_new")];
  return ["synced", t("state_synced")];
}

// Whether anything was done for a task, on this phone or (as last fetched) on the server:
// an answer or note, a mystery-visit time, a photo.
function started(local) {
  const answered = Object.values(local.answers || {}).some((a) => a && ((a.value ?? "") !== "" || a.note));
  const photos = Object.values((local.inspection && local.inspection.photos) || {}).some((list) => list.length);
  return answered || Object.keys(local.events || {}).length > 0 || photos;
}

async function render(tasks) {
  const forms = new Map((await store.allForms()).map((f) => [f.id, f]));
  const entries = await store.outbox();
  for (const name of GROUPS) {
    $(`tasks-${name}`).querySelector("ul").replaceChildren();
    $(`tasks-${name}`).hidden = true;
  }
  for (const task of tasks) {
    const local = forms.get(task.id);
    const [state, label] = syncState(task, local, entries);
    const section = $(`tasks-${group(task, local, entries)}`);
    section.hidden = false;
    section.querySelector("ul").append(el("li", {},
      el("a", { class: "task", href: `/tasks/${task.id}`, "data-task": task.id },
        el("strong", {}, task.outlet.name),
        el("span", { class: "muted", "data-where": task.id }, where(task)),
        el("span", { class: "muted" }, [task.mode_label, statusText(task)].join(" · ")),
        task.due_start ? el("span", { class: "muted" }, dated(dueText(task.due_start, task.due_end))) : null,
        el("span", { class: `badge sync-${state}`, "data-sync-state": state }, label), lateTag(task)),
      ["cancelled", "gone"].includes(state) && local ? discardButton(task) : null));
  }
  $("tasks-status").textContent = tasks.length ? "" : t("empty");
  $("tasks-status").hidden = Boolean(tasks.length);
}

// Which outlet: its sub-branch and code (outlet names repeat across sub-branches).
function where(task) {
  return [task.subbranch && task.subbranch.name, task.outlet.code].filter(Boolean).join(" · ");
}

// A task's state as its person reads it: a cancelled one with the planner's reason.
function statusText(task) {
  if (task.gone) return t("gone");
  if (task.status === "cancelled" && task.cancel_reason) return t("cancelled_because", { reason: task.cancel_reason });
  return task.status_label;
}

// A cancelled or reassigned task is kept on the phone until its person lets it go: answers and
// photos that were never uploaded are theirs to throw away, not the app's.
function discardButton(task) {
  const question = t(task.gone ? "discard_gone_confirm" : "discard_local_confirm");
  return el("button", { type: "button", class: "small discard-local", "data-discard": task.id,
    onclick: async () => { if (confirm(question)) await store.discardForm(task.id); } }, t("discard_local"));
}

// Tasks the list no longer carries (cancelled or reassigned since) that this phone still holds
// work for: ask the server where each stands, so a cancelled one shows as such, and one the
// server no longer shows this person as no longer theirs.
const shownAs = (form) => (form.gone ? { ...form.inspection, gone: true } : form.inspection);

async function leftOnPhone(listed) {
  const ids = new Set(listed.map((task) => task.id));
  const forms = (await store.allForms()).filter((f) => f.user === user && f.inspection && !ids.has(f.id)
    && !(f.submission && f.submission.state === "done"));
  const found = [];
  for (const form of forms) {
    if (isClosed(form)) { found.push(shownAs(form)); continue; }
    try {
      const inspection = await getJSON(`/api/v1/inspections/${form.id}`);
      const held = await store.rememberServerCopy(inspection, user);
      if (inspection.status === "cancelled") found.push(inspection);
      else if (held && held.gone) found.push(shownAs(held));  // no longer theirs to fill
    } catch (error) {
      if (!(error instanceof ApiError)) break;  // offline: next time
      if (error.code === GONE) found.push(shownAs(await store.markGone(form.id)));
    }
  }
  return found;
}

async function prefetch(tasks) {
  const open = tasks.filter((task) => OPEN.includes(task.status));
  const queue = [...open];
  const worker = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      try {
        const inspection = await getJSON(`/api/v1/inspections/${task.id}`, { shown: false });
        await store.rememberServerCopy(inspection, user);
      } catch (error) { /* offline: whatever is on the phone stays */ }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  // a task back with this person (given to someone else, then back) may hold answers only the
  // phone has: they go up now, not at the next timed sync
  flush();
  if (navigator.serviceWorker) {
    await navigator.serviceWorker.ready;
    await keepForOffline(["/tasks", OPEN_LIST, DONE_LIST, ...open.flatMap((task) => [`/tasks/${task.id}`, `/api/v1/inspections/${task.id}`])]);
  }
  document.documentElement.dataset.offlineReady = "1";
}

async function load() {
  let tasks;
  try {
    const open = (await getJSON(OPEN_LIST)).items;
    const done = (await getJSON(DONE_LIST)).items;
    tasks = [...open, ...done];
    tasks.push(...await leftOnPhone(tasks));
  } catch (error) {
    // No network and no cached list: show what the phone holds, as of its last sync (said).
    tasks = (await store.allForms()).filter((f) => f.user === user && f.inspection).map((f) => f.inspection);
    if (!(error instanceof ApiError)) noteCopy(await store.getMeta("lastSync"));
  }
  await render(tasks);
  store.changed.addEventListener("change", async () => {
    // a discarded cancelled (or reassigned) task leaves the list with its local copy
    const kept = new Set((await store.allForms()).map((f) => f.id));
    tasks = tasks.filter((task) => (task.status !== "cancelled" && !task.gone) || kept.has(task.id));
    render(tasks);
  });
  prefetch(tasks).then(() => render(tasks));
}

start();
load();
