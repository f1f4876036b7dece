// The inspection form: every tap saved on the phone at once, synced when the network allows.
import { ApiError, getJSON } from "./api.js";
import { bankDate, bankToday, dated, dueText, el, fmtTime, keepForOffline, requestBackgroundSync, scoreText, start, t, user, withUnit } from "./app.js";
import { NotAPhoto, nowIso, prepare } from "./photos.js";
import * as store from "./store.js";
import { GONE, cleanAnswers, flush, isCancelled, isClosed, scheduleDraftSync } from "./sync.js";

const id = Number(location.pathname.split("/").pop());
const $ = (x) => document.getElementById(x);
// The longest text answer the server takes (inspect_app/scoring/types.py, MAX_TEXT_ANSWER).
const MAX_TEXT = 2000;
const NUMBER_MOST = 1000000;  // the server's bound on a measured number (scoring/types.py)
const EVENTS = ["arrival", "ticket", "called", "served", "left"];
// The longest one visit lasts, first time to last (inspections/visits.py, MAX_VISIT_HOURS).
const MAX_VISIT_HOURS = 4;
let form = null;
let photos = [];
let removing = new Set();  // the server's photos this phone has removed (queued until sent)
let refused = new Map();  // client_id → the server's refusal of a photo (waits for 重试 or 放弃)
let eventRefusals = {};  // event → why the server refused the submission's time (events_invalid)
const notPhotos = new Map();  // "code:purpose" → files picked that are no picture (never queued)
let items = [];
const objectUrls = new Map();

const isMystery = () => form.inspection.mode === "mystery_visit";
const answerOf = (code) => (form.answers || {})[code] || {};
// The server says whether an item scores; a copy kept offline from before it did, by its type.
const scored = (item) => (typeof item.scored === "boolean" ? item.scored : item.response_type !== "text");
const derivedSource = (item) => (isMystery() && item.config && item.config.derived_from) || null;
const locked = () => Boolean(form.submission) || Boolean(form.gone) || !store.isEditable(form.inspection.status);
// Before its window's first day a task takes answers (its draft) but no submission: judged on
// the phone from the copy it holds, as the late warning is, so offline too.
const notOpenYet = () => !locked() && Boolean(form.inspection.due_start) && form.inspection.due_start > bankToday();

function minutesBetween(a, b) {
  const from = form.events && form.events[a];
  const to = form.events && form.events[b];
  if (!from || !to) return null;
  return Math.round((new Date(to) - new Date(from)) / 6000) / 10;
}
// The times a measure runs between. The wait ends at the call — or, for a shopper who took a
// ticket and left without being called or served, at the leaving (inspections/operations.py,
// ``wait_ended``).
function measureSpan(source) {
  const events = form.events || {};
  if (source === "service_minutes") return ["served", "left"];
  return ["ticket", events.called || !events.left || events.served ? "called" : "left"];
}
// A derived item takes its value from the visit's times; until both are tapped it may be 不适用
// (no ticket taken: the shopper was served without queueing). The times win once there are both,
// as on the server (inspections/operations.py, ``_with_derived``).
function valueOf(item) {
  const source = derivedSource(item);
  if (!source) return answerOf(item.code).value ?? null;
  const notApplicable = answerOf(item.code).value === "na" && !timingStarted(item);
  return minutesBetween(...measureSpan(source)) ?? (notApplicable ? "na" : null);
}
const timingStarted = (item) => Boolean((form.events || {})[measureSpan(derivedSource(item))[0]]);

// Photos of an item: the phone's own (queued or uploaded) and any the server has from elsewhere.
// ``purpose``: "before" (the evidence of the answer) or "after" (整改后照片 of a fix on the spot).
const purposeOf = (p) => p.purpose || "before";
// A photo the server refused is shown (to retry or give up) but proves nothing: not counted.
function photoList(code, purpose = "before") {
  const local = photos.filter((p) => p.item_code === code && purposeOf(p) === purpose);
  const known = new Set(photos.map((p) => p.client_id));
  const remote = ((form.inspection.photos || {})[code] || []).filter((p) => !known.has(p.client_id) && purposeOf(p) === purpose && !removing.has(p.id));
  return { local, remote, count: local.filter((p) => !refused.has(p.client_id)).length + remote.length };
}

// Whether an answer is a finding (整改项): the scoring engine's rule per response type
// (inspect_app/scoring/types.py, ``_fails``); N.A., blanks and text answers never are.
function failing(item, value) {
  if (value === null || value === "" || value === "na") return false;
  const config = item.config || {};
  switch (item.response_type) {
    case "pass_fail": return value === "fail";
    case "scale": return Number(value) < (config.pass_at ?? config.max);
    case "deduction": return Number(value) > 0;
    case "number": {
      const number = Number(value), limit = Number(config.limit);
      if (Number.isNaN(number)) return false;
      return config.direction === "min" ? number < limit : number > limit;
    }
    default: return false;
  }
}

// 立查立改 ticked on a finding (a mystery visit has none: it would give the shopper away).
const fixable = (item) => failing(item, valueOf(item)) && !derivedSource(item) && !isMystery();
const fixedOnSpot = (item) => fixable(item) && Boolean((form.findings || {})[item.code]?.fixed_on_spot);

