// What the phone keeps: every change to a form at once, photos as Blobs, and the outbox.
import * as idb from "./idb.js";

export const uuid = () => crypto.randomUUID();
export const changed = new EventTarget();  // "change" whenever local data moved
const notify = (detail) => changed.dispatchEvent(new CustomEvent("change", { detail }));

// When a form last changed on the phone, strictly increasing: a change made in the same
// millisecond as the copy a draft sync has just sent still differs from it, so that sync does
// not take it for sent (sync.js, syncDrafts) — nor would the server's copy then overwrite it.
export const changeStamp = (form) => Math.max(Date.now(), ((form && form.changedAt) || 0) + 1);

export const getForm = (id) => idb.get("forms", id);
export const allForms = () => idb.getAll("forms");
export const photosOf = (id) => idb.byIndex("photos", "inspection", id);
export const outbox = () => idb.getAll("outbox");

// Merge what the server sent into the local record. Local work is never overwritten: while the
// phone holds unsynced changes (or a queued submission), only the form definition is refreshed —
// unless the server's copy shows the task submitted from another device (see below).
// ``refused``: the server has just refused this phone's work for the task as closed.
export async function rememberServerCopy(inspection, user, { refused = false } = {}) {
  // A copy older than one the phone has already had (the service worker's cached answer when
  // offline, a read that crossed a draft's save): the server's version only ever grows, so it
  // tells nothing new — and taken, it would put back answers changed and synced since.
  const held = await getForm(inspection.id);
  if (stale(inspection, held)) return held;
  if (SUBMITTED.includes(inspection.status)) {
    const settled = await settleSubmittedElsewhere(inspection, user, refused);
    if (settled) {
      notify({ form: inspection.id });
      return settled;
    }
  }
  let reopened = false;
  const record = await idb.update("forms", inspection.id, (old) => {
    if (stale(inspection, old)) return undefined;
    // the server shows it to this person (again): it is theirs, whatever was noted before —
    // unless it says they may no longer fill it (a role withdrawn or moved: see noLongerFilled)
    const next = { id: inspection.id, findings: {}, dirty: false, submission: null, conflict: null, ...old, user, inspection, gone: noLongerFilled(inspection) };
    const localWork = old && (old.dirty || old.conflict || (old.submission && old.submission.state !== "done"));
    if (!localWork) {
      next.answers = inspection.answers || {};
      next.events = inspection.events || {};
      next.version = inspection.version;
      // answers and times the server could not take live on the phone only: keep them
      const left = old && !old.submission && old.draftProblems;
      if (left) {
        for (const code of Object.keys(left.items || {})) if (old.answers && old.answers[code]) next.answers = { ...next.answers, [code]: old.answers[code] };
        for (const name of Object.keys(left.events || {})) if (old.events && old.events[name]) next.events = { ...next.events, [name]: old.events[name] };
      }
    }
    if (SUBMITTED.includes(inspection.status) && !next.submission) {
      next.submission = { state: "done", result: resultOf(inspection) };
    } else if (inspection.status === "returned" && next.submission && next.submission.state === "done") {
      next.submission = null;  // sent back for correction: editable again
      next.elsewhere = null;
      reopened = true;
    }
    return next;
  });
  if (reopened) await requeueKeptPhotos(inspection.id, user);
  notify({ form: inspection.id });
  return record;
}

// The statuses in which a task is still to be filled (answered, photographed, sent): assigned,
// under way, or sent back for correction. Every other status is a result, or cancelled.
export const EDITABLE_STATUSES = Object.freeze(["assigned", "in_progress", "returned"]);
export const isEditable = (status) => EDITABLE_STATUSES.includes(status);

// A task still to be filled that the server says this person may no longer fill (their role was
// withdrawn or moved since it was given): kept to look at, not to send, as one given to another.
// (A copy from before the server said ``can_fill`` leaves it theirs.)
const noLongerFilled = (inspection) => inspection.can_fill === false && isEditable(inspection.status);

const stale = (inspection, held) => Boolean(held && held.inspection && typeof held.version === "number"
  && typeof inspection.version === "number" && inspection.version < held.version);

// the states of a task whose submission the server holds
export const SUBMITTED = ["submitted", "final"];

// Submitted from another device (a team's other phone, the same person's tablet) while this
// phone held work for the task: a draft the server never took, or a submission or photos it
// has just refused. A queued submission alone proves nothing until refused: its own earlier try
// may have gone through with the answer lost, and its replay will say so.
function submittedElsewhere(held, refused) {
  if (!held || (held.submission && held.submission.state === "done")) return false;
  return refused || (held.dirty && !held.submission);
}

