// Sync: drafts to PUT /draft, then the outbox (photos first, then submissions), one tab at a time.
// Every outbox entry carries a client UUID (photo client_id / Idempotency-Key), so a replay after
// a lost response, or a second tab racing this one, returns the stored record — never a copy.
import { ApiError, NetworkError, lastContact, refreshSession, request } from "./api.js";
import * as store from "./store.js";

const LOCK = "inspect-sync";
const LEASE_MS = 30000;
const tabId = store.uuid();
export const status = new EventTarget();  // "status" events: {state, message}
let currentUser = null;
let draftTimer = null;
let running = null;  // this tab's sync under way
let queued = null;   // one more asked for while it runs
let busyTimer = null;
const BUSY_RETRY_MS = 2000;

export function setUser(username) { currentUser = username; }
const emit = (state, extra = {}) => status.dispatchEvent(new CustomEvent("status", { detail: { state, ...extra } }));

// Only one tab (or the service worker) flushes at a time: Web Locks where available, otherwise
// a lease record in IndexedDB. Either way the server's idempotency keys make overlaps harmless.
async function exclusively(fn) {
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => (lock ? fn() : "busy"));
  }
  const now = Date.now();
  let mine = false;
  await store.patchMeta("lease", (lease) => {
    if (lease && lease.owner !== tabId && lease.until > now) return undefined;
    mine = true;
    return { owner: tabId, until: now + LEASE_MS };
  });
  if (!mine) return "busy";
  try { return await fn(); } finally { await store.patchMeta("lease", () => ({ owner: null, until: 0 })); }
}

// Run a sync now. Resolves when done. A call made while a sync runs in this tab asks for one
// more after it: the running one may have read the outbox before the change that called (a
// refused submission the person has just told to retry would otherwise wait for the next timer).
export function flush() {
  if (running) {
    if (!queued) queued = running.then(() => { queued = null; return flush(); });
    return queued;
  }
  // cleared after the fact: a flush that returns at once must not leave itself "running"
  const current = syncOnce().finally(() => { if (running === current) running = null; });
  running = current;
  return current;
}

async function syncOnce() {
  if (!navigator.onLine) { emit("offline"); return "offline"; }
  try {
    const began = Date.now();
    const outcome = await exclusively(async () => {
      emit("syncing");  // only once this tab holds the lock: a busy retry does not flicker the bar
      await syncDrafts();
      await flushOutbox();
      // Nothing needed sending: ask the server all the same. On Wi-Fi without internet every
      // read is the service worker's copy, and "last sync" must not claim a server not reached.
      if (lastContact() < began) await refreshSession();
      return "done";
    });
    if (outcome === "done") await store.setMeta("lastSync", new Date().toISOString());
    // another tab holds the lock and may have read the outbox before this change: try again soon
    if (outcome === "busy" && !busyTimer) busyTimer = setTimeout(() => { busyTimer = null; flush(); }, BUSY_RETRY_MS);
    emit(outcome === "busy" ? "busy" : "idle");
    return outcome;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { emit("login"); return "login"; }
    if (error instanceof NetworkError) { emit("offline"); return "offline"; }
    emit("error", { message: String(error && error.message) });
    return "error";
  }
}

// After each change: sync the draft a moment later (one request for a burst of taps).
export function scheduleDraftSync(delay = 1200) {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(flush, delay);
}

const mine = (record) => !currentUser || !record.user || record.user === currentUser;

// The items of a mystery visit whose value the server derives from the visit's times.
function derivedCodes(form) {
  const items = (form.inspection && form.inspection.checklist.items) || [];
  if (!form.inspection || form.inspection.mode !== "mystery_visit") return new Set();
  return new Set(items.filter((i) => i.config && i.config.derived_from).map((i) => i.code));
}
const derivedValue = (answer) => (answer && answer.value === "na" ? "na" : null);

// What the server takes as a draft or submission: answered items only. A derived item's value is
// computed by the server from the visit's events: only its note and a 不适用 are sent.
export function cleanAnswers(form) {
  const derived = derivedCodes(form);
  const out = {};
  for (const [code, answer] of Object.entries(form.answers || {})) {
    if (!answer) continue;
    const value = derived.has(code) ? derivedValue(answer)
      : answer.value === "" || answer.value === undefined ? null : answer.value;
    const note = answer.note ? answer.note : null;
    if (value === null && note === null) continue;
    out[code] = { value, note };
  }
  return out;
}