function needsPhoto(item) {
  const value = valueOf(item);
  return (item.photo_rule === "required" || (item.photo_rule === "on_fail" && failing(item, value))) && value !== "na";
}

// The visit's times in their order (到达 → 取号 → 叫号 → 开始办理 → 离开), by the rules the
// server applies (inspections/visits.py, read_events): a time before the visit's window opened,
// one earlier than a time taken before it (the mis-tap), or one hours after the first are left
// out. (A time ahead of the server's clock only the server can tell: it says so of the draft.)
function eventIssues() {
  const found = {};
  let latest = null;
  let first = null;
  const opens = form.inspection.due_start;
  for (const name of EVENTS) {
    const at = form.events && form.events[name];
    if (!at) continue;
    if (opens && bankDate(at) < opens) found[name] = { kind: "window", message: t("event_before_window", { start: opens }) };
    else if (latest && new Date(at) < new Date(form.events[latest])) found[name] = { kind: "order", message: t("event_before", { event: t(latest) }) };
    else if (first && new Date(at) - new Date(form.events[first]) > MAX_VISIT_HOURS * 3600e3) {
      found[name] = { kind: "span", message: t("event_too_long", { event: t(first), hours: MAX_VISIT_HOURS }) };
    } else {
      latest = name;
      first = first || name;
    }
  }
  return found;
}
const eventProblems = () => Object.fromEntries(Object.entries(eventIssues()).map(([name, issue]) => [name, issue.message]));

// Every problem of the visit's times this phone knows: the server's verdict on the last draft
// it was sent and on a refused submission, and the phone's own checks.
const visitTimeProblems = () => ({ ...((form.draftProblems || {}).events || {}), ...eventRefusals, ...eventProblems() });

// What is wrong with an answer itself — what the server cannot take even in a draft (a number
// or deduction out of its range, times out of order): shown on the item as soon as it is typed.
function valueProblem(item) {
  const value = valueOf(item);
  if (value === null || value === "" || value === "na") return null;
  const source = derivedSource(item);
  if (source) {
    const issues = eventIssues();
    if (measureSpan(source).some((name) => (issues[name] || {}).kind === "order")) return t("times_out_of_order");
    return measureSpan(source).some((name) => visitTimeProblems()[name]) ? t("times_wrong") : null;
  }
  const number = Number(value);
  if (["number", "deduction"].includes(item.response_type) && Number.isNaN(number)) return t("bad_number");
  if (item.response_type === "number" && !(number >= 0 && number <= NUMBER_MOST)) return t("number_range", { most: NUMBER_MOST });
  if (item.response_type === "deduction") {
    const most = Number((item.config || {}).max_deduction ?? item.weight);
    if (!(number >= 0 && number <= most)) return t("deduction_range", { most });
  }
  if (item.response_type === "text" && typeof value === "string" && value.length > MAX_TEXT) return t("too_long", { max: MAX_TEXT });
  return null;
}

// What the server said it could not take of this item's answer in the last draft it was sent
// (until the answer changes: see store.setAnswer).
const serverProblem = (code) => [].concat(((form.draftProblems || {}).items || {})[code] || []).join("；") || null;

// Client-side check before submitting: the same rules the server applies.
function problems() {
  const found = [];
  for (const item of items) {
    const value = valueOf(item);
    const note = answerOf(item.code).note;
    const wrong = valueProblem(item);
    if (scored(item) && (value === null || value === "")) found.push([item, derivedSource(item) ? t("derived_pending") : t("missing_answer")]);
    else if (wrong) found.push([item, wrong]);
    else if (item.response_type === "deduction" && Number(value) > 0 && !(note && note.trim())) found.push([item, t("missing_reason")]);
    if (needsPhoto(item) && photoList(item.code).count === 0) found.push([item, t("missing_photo")]);
    if (fixedOnSpot(item) && photoList(item.code, "after").count === 0) found.push([item, t("missing_after_photo")]);
  }
  // the visit's times have no item of their own: listed by their name, linked to the times
  if (isMystery()) for (const [name, message] of Object.entries(eventProblems())) found.push([{ code: t(name), anchor: "events" }, message]);
  // every scored item 不适用: nothing was checked, so there is no score (the server refuses it)
  const counted = items.filter(scored);
  if (counted.length && counted.every((item) => valueOf(item) === "na")) found.push([{ code: null }, t("all_na")]);
  return found;
}

// The item's own problem, kept up to date as the person types (the item is not drawn anew, so
// the input keeps its focus).
function showProblem(item) {
  const slot = item && document.querySelector(`#item-${CSS.escape(item.code)} .item-problem`);
  if (!slot) return;
  const message = valueProblem(item) || serverProblem(item.code);
  slot.textContent = message || "";
  slot.hidden = !message;
}

// -- rendering ---------------------------------------------------------------------------------
// Changes are written to the phone one after another; submitting waits for the last write, so
// a tap (or a photo still being prepared) just before 提交检查 is never reported as missing.
let saving = Promise.resolve();