// The server's submission is the record: the form shows it, and says how many of this phone's
// answers differ from it and how many of its photos were never sent. That work is no longer
// pending and no error; the photos stay on the phone until the person lets them go. One
// transaction reads and writes it all, so a tap in between cannot slip past uncounted.
// Resolves with the record written, or null when the task was not submitted elsewhere.
function settleSubmittedElsewhere(inspection, user, refused) {
  const id = inspection.id;
  return idb.tx(["forms", "photos", "outbox"], "readwrite", (forms, photos, box) => new Promise((resolve, reject) => {
    const asked = (request, then) => {
      request.onsuccess = () => then(request.result);
      request.onerror = () => reject(request.error);
    };
    asked(forms.get(id), (held) => {
      if (!submittedElsewhere(held, refused)) { resolve(null); return; }
      asked(photos.index("inspection").getAll(id), (kept) => asked(box.getAll(), (entries) => {
        for (const entry of entries) if (entry.inspection_id === id) box.delete(entry.id);
        const record = {
          ...held, user, inspection, gone: false, dirty: false, draftError: null, conflict: null,
          answers: inspection.answers || {}, events: inspection.events || {}, version: inspection.version,
          submission: { state: "done", result: resultOf(inspection) },
          elsewhere: differences(held.answers, inspection.answers, kept.filter((p) => !p.uploaded).length),
          replaced: Date.now(),  // an open form draws these answers anew
        };
        forms.put(record);
        resolve(record);
      }));
    });
  }));
}

// How this phone's answers and photos differ from a submission made elsewhere (null if not).
function differences(mine = {}, theirs = {}, photos = 0) {
  const said = (answer) => [String(answer && answer.value != null ? answer.value : ""), (answer && answer.note) || ""];
  const answers = Object.entries(mine).filter(([code, answer]) => {
    const own = said(answer);
    return (own[0] || own[1]) && JSON.stringify(own) !== JSON.stringify(said(theirs[code]));
  }).length;
  return answers || photos ? { answers, photos } : null;
}

// A task sent back for correction is editable again: photos kept from a submission made
// elsewhere (never sent, not let go) are queued again, as the form counts them.
async function requeueKeptPhotos(id, user) {
  await idb.tx(["photos", "outbox"], "readwrite", (photos, box) => new Promise((resolve, reject) => {
    const kept = photos.index("inspection").getAll(id);
    kept.onerror = () => reject(kept.error);
    kept.onsuccess = () => {
      const queued = box.getAll();
      queued.onerror = () => reject(queued.error);
      queued.onsuccess = () => {
        const waiting = new Set(queued.result.map((entry) => entry.id));
        for (const photo of kept.result) {
          if (photo.uploaded || waiting.has(photo.client_id)) continue;
          box.put({ id: photo.client_id, kind: "photo", inspection_id: id, item_code: photo.item_code, user, created: Date.now(), error: null, attempts: 0 });
        }
        resolve();
      };
    };
  }));
}

// The person has read that another device's submission is the record: forget what this phone
// held besides (its photos that were never sent).
export async function dismissElsewhere(id) {
  const unsent = (await photosOf(id)).filter((p) => !p.uploaded);
  await idb.tx(["forms", "photos"], "readwrite", (forms, photos) => {
    for (const photo of unsent) photos.delete(photo.client_id);
    const read = forms.get(id);
    read.onsuccess = () => { if (read.result) forms.put({ ...read.result, elsewhere: null }); };
  });
  notify({ form: id });
}

const resultOf = (inspection) => ({
  status: inspection.status, total: inspection.total, red_line_failed: inspection.red_line_failed,
  grade: inspection.score ? inspection.score.grade : null, grade_label: inspection.score ? inspection.score.grade_label : null,
  findings: inspection.findings || [],
});

// A form with a submission (queued, or done here or elsewhere) takes no more changes: the
// page locks it, and a tap that races the lock changes nothing either.
const settled = (form) => !form || Boolean(form.submission);

export async function setAnswer(id, code, patch) {
  const record = await idb.update("forms", id, (form) => {
    if (settled(form)) return undefined;
    const answers = { ...form.answers, [code]: { value: null, note: null, ...(form.answers || {})[code], ...patch } };
    return { ...form, answers, dirty: true, changedAt: changeStamp(form), draftProblems: without(form.draftProblems, "items", code) };
  });
  notify({ form: id });
  return record;
}

// The server's verdict on a draft concerns the answer it saw: a changed answer (or time) waits
// for its own.
function without(problems, kind, key) {
  if (!problems || !(problems[kind] || {})[key]) return problems || null;
  const rest = { ...problems, [kind]: { ...problems[kind] } };
  delete rest[kind][key];
  return Object.keys(rest.items || {}).length || Object.keys(rest.events || {}).length ? rest : null;
}