async function syncDrafts() {
  const forms = (await store.allForms()).filter((f) => mine(f) && f.dirty && !f.submission && !f.conflict && !f.gone && f.inspection);
  let resend = false;
  for (const form of forms) {
    const sentAt = form.changedAt;
    const body = { version: form.version, answers: cleanAnswers(form) };
    if (form.inspection.mode === "mystery_visit") body.events = form.events || {};
    try {
      const { data } = await request("PUT", `/api/v1/inspections/${form.id}/draft`, { json: body });
      // what the server could not take (the rest is saved): shown on the items and in the bar
      const left = { items: data.problems || {}, events: data.event_problems || {} };
      const draftProblems = Object.keys(left.items).length || Object.keys(left.events).length ? left : null;
      await store.patchForm(form.id, (f) => ({ ...f, version: data.version, dirty: f.changedAt !== sentAt, draftError: null, draftProblems, syncedAt: Date.now() }));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 401) throw error;
      if (noLongerTheirs(error)) {
        await store.markGone(form.id);
      } else if (error.code === "not_editable") {
        // cancelled or submitted elsewhere: nothing left to save, so stop retrying. Neither is
        // an error to fix: the task list shows a cancelled task with its local copy, and the
        // form shows another device's submission, saying what of this phone's it lacks.
        const server = await refreshServerCopy(form.id, { refused: true });
        const settled = Boolean(server && (server.status === "cancelled" || store.SUBMITTED.includes(server.status)));
        await store.patchForm(form.id, (f) => ({ ...f, dirty: false, draftError: settled ? null : { message: error.message, details: null } }));
      } else if (error.status === 409 && error.details && error.details.server) {
        // The server's copy holds nothing the phone lacks — this phone's own save whose answer
        // was lost on the way, or a planner's change of the window: sent again on its version,
        // with no conflict of two copies for the person to settle. Anything else is one.
        const server = error.details.server;
        const held = await store.patchForm(form.id, (f) => (covers(f, server) ? { ...f, version: server.version } : { ...f, conflict: server }));
        if (held && held.conflict) emit("conflict", { form: form.id });
        else resend = true;
      } else {
        await store.patchForm(form.id, (f) => ({ ...f, draftError: { message: error.message, details: error.details } }));
      }
    }
  }
  if (resend) scheduleDraftSync(0);
}

// An entry that met a write conflict waits the server's Retry-After before it is sent again:
// a sync is run for it then (sending it at once, on whatever sync comes next, would meet the
// same conflict).
let waitTimer = null;
function waiting(entry) {
  const wait = (entry.notBefore || 0) - Date.now();
  if (wait <= 0) return false;
  if (!waitTimer) waitTimer = setTimeout(() => { waitTimer = null; flush(); }, wait + 50);
  return true;
}

async function flushOutbox() {
  const entries = (await store.outbox()).filter(mine).sort((a, b) => a.created - b.created);
  const photos = entries.filter((e) => e.kind === "photo" || e.kind === "unphoto");
  const submissions = entries.filter((e) => e.kind === "submit");
  for (const entry of photos) {
    if (entry.error) continue;  // rejected: waits for the user to retry or discard it
    if (waiting(entry)) continue;
    await send(entry, () => (entry.kind === "unphoto" ? removePhoto(entry) : uploadPhoto(entry)));
  }
  const now = await store.outbox();
  // a photo the server refused waits for the person, not the submission: the server judges
  // the form without it (a photo it needs is then named in the submission's refusal)
  const left = new Set(now.filter((e) => (e.kind === "photo" || e.kind === "unphoto") && !e.error).map((e) => e.inspection_id));
  const still = new Set(now.map((e) => e.id));  // a refused photo may have settled its task
  let withdrawn = false;
  for (const entry of submissions) {
    if (entry.error || left.has(entry.inspection_id) || !still.has(entry.id)) continue;  // photos first
    if (waiting(entry)) continue;
    withdrawn = (await send(entry, () => submit(entry))) === WITHDRAWN || withdrawn;
  }
  if (withdrawn) await syncDrafts();  // their answers, kept on the server as drafts at once
}

// What send() resolves with for a submission that went back to being a draft.
const WITHDRAWN = "withdrawn";

// Whether the phone's answers and visit times hold everything the server's draft does, each as
// the server has it. The server's copy of a task whose window the planner moved has a newer
// version than the phone's without newer answers: sent on that version, the phone's draft then
// loses nothing, and the person has no conflict of two copies to settle. (Any answer only the
// server has, or has otherwise — a teammate's — is a conflict, settled as usual.)
function covers(form, server) {
  const mine = cleanAnswers(form);
  const derived = derivedCodes(form);  // the server's copy holds their value from the same times
  const said = (a) => JSON.stringify([a && a.value !== undefined ? a.value : null, (a && a.note) || null]);
  const theirs = (code, a) => (derived.has(code) ? { value: derivedValue(a), note: a && a.note } : a);
  const answers = Object.entries(server.answers || {}).every(([code, a]) => said(theirs(code, a)) === said({ value: null }) || said(theirs(code, a)) === said(mine[code]));
  const events = Object.entries(server.events || {}).every(([name, at]) => (form.events || {})[name] === at);
  return answers && events;
}