function write(change) {
  const done = saving.then(change);
  saving = done.catch(() => {});
  return done;
}

async function save(code, patch) {
  form = await write(() => store.setAnswer(id, code, patch));
  scheduleDraftSync();
  renderProgress();
  showProblem(items.find((i) => i.code === code));
}

// Tapping the chosen answer again keeps it (a double tap, a tap to make sure, never loses an
// answer); 清除 in the item's head takes a chosen answer back (see clearButton).
function choiceButtons(item, options) {
  const current = answerOf(item.code).value;
  return el("div", { class: "choices", role: "group", "aria-label": item.code },
    options.map(([value, label, kind]) => el("button", {
      type: "button", class: `choice ${kind || ""}`, "aria-pressed": String(current === value),
      onclick: current === value ? null : async () => { await save(item.code, { value }); rerender(item); },
    }, label)));
}

// 清除 for an answer chosen with a button (合格/不合格, a scale step, 不适用); typed answers are
// cleared by emptying their field.
function clearButton(item) {
  const value = derivedSource(item) ? valueOf(item) : answerOf(item.code).value;
  const chosen = value === "na" || (["pass_fail", "scale"].includes(item.response_type) && value !== null && value !== undefined);
  if (!chosen || locked()) return null;
  return el("button", { type: "button", class: "small link-button clear-answer", "data-clear": item.code,
    "aria-label": `${t("clear")} ${item.code}`,
    onclick: async () => { await save(item.code, { value: null }); rerender(item); } }, t("clear"));
}

function control(item) {
  const answer = answerOf(item.code);
  const config = item.config || {};
  const allowNa = config.allow_na !== false;
  const na = allowNa ? [["na", t("na"), "na"]] : [];
  switch (item.response_type) {
    case "pass_fail":
      return choiceButtons(item, [["pass", t("pass"), "ok"], ["fail", t("fail"), "bad"], ...na]);
    case "scale": {
      const steps = Array.from({ length: config.max + 1 }, (_, n) => [n, String(n), "step"]);
      return choiceButtons(item, [...steps, ...na]);
    }
    case "number": {
      const unit = config.unit || "";
      const hint = t(config.direction === "min" ? "limit_min" : "limit_max", { limit: withUnit(config.limit, unit), unit: "" });
      if (derivedSource(item)) {
        const value = valueOf(item);
        const measured = value !== null && value !== "na";
        const started = timingStarted(item);  // a ticket taken: the wait is timed, never 不适用
        return el("div", {},
          el("p", { class: "derived", "data-derived": item.code },
            measured ? `${t("labelled", { label: t("derived") })}${withUnit(value, unit)}` : t(started ? "derived_running" : "derived_pending"), el("br"), el("span", { class: "muted" }, hint)),
          allowNa && !measured && !started ? el("div", { class: "number-row" }, choiceButtons(item, na), el("span", { class: "muted" }, t("derived_na"))) : null);
      }
      return el("div", { class: "number-row" },
        el("label", { class: "inline-label" }, el("span", { class: "sr-only" }, item.text),
          el("input", { type: "number", inputmode: "decimal", step: "any", min: "0", max: String(NUMBER_MOST), value: typeof answer.value === "number" ? answer.value : "",
            "data-number": item.code, oninput: (e) => save(item.code, { value: e.target.value === "" ? null : Number(e.target.value) }) }),
          el("span", {}, unit)),
        el("span", { class: "muted" }, hint),
        allowNa ? choiceButtons(item, na) : null);
    }
    case "deduction": {
      const most = config.max_deduction ?? item.weight;
      return el("div", { class: "number-row" },
        el("label", { class: "inline-label" }, t("deduct_points"),
          el("input", { type: "number", inputmode: "decimal", step: "0.5", min: "0", max: String(most),
            value: typeof answer.value === "number" ? answer.value : "", "data-number": item.code,
            oninput: async (e) => { await save(item.code, { value: e.target.value === "" ? null : Number(e.target.value) }); } }),
          el("span", {}, `/ ${most}`)),
        allowNa ? choiceButtons(item, na) : null);
    }
    default:
      return el("label", {}, el("span", { class: "sr-only" }, item.text),
        el("textarea", { rows: "3", maxlength: String(MAX_TEXT), "data-text": item.code, oninput: (e) => save(item.code, { value: e.target.value || null }) }, answer.value || ""));
  }
}