export async function setFinding(id, code, fixed) {
  return idb.update("forms", id, (form) => (settled(form) ? undefined : { ...form, findings: { ...form.findings, [code]: { fixed_on_spot: fixed } } }));
}

export async function setEvent(id, name, iso) {
  const record = await idb.update("forms", id, (form) => {
    if (settled(form)) return undefined;
    const events = { ...form.events };
    if (iso) events[name] = iso; else delete events[name];
    return { ...form, events, dirty: true, changedAt: changeStamp(form), draftProblems: without(form.draftProblems, "events", name) };
  });
  notify({ form: id });
  return record;
}

// The server no longer shows this task to this person (given to someone else, or out of their
// reach): nothing held for it will be uploaded, and it is no error to fix. Its answers and photos
// stay on the phone until the person lets them go — still marked unsent (``dirty``): should the
// task come back to them, the server's copy does not replace what only the phone holds.
export const markGone = (id) => patchForm(id, (f) => ({ ...f, gone: true, draftError: null }));

export async function patchForm(id, fn) {
  const record = await idb.update("forms", id, fn);
  notify({ form: id });
  return record;
}

// ``purpose``: "before" (evidence of the answer) or "after" (整改后照片 of a fix on the spot).
export async function addPhoto(inspectionId, itemCode, blob, facts, user, purpose = "before") {
  const id = uuid();
  const photo = { client_id: id, inspection_id: inspectionId, item_code: itemCode, purpose, blob, facts, uploaded: false, created: Date.now() };
  const added = await idb.tx(["forms", "photos", "outbox"], "readwrite", (forms, photos, box) => new Promise((resolve) => {
    const read = forms.get(inspectionId);
    read.onsuccess = () => {
      if (read.result && read.result.submission) { resolve(false); return; }  // see settled()
      photos.put(photo);
      box.put({ id, kind: "photo", inspection_id: inspectionId, item_code: itemCode, user, created: Date.now(), error: null, attempts: 0 });
      resolve(true);
    };
  }));
  notify({ form: inspectionId });
  return added ? photo : null;
}

export async function removePhoto(clientId) {
  await idb.tx(["photos", "outbox"], "readwrite", (photos, box) => { photos.delete(clientId); box.delete(clientId); });
  notify({});
}

// Remove a photo the server already holds (while the form is editable): the phone forgets its
// copy at once and queues the removal (``DELETE /api/v1/photos/<id>``), sent like the uploads,
// so it works offline too. ``photo``: {client_id, id, item_code} of the server's photo.
export async function queuePhotoRemoval(inspectionId, photo, user) {
  const queued = await idb.tx(["forms", "photos", "outbox"], "readwrite", (forms, photos, box) => new Promise((resolve) => {
    const read = forms.get(inspectionId);
    read.onsuccess = () => {
      if (settled(read.result)) { resolve(false); return; }  // see settled()
      if (photo.client_id) { photos.delete(photo.client_id); box.delete(photo.client_id); }
      box.put({ id: uuid(), kind: "unphoto", inspection_id: inspectionId, photo_id: photo.id, item_code: photo.item_code,
        user, created: Date.now(), error: null, attempts: 0 });
      resolve(true);
    };
  }));
  notify({ form: inspectionId });
  return queued;
}

// The server has let the photo go: the entry goes, and so does the photo from the server's copy.
export async function finishPhotoRemoval(entry) {
  await idb.tx(["forms", "outbox"], "readwrite", (forms, box) => {
    box.delete(entry.id);
    const read = forms.get(entry.inspection_id);
    read.onsuccess = () => {
      const form = read.result;
      const held = form && form.inspection && form.inspection.photos;
      if (!held || !held[entry.item_code]) return;
      const photos = { ...held, [entry.item_code]: held[entry.item_code].filter((p) => p.id !== entry.photo_id) };
      forms.put({ ...form, inspection: { ...form.inspection, photos } });
    };
  });
  notify({ form: entry.inspection_id });
}

// The server holds the photo now. Removed on the phone while it was going up (its record is
// gone, its entry too), the server's copy is removed as well, queued like any removal: a photo
// the person took back is never left on the server. Resolves with that removal, or null.
export async function markPhotoUploaded(entry, server) {
  let removal = null;
  await idb.tx(["photos", "outbox"], "readwrite", (photos, box) => {
    const read = photos.get(entry.id);
    read.onsuccess = () => {
      if (read.result) { photos.put({ ...read.result, uploaded: true, server }); return; }
      removal = { id: uuid(), kind: "unphoto", inspection_id: entry.inspection_id, photo_id: server.id,
        item_code: entry.item_code, user: entry.user, created: Date.now(), error: null, attempts: 0 };
      box.put(removal);
    };
    box.delete(entry.id);
  });
  notify(removal ? { form: entry.inspection_id } : {});
  return removal;
}