async function send(entry, action) {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;  // retried later
    if (error.status === 409 && error.code === "submission_in_progress") return;  // still running
    if (error.code === "write_conflict" && await store.countConflict(entry.id, 1000 * (error.retryAfter || 1)) < store.CONFLICT_RETRIES) return;  // sent again shortly
    if (error.code === NOT_OPEN && entry.kind === "submit") {
      // before the task's window opens (the planner moved it, or the phone's date is ahead):
      // no error to fix and no use retrying. The form is a draft again, saying when it opens;
      // the server's copy tells the form the window it now has.
      await store.withdrawSubmission(entry, { message: error.message, opens_on: (error.details || {}).opens_on || null });
      const server = await refreshServerCopy(entry.inspection_id);
      if (server) await store.patchForm(entry.inspection_id, (f) => (f && covers(f, server) ? { ...f, version: server.version } : f));
      return WITHDRAWN;
    }
    await store.setOutboxError(entry.id, { status: error.status, code: error.code, message: error.message, details: error.details || null });
    // refused because the task is closed: learn whether it was cancelled (see summary()) or
    // submitted from another device (the entry then goes: see store.rememberServerCopy)
    if (CLOSED.includes(error.code)) await refreshServerCopy(entry.inspection_id, { refused: true });
    if (noLongerTheirs(error)) await store.markGone(entry.inspection_id);
  }
}

const CLOSED = ["not_editable", "inspection_cancelled", "already_submitted", "photo_locked"];
// what the server says of a submission made before the task's window opens
export const NOT_OPEN = "not_open_yet";
// what the server says of a task this person no longer has (reassigned, or out of their reach)
export const GONE = "inspection_not_found";
// what it says of one given to them that they may no longer fill (their role was withdrawn or
// moved since): it waits for the planner to give it to someone else, as if reassigned already
const NOT_ELIGIBLE = "not_eligible";
const noLongerTheirs = (error) => error.code === GONE || error.code === NOT_ELIGIBLE;

// The server's copy of one inspection, kept on the phone (null if it is gone for this user).
async function refreshServerCopy(id, { refused = false } = {}) {
  try {
    const { data } = await request("GET", `/api/v1/inspections/${id}`);
    await store.rememberServerCopy(data, currentUser, { refused });
    return data;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;
    return null;
  }
}

export const isCancelled = (form) => Boolean(form && form.inspection && form.inspection.status === "cancelled");
export const isGone = (form) => Boolean(form && form.gone);
// Nothing held for it will be uploaded any more: cancelled, or no longer this person's task.
export const isClosed = (form) => isCancelled(form) || isGone(form);

async function uploadPhoto(entry) {
  const photo = (await store.photosOf(entry.inspection_id)).find((p) => p.client_id === entry.id);
  if (!photo) { await store.removePhoto(entry.id); return; }
  const form = new FormData();
  form.append("file", photo.blob, "photo.jpg");
  form.append("client_id", photo.client_id);
  form.append("item_code", photo.item_code);
  form.append("purpose", photo.purpose || "before");
  form.append("client_facts", JSON.stringify(photo.facts || {}));
  const { data } = await request("POST", `/api/v1/inspections/${entry.inspection_id}/photos`, { form });
  const removal = await store.markPhotoUploaded(entry, data);
  if (removal) await send(removal, () => removePhoto(removal));  // taken back while going up
}

// A photo removed from the form: one the server no longer has (removed already) is done too.
async function removePhoto(entry) {
  try {
    await request("DELETE", `/api/v1/photos/${entry.photo_id}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "photo_not_found")) throw error;
  }
  await store.finishPhotoRemoval(entry);
}

async function submit(entry) {
  const { data } = await request("POST", `/api/v1/inspections/${entry.inspection_id}/submit`, {
    json: entry.payload, headers: { "Idempotency-Key": entry.id },
  });
  await store.finishSubmission(entry, data);
}

// The numbers the sync bar shows.
// A closed task's leftovers (cancelled, or no longer this person's) are not pending work and not
// errors: nothing will ever be uploaded for it; the task list offers to discard them.
export async function summary() {
  const all = (await store.allForms()).filter(mine);
  const closed = new Set(all.filter(isClosed).map((f) => f.id));
  const entries = (await store.outbox()).filter((e) => mine(e) && !closed.has(e.inspection_id));
  const forms = all.filter((f) => !closed.has(f.id) && (f.dirty || f.conflict || f.draftError || (f.draftProblems && !f.submission)));
  // each refusal says what it is and where: the outlet and the item (the bar is on every page)
  const errors = [];
  for (const entry of entries.filter((e) => e.error)) {
    const held = all.find((f) => f.id === entry.inspection_id);
    let code = entry.item_code;
    if (!code && entry.kind === "photo") code = ((await store.photosOf(entry.inspection_id)).find((p) => p.client_id === entry.id) || {}).item_code;
    errors.push({ ...entry, item_code: code || null, outlet: (held && held.inspection && held.inspection.outlet && held.inspection.outlet.name) || null });
  }
  return {
    pending: entries.length + forms.filter((f) => !f.submission).length,
    errors,
    conflicts: forms.filter((f) => f.conflict).map((f) => f.id),
    draftErrors: forms.filter((f) => f.draftError),
    draftProblems: forms.filter((f) => f.draftProblems && !f.submission),
    lastSync: await store.getMeta("lastSync"),
  };
}