function photoStrip(item, purpose = "before") {
  const after = purpose === "after";
  const { local, remote } = photoList(item.code, purpose);
  const thumbs = [
    ...local.map((p) => {
      if (!objectUrls.has(p.client_id)) objectUrls.set(p.client_id, URL.createObjectURL(p.blob));
      return el("li", { class: "thumb", "data-photo": p.client_id },
        el("img", { src: objectUrls.get(p.client_id), alt: item.code, width: "72", height: "72" }),
        p.uploaded ? el("span", { class: "badge ok" }, t("photo_uploaded"))
          : refused.has(p.client_id) ? el("span", { class: "badge sync-error", title: refused.get(p.client_id) }, t("photo_failed"))
          // kept from a submission made elsewhere: it will not be sent (see store.js)
          : form.elsewhere ? el("span", { class: "badge kept" }, t("photo_not_taken"))
          : el("span", { class: "badge wait" }, t("photo_pending")),
        removeButton(item, p, p.uploaded ? p.server : null));
    }),
    ...remote.map((p) => el("li", { class: "thumb", "data-photo": p.client_id }, el("img", { src: p.thumbnail_url, alt: item.code, width: "72", height: "72" }),
      el("span", { class: "badge ok" }, t("photo_uploaded")), removeButton(item, null, p))),
  ];
  const picker = (label, source, capture) => el("label", { class: "button small photo-button" }, label,
    el("input", { type: "file", accept: "image/*", capture, multiple: capture ? null : true, class: "sr-only",
      "data-photo-input": after ? `${item.code}:after:${source}` : `${item.code}:${source}`,
      onchange: (e) => addPhotos(item, e.target, source, purpose) }));
  return el("div", { class: after ? "after-photos" : "photos" },
    after ? el("p", { class: "after-title" }, t("after_photos")) : null,
    locked() ? null : el("div", { class: "photo-actions" }, picker(after ? t("after_camera") : t("camera"), "camera", "environment"), picker(t("gallery"), "gallery", null)),
    thumbs.length ? el("ul", { class: "thumbs" }, thumbs) : null,
    [...new Set(local.filter((p) => refused.has(p.client_id)).map((p) => refused.get(p.client_id)))].map((message) =>
      el("p", { class: "item-error", "data-photo-error": item.code }, t("sync_error", { message }))),
    notPhotos.has(`${item.code}:${purpose}`) ? el("p", { class: "item-error", role: "alert", "data-not-photo": item.code }, notPhotos.get(`${item.code}:${purpose}`)) : null);
}

// Any photo of an editable form can be removed (a wrong or unclear one): one still queued is
// dropped; one the server holds is removed there too, queued like an upload (so offline too).
function removeButton(item, local, server) {
  if (locked() || (!server && local.uploaded)) return null;
  return el("button", { type: "button", class: "remove", "aria-label": t("remove_photo"), onclick: async () => {
    if (!confirm(t("remove_photo_confirm"))) return;
    await write(async () => {
      if (server) await store.queuePhotoRemoval(id, { client_id: local ? local.client_id : server.client_id, id: server.id, item_code: item.code }, user);
      else await store.removePhoto(local.client_id);
      await reload();
    });
    rerender(item);
    if (server) { requestBackgroundSync(); flush(); }
  } }, "×");
}

// 立查立改: the finding is closed at once, so the fix is proven by its after-photo, taken here.
function fixBox(item) {
  if (!fixable(item)) return null;
  const fixed = fixedOnSpot(item);
  return el("div", { class: "fix-on-spot" },
    el("label", { class: "check" },
      el("input", { type: "checkbox", checked: fixed, "data-fixed": item.code,
        onchange: async (e) => { form = await write(() => store.setFinding(id, item.code, e.target.checked)); rerender(item); } }), t("fixed_on_spot")),
    fixed || photoList(item.code, "after").count ? photoStrip(item, "after") : null);
}

// Photos being prepared (shrunk, and located: up to 4 s waiting for the position): answers and
// notes tapped meanwhile are written to the phone at once, not held in memory behind them;
// submitting waits for these as for any write.
const preparing = new Set();

async function addPhotos(item, input, source, purpose = "before") {
  const files = Array.from(input.files || []);
  input.value = "";
  const key = `${item.code}:${purpose}`;
  notPhotos.delete(key);
  const job = (async () => {
    for (const file of files) {
      let prepared;
      try {
        prepared = await prepare(file, source);
      } catch (error) {
        if (!(error instanceof NotAPhoto)) throw error;
        notPhotos.set(key, t("not_a_photo", { name: file.name }));
        continue;
      }
      await write(async () => {
        await store.addPhoto(id, item.code, prepared.blob, prepared.facts, user, purpose);
        await reload();  // its thumbnail shows at once
      });
    }
  })();
  preparing.add(job);
  try {
    await job;
  } finally {
    preparing.delete(job);
  }
  rerender(item);
  requestBackgroundSync();
  flush();
}