// Queue a submission under a fresh Idempotency-Key; the form turns read-only at once.
export async function queueSubmission(id, payload, user) {
  const key = uuid();
  const queued = await idb.tx(["forms", "outbox"], "readwrite", (forms, box) => new Promise((resolve) => {
    const read = forms.get(id);
    read.onsuccess = () => {
      if (settled(read.result)) { resolve(false); return; }  // one submission at a time
      forms.put({ ...read.result, submission: { key, state: "queued" }, notOpen: null });
      box.put({ id: key, kind: "submit", inspection_id: id, payload, user, created: Date.now(), error: null, attempts: 0 });
      resolve(true);
    };
  }));
  notify({ form: id });
  return queued ? key : null;
}

export async function setOutboxError(entryId, error) {
  await idb.update("outbox", entryId, (entry) => entry && { ...entry, error, attempts: (entry.attempts || 0) + 1 });
  notify({});
}

// Another request wrote the same row at the same moment (409 write_conflict): nothing was
// saved, so the entry is sent again — a few times; then it waits for the person, as a refusal.
export const CONFLICT_RETRIES = 3;
// It is not sent again before ``waitMs`` have passed (the server's Retry-After).
export async function countConflict(entryId, waitMs = 1000) {
  let counted = 0;
  await idb.update("outbox", entryId, (entry) => {
    if (!entry) return entry;
    counted = (entry.conflicts || 0) + 1;
    return { ...entry, conflicts: counted, notBefore: Date.now() + waitMs };
  });
  return counted;
}

// The user acts on a rejected entry: try it again, or give it up (a photo is deleted; a
// submission is withdrawn so the form can be corrected and submitted again).
export async function retryEntry(entryId) {
  await idb.update("outbox", entryId, (entry) => entry && { ...entry, error: null, conflicts: 0, notBefore: 0 });
  notify({});
}

export async function discardEntry(entryId) {
  const entry = await idb.get("outbox", entryId);
  if (!entry) return;
  if (entry.kind === "photo") {
    await removePhoto(entryId);
  } else if (entry.kind === "unphoto") {
    await idb.tx("outbox", "readwrite", (box) => { box.delete(entryId); });  // the photo stays
  } else {
    await idb.tx(["forms", "outbox"], "readwrite", (forms, box) => {
      box.delete(entryId);
      const read = forms.get(entry.inspection_id);
      read.onsuccess = () => { if (read.result) forms.put({ ...read.result, submission: null }); };
    });
  }
  notify({ form: entry.inspection_id });
}

// Forget everything the phone holds for one inspection: the form, its photos, its outbox.
export async function discardForm(id) {
  const photos = await photosOf(id);
  const entries = (await outbox()).filter((e) => e.inspection_id === id);
  await idb.tx(["forms", "photos", "outbox"], "readwrite", (forms, store, box) => {
    forms.delete(id);
    for (const p of photos) store.delete(p.client_id);
    for (const e of entries) box.delete(e.id);
  });
  notify({ form: id });
}

// The server refused a submission because the task's window has not opened yet: nothing is
// wrong with the answers, and sending them again changes nothing until that day. The entry
// goes, and the form is a draft again (``dirty``: its answers are saved on the server as one),
// keeping the server's refusal to show (``notOpen``: its message and the first day it takes one).
export async function withdrawSubmission(entry, notOpen) {
  await idb.tx(["forms", "outbox"], "readwrite", (forms, box) => {
    box.delete(entry.id);
    const read = forms.get(entry.inspection_id);
    read.onsuccess = () => {
      const form = read.result;
      if (!form || !form.submission || form.submission.key !== entry.id) return;
      forms.put({ ...form, submission: null, dirty: true, changedAt: changeStamp(form), notOpen });
    };
  });
  notify({ form: entry.inspection_id });
}

export async function finishSubmission(entry, result) {
  await idb.tx(["forms", "outbox"], "readwrite", (forms, box) => {
    box.delete(entry.id);
    const read = forms.get(entry.inspection_id);
    read.onsuccess = () => {
      if (read.result) forms.put({ ...read.result, dirty: false, submission: { key: entry.id, state: "done", result } });
    };
  });
  notify({ form: entry.inspection_id });
}

export const getMeta = (key) => idb.get("meta", key);
export const setMeta = (key, value) => idb.put("meta", value, key);

export const patchMeta = (key, fn) => idb.tx("meta", "readwrite", (s) => new Promise((resolve, reject) => {
  const read = s.get(key);
  read.onsuccess = () => {
    const next = fn(read.result);
    if (next !== undefined) s.put(next, key);
    resolve(next);
  };
  read.onerror = () => reject(read.error);
}));