function renderItem(item) {
  const answer = answerOf(item.code);
  const value = valueOf(item);
  const ruleTag = item.photo_rule === "required" ? t("photo_required") : item.photo_rule === "on_fail" ? t("photo_on_fail") : null;
  const answered = !scored(item) || (value !== null && value !== "");
  return el("article", { class: "item" + (item.red_line ? " red-line" : "") + (answered ? " answered" : ""), id: `item-${item.code}`, "data-code": item.code },
    el("p", { class: "item-head" }, el("span", { class: "code" }, item.code),
      item.red_line ? el("span", { class: "tag red" }, t("red_line")) : null,
      ruleTag ? el("span", { class: "tag" }, ruleTag) : null,
      el("span", { class: "muted points" }, scored(item) ? t("points", { n: item.weight }) : t("not_scored")),
      clearButton(item)),
    el("h3", { class: "item-text" }, item.text),
    // a scored item's guidance is what passes; a free-text item's, what to write
    item.guidance ? el("details", {}, el("summary", {}, t(scored(item) ? "guidance" : "guidance_unscored")), el("p", {}, item.guidance)) : null,
    control(item),
    fixBox(item),
    item.response_type === "text" ? null : el("details", { class: "note", open: answer.note ? true : null },
      el("summary", {}, item.response_type === "deduction" ? t("deduct_reason") : t("note")),
      el("textarea", { rows: "2", "aria-label": `${item.code} ${t("note")}`, "data-note": item.code,
        oninput: (e) => save(item.code, { note: e.target.value || null }) }, answer.note || "")),
    photoStrip(item),
    el("p", { class: "item-problem", role: "alert", hidden: !(valueProblem(item) || serverProblem(item.code)) },
      valueProblem(item) || serverProblem(item.code) || ""),
    el("p", { class: "item-error", role: "alert", hidden: true }));
}

function rerender(item) {
  const old = $(`item-${item.code}`);
  old?.replaceWith(keepPickers(old, renderItem(item)));
  renderProgress();
}

// A redrawn item or photo strip keeps its photo pickers, the same elements: a camera opened
// from one (the phone leaves the page meanwhile, and a photo going up, a sync or another tab
// redraws the strip) gives its photo back to that input — a new one in its place would never
// hear of it, and the photo would be lost without a word.
function keepPickers(old, fresh) {
  for (const input of fresh.querySelectorAll("input[data-photo-input]")) {
    const before = old.querySelector(`input[data-photo-input="${CSS.escape(input.dataset.photoInput)}"]`);
    if (before) input.closest("label").replaceWith(before.closest("label"));
  }
  return fresh;
}

// Drawn in place: each time's button stays the same element. A redraw (the previous tap's
// save, a sync finishing, another tab) replacing it between the finger going down and up would
// swallow the tap — the click would land on no button and the time would never be recorded.
function renderEvents() {
  const grid = $("event-grid");
  const wrong = visitTimeProblems();
  for (const name of EVENTS) {
    let cell = grid.querySelector(`[data-event-cell="${name}"]`);
    if (!cell) {
      cell = el("div", { "data-event-cell": name },
        el("button", { type: "button", class: "event-button", "data-event": name, onclick: () => setEventTime(name, nowIso()) },
          el("strong", {}, t(name)), el("span")));
      grid.append(cell);
    }
    const at = form.events && form.events[name];
    const button = cell.firstElementChild;
    cell.className = "event" + (at ? " set" : "") + (wrong[name] ? " wrong" : "");
    button.disabled = Boolean(at || locked());
    button.lastElementChild.textContent = at ? fmtTime(at).split(" ")[1] : t("tap_to_record");
    while (button.nextSibling) button.nextSibling.remove();
    cell.append(...[
      at && !locked() ? el("button", { type: "button", class: "small link-button", "aria-label": `${t("clear")} ${t(name)}`,
        onclick: () => setEventTime(name, null) }, t("clear")) : null,
      wrong[name] ? el("p", { class: "item-problem", role: "alert", "data-event-problem": name }, [].concat(wrong[name]).join("；")) : null,
    ].filter(Boolean));
  }
}

async function setEventTime(name, iso) {
  form = await write(() => store.setEvent(id, name, iso));
  scheduleDraftSync();
  renderEvents();
  renderDerived();
}

function renderDerived() {
  for (const item of items.filter(derivedSource)) rerender(item);
}

function renderProgress() {
  const counted = items.filter(scored);
  const done = counted.filter((item) => { const v = valueOf(item); return v !== null && v !== ""; }).length;
  $("form-progress").max = counted.length || 1;
  $("form-progress").value = done;
  $("form-progress-label").textContent = t("answered", { done, total: counted.length });
  for (const section of document.querySelectorAll(".form-section")) {
    const own = counted.filter((i) => i.section === section.dataset.section);
    const finished = own.filter((i) => { const v = valueOf(i); return v !== null && v !== ""; }).length;
    section.querySelector(".count").textContent = `${finished}/${own.length}`;
  }
}

// The header's status: the phone's submission (queued or done) is newer than the server's copy.
function renderMeta() {
  const inspection = form.inspection;
  const submission = form.submission;
  const serverKnows = store.SUBMITTED.includes(inspection.status);
  const status = form.gone ? t("gone") : !submission || isCancelled(form) || serverKnows ? inspection.status_label
    : t(submission.state === "done" ? "submitted" : "state_queued");
  $("form-meta").replaceChildren(...dated([inspection.mode_label, status,
    inspection.due_start ? dueText(inspection.due_start, inspection.due_end) : ""].filter(Boolean).join(" · ")));
}

// Past the window's last day: the form still takes the work, and says it will be marked late.
// Judged on the phone from the copy it holds, so it shows offline too. A form sent back for
// correction keeps the verdict of its first submission, so it gets no warning.
function renderLate() {
  const inspection = form.inspection;
  const late = !locked() && ["assigned", "in_progress"].includes(inspection.status)
    && Boolean(inspection.due_end) && inspection.due_end < bankToday();
  $("form-late").textContent = late ? t("late_warning", { end: inspection.due_end }) : "";
  $("form-late").hidden = !late;
}

// Not open yet: the form says from which day it can be submitted, and offers no submission
// until then. A submission the server refused for that reason (the window was moved while the
// phone was offline, or the phone's date is ahead of the bank's) is a draft again, and the
// server's words show while the window is the one they named (not once it was moved again).
function renderEarly() {
  const refusal = !form.submission && form.notOpen;
  const refused = refusal && refusal.opens_on === form.inspection.due_start && !locked() ? refusal.message : "";
  const text = refused || (notOpenYet() ? t("not_open_yet", { start: form.inspection.due_start }) : "");
  $("form-early").textContent = text;
  $("form-early").hidden = !text;
}

// Sent back for correction: the reviewer's reason stays above the form until it is resubmitted.
function renderReturned() {
  const inspection = form.inspection;
  const returned = inspection.status === "returned" && Boolean(inspection.review_note) && !form.submission;
  $("form-returned").textContent = returned ? t("returned_because", { reason: inspection.review_note }) : "";
  $("form-returned").hidden = !returned;
}

function renderStatus(entries = []) {
  $("form-fields").disabled = locked();
  if ($("form-meta").textContent) renderMeta();
  renderLate();
  renderEarly();
  renderReturned();
  // conflict: both copies, the person chooses
  const box = $("conflict");
  box.hidden = !form.conflict;
  if (form.conflict) {
    const server = form.conflict;
    $("conflict-title").textContent = t("conflict_title");
    $("conflict-text").textContent = t("conflict_text");
    $("conflict-local").textContent = t("local_copy", { n: Object.keys(cleanAnswers(form)).length });
    $("conflict-server").textContent = t("server_copy", { n: Object.keys(server.answers || {}).length, time: fmtTime(server.updated_at) });
    const sides = conflictSides(form);
    $("conflict-differ").textContent = sides.differ.length ? t("conflict_differ", { items: sides.differ.join("、") }) : t("conflict_no_differ");
    $("conflict-keep-note").textContent = t("conflict_keep_note", { kept: sides.onlyTheirs.length });
    $("conflict-server-note").textContent = t("conflict_server_note", { kept: sides.onlyMine.length });
    $("keep-local").textContent = t("keep_local");
    $("use-server").textContent = t("use_server");
  }
  // submission: queued, rejected or done
  const submission = form.submission;
  const entry = submission && entries.find((e) => e.id === submission.key);
  // a submission refused for its times: each reason is shown at its time (renderEvents)
  eventRefusals = entry && entry.error && entry.error.code === "events_invalid" ? entry.error.details || {} : {};
  if (isMystery()) renderEvents();
  $("submit-box").hidden = locked() || notOpenYet();
  const summary = $("summary");
  summary.hidden = !submission;
  summary.replaceChildren();
  for (const node of document.querySelectorAll(".item-error")) { node.hidden = true; node.textContent = ""; }
  if (isClosed(form)) {
    // nothing here will be uploaded any more: say so, and let the person let it go
    summary.hidden = false;
    const reason = !form.gone && form.inspection.cancel_reason;  // the planner's, when cancelled
    summary.append(form.gone ? el("h2", {}, t("gone")) : el("h2", {}, form.inspection.status_label),
      reason ? el("p", { id: "cancelled-reason", class: "warn" }, t("cancelled_because", { reason })) : null,
      form.gone ? el("p", { id: "gone-note" }, t("gone_note")) : el("p", { id: "cancelled-note" }, t("cancelled_note")),
      el("button", { type: "button", "data-discard": id, onclick: async () => {
        if (!confirm(t(form.gone ? "discard_gone_confirm" : "discard_local_confirm"))) return;
        await store.discardForm(id);
        location.assign("/tasks");
      } }, t("discard_local")));
    return;
  }
  if (!submission) return;
  if (submission.state === "done") {
    const r = submission.result || {};
    const findings = (r.findings || []).length;
    summary.append(...[el("h2", {}, t("submitted")),
      el("p", { class: "score" }, t("labelled", { label: t("score") }), el("strong", { id: "summary-total" }, scoreText(r.total))),
      r.grade ? el("p", {}, `${t("labelled", { label: t("grade") })}${r.grade_label || r.grade}`) : null,
      r.red_line_failed ? el("p", { class: "error" }, t("red_line_failed")) : null,
      el("p", {}, findings ? t("findings", { n: findings }) : t("no_findings"))].filter(Boolean));
    if (form.elsewhere) {
      // another device's submission is the record: say what of this phone's it does not hold
      summary.append(el("p", { id: "elsewhere-note" }, t("elsewhere_note", form.elsewhere)),
        el("button", { type: "button", id: "elsewhere-dismiss", onclick: async () => {
          if (form.elsewhere.photos && !confirm(t("elsewhere_dismiss_confirm"))) return;
          await store.dismissElsewhere(id);
        } }, t("elsewhere_dismiss")));
    }
  } else if (entry && entry.error) {
    summary.append(el("p", { class: "error", role: "alert" }, t("sync_error", { message: entry.error.message })),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "primary", onclick: async () => { await store.retryEntry(entry.id); flush(); } }, t("retry")),
        el("button", { type: "button", onclick: async () => { await store.discardEntry(entry.id); } }, t("back"))));
    for (const [code, messages] of Object.entries(entry.error.details || {})) {
      const slot = document.querySelector(`#item-${CSS.escape(code)} .item-error`);
      if (slot) { slot.textContent = [].concat(messages).join("；"); slot.hidden = false; }
    }
  } else {
    summary.append(el("h2", {}, t("state_queued")), el("p", { id: "queued-note" }, t("queued_submit")));
  }
}

// Queued after the changes being written, once: a second tap finds the submission queued.
async function submit() {
  await Promise.allSettled([...preparing]);
  if (await write(queueIfComplete)) {
    requestBackgroundSync();
    flush();
  }
}

async function queueIfComplete() {
  await catchUp();
  if (locked() || notOpenYet()) return false;
  const found = problems();
  const missing = $("missing");
  missing.replaceChildren();
  missing.hidden = !found.length;
  for (const node of document.querySelectorAll(".item-error")) { node.hidden = true; node.textContent = ""; }
  if (found.length) {
    missing.append(el("p", {}, t("missing_title")), el("ul", {}, found.map(([item, message]) =>
      el("li", {}, item.code ? [el("a", { href: `#${item.anchor || `item-${item.code}`}` }, item.code), ` ${message}`] : message))));
    for (const [item, message] of found) {
      const slot = document.querySelector(`#item-${CSS.escape(item.code)} .item-error`);
      if (slot) { slot.textContent = message; slot.hidden = false; }
    }
    missing.focus?.();
    return false;
  }
  const fixes = {};
  for (const [code, finding] of Object.entries(form.findings || {})) if (finding && finding.fixed_on_spot) fixes[code] = { fixed_on_spot: true };
  const payload = { answers: cleanAnswers(form), events: isMystery() ? { ...(form.events || {}) } : {}, findings: fixes };
  await store.queueSubmission(id, payload, user);
  await reload();
  return true;
}

const removalsOf = (entries) => new Set(entries.filter((e) => e.kind === "unphoto" && e.inspection_id === id).map((e) => e.photo_id));
const refusalsOf = (entries) => new Map(entries.filter((e) => e.kind === "photo" && e.error && e.inspection_id === id).map((e) => [e.id, e.error.message]));

async function reload() {
  form = await store.getForm(id);
  photos = await store.photosOf(id);
  const entries = await store.outbox();
  removing = removalsOf(entries);
  refused = refusalsOf(entries);
  renderStatus(entries);
  for (const strip of document.querySelectorAll(".item")) {
    const item = items.find((i) => i.code === strip.dataset.code);
    const photosNow = strip.querySelector(".photos");
    photosNow.replaceWith(keepPickers(photosNow, photoStrip(item)));
    showProblem(item);
    const afterNow = strip.querySelector(".after-photos");
    afterNow?.replaceWith(keepPickers(afterNow, photoStrip(item, "after")));
  }
  if (isMystery()) renderEvents();
}

const yieldToBrowser = () => new Promise((resolve) => setTimeout(resolve, 0));

// Section by section, yielding in between: a long form never blocks the phone for long.
async function renderForm() {
  const inspection = form.inspection;
  items = inspection.checklist.items;
  document.title = `${inspection.outlet.name} · ${inspection.mode_label}`;
  $("form-title").textContent = inspection.outlet.name;
  // where to go (sub-branch, code, address) and, for a peer check, with whom
  $("form-where").textContent = [inspection.subbranch && inspection.subbranch.name, inspection.outlet.code, inspection.outlet.address].filter(Boolean).join(" · ");
  $("form-where").hidden = !$("form-where").textContent;
  const team = inspection.team;
  $("form-team").textContent = team ? t("team_line", { team: team.name, members: team.members.join(t("list_sep")) }) : "";
  $("form-team").hidden = !team;
  renderMeta();
  if (isMystery()) {
    document.body.classList.add("discreet");
    $("scenario").hidden = !inspection.scenario;
    $("scenario-text").textContent = inspection.scenario || "";
    $("events").hidden = false;
    renderEvents();
  }
  const fieldset = el("fieldset", { id: "form-fields", class: "plain", disabled: locked() });
  $("sections").replaceChildren(fieldset);
  for (const section of inspection.checklist.sections) {
    const own = items.filter((i) => i.section === section.code);
    if (!own.length) continue;
    const node = el("section", { class: "card form-section", "data-section": section.code, "aria-labelledby": `s-${section.code}` },
      el("h2", { id: `s-${section.code}` }, section.name, " ", el("span", { class: "count tag" })));
    fieldset.append(node);
    for (let i = 0; i < own.length; i += 6) {
      node.append(...own.slice(i, i + 6).map(renderItem));
      await yieldToBrowser();
    }
  }
  $("submit-box").hidden = locked() || notOpenYet();
  renderProgress();
}

async function load() {
  form = await store.getForm(id);
  try {
    // not said as an offline copy: the form shows the answers the phone holds, which are the
    // latest; the server's side of the task (returned, cancelled…) is settled by the sync
    const inspection = await getJSON(`/api/v1/inspections/${id}`, { shown: false });
    form = await store.rememberServerCopy(inspection, user);
  } catch (error) {
    if (!form || !form.inspection) {
      $("form-meta").textContent = error instanceof ApiError ? t("load_failed", { message: error.message }) : t("offline_no_copy");
      return;
    }
    // the phone holds it, but it is no longer this person's task: keep it to look at, not to send
    if (error instanceof ApiError && error.code === GONE) form = await store.markGone(id);
  }
  photos = await store.photosOf(id);
  const entries = await store.outbox();
  removing = removalsOf(entries);
  refused = refusalsOf(entries);
  await renderForm();
  renderStatus(await store.outbox());
  document.documentElement.dataset.formReady = "1";
  if (navigator.serviceWorker) {
    await navigator.serviceWorker.ready;
    await keepForOffline([location.pathname, `/api/v1/inspections/${id}`]);
    document.documentElement.dataset.offlineReady = "1";
  }
}

// Two copies after a 409 (a team's other phone saved first): neither choice throws answers
// away. Both keep every item either side answered; they differ only in whose answer stands for
// an item both answered differently.
function conflictSides(f) {
  const mine = cleanAnswers(f);
  const theirs = f.conflict.answers || {};
  const said = (a) => JSON.stringify([a.value ?? null, a.note || null]);
  return {
    mine, theirs,
    onlyTheirs: Object.keys(theirs).filter((code) => !(code in mine)),
    onlyMine: Object.keys(mine).filter((code) => !(code in theirs)),
    differ: Object.keys(mine).filter((code) => code in theirs && said(mine[code]) !== said(theirs[code])),
  };
}

async function settleConflict(mineWins) {
  form = await store.patchForm(id, (f) => {
    if (!f.conflict) return f;
    const { mine, theirs, onlyMine } = conflictSides(f);
    const events = mineWins ? { ...(f.conflict.events || {}), ...(f.events || {}) } : { ...(f.events || {}), ...(f.conflict.events || {}) };
    // what the server lacks is sent on its version: all of it for 保留本机, this phone's extra items otherwise
    const dirty = mineWins || onlyMine.length > 0 || Object.keys(events).some((name) => !(f.conflict.events || {})[name]);
    return { ...f, answers: mineWins ? { ...theirs, ...mine } : { ...mine, ...theirs }, events, version: f.conflict.version,
      conflict: null, dirty, changedAt: dirty ? store.changeStamp(f) : f.changedAt };
  });
  await renderForm();
  renderStatus(await store.outbox());
  if (form.dirty) flush();
}

$("submit").addEventListener("click", submit);
$("keep-local").addEventListener("click", () => settleConflict(true));
$("use-server").addEventListener("click", () => settleConflict(false));
store.changed.addEventListener("change", async (e) => {
  if (!form || !form.inspection) return;
  if (e.detail.form !== undefined && e.detail.form !== id) return;
  await catchUp({ redraw: e.detail.form === undefined });
});

// Take up what the phone holds now for this form, which may have moved under this page (the
// same form answered in another tab, a merge after a conflict, a sync), and draw what changed.
// Also run before submitting, so that a change whose message from the other tab is still on
// its way is submitted too, not this page's older copy.
async function catchUp({ redraw = false } = {}) {
  const shown = (f) => JSON.stringify([f.submission, f.conflict, f.inspection && f.inspection.status, f.inspection && f.inspection.due_start,
    f.inspection && f.inspection.cancel_reason, Boolean(f.gone), f.elsewhere || null, f.draftProblems || null, f.notOpen || null]);
  const before = shown(form);
  const replaced = form.replaced;
  const drawn = form;
  const fresh = await store.getForm(id);
  if (!fresh) return;
  form = { ...fresh };
  if (form.replaced !== replaced) {
    // the answers themselves were replaced (another device's submission): draw them anew
    await renderForm();
    await reload();
    return;
  }
  redrawAnswers(drawn);
  if (shown(form) !== before || redraw) await reload();
}

// The stored answers moved under this page (the same form open in another tab, a merge after a
// conflict): draw the items whose answer or times changed — never the one the person is typing
// in, which would lose their place (their own keystrokes are already stored).
function redrawAnswers(drawn) {
  const said = (f, code) => JSON.stringify((f.answers || {})[code] ?? null);
  const timesMoved = JSON.stringify(drawn.events || {}) !== JSON.stringify(form.events || {});
  for (const item of items) {
    if (said(drawn, item.code) === said(form, item.code) && !(timesMoved && derivedSource(item))) continue;
    const node = $(`item-${item.code}`);
    if (node && !node.contains(document.activeElement)) rerender(item);
  }
  if (timesMoved && isMystery()) renderEvents();
  renderProgress();
}

// the form first; the worker, the sync loop and the sync bar once it is on screen
load().finally(() => setTimeout(start, 0));
