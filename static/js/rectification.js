// 我的整改: the outlet fixes a finding — after-photo(s) downscaled on the phone, a note, submit.
// Uploads go straight to the server (idempotent by client_id); this screen needs the network.
// 整改验收: those the server lets review a fix (can_review_fix) see the after-photos and the
// outlet's note, and accept it or send it back with a reason; an accepted fix is then closed
// (销号) by whoever may close it (can_close), from the card just decided or from 待销号.
import { getJSON, request } from "./api.js";
import { bankDate, dated, el, photoThumbs, start, t } from "./app.js";
import { pagedList } from "./paged.js";
import { NotAPhoto, prepare } from "./photos.js";
import { uuid } from "./store.js";

const $ = (x) => document.getElementById(x);

function card(item) {
  const uploaded = [];
  const thumbs = el("ul", { class: "thumbs" });
  const error = el("p", { class: "item-error", role: "alert", hidden: true });
  const note = el("textarea", { rows: "3", "data-fix-note": item.id, "aria-label": `${item.item_code} ${t("fix_note")}` });
  const fail = (message) => { error.textContent = message; error.hidden = false; };
  // the inspection went back to its inspector: the item leaves this list until it is resubmitted,
  // and the card says so instead of offering a fix the server refuses
  const refused = (err) => {
    if (err.code !== "inspection_returned") return false;
    node.replaceChildren(el("h2", { class: "item-text" }, item.item_text),
      el("p", { class: "warn", role: "alert", "data-rect-held": item.id }, err.message));
    return true;
  };
  // Photos go up one after another, in the order picked; 提交整改 waits for the last one, so a
  // fix submitted while photos are still going up is sent with all of them.
  let uploads = Promise.resolve();
  let notUp = false;  // a photo of the last pick did not go up (said in ``error``)
  const add = (input, source) => {
    const files = Array.from(input.files || []);
    input.value = "";
    uploads = uploads.then(() => upload(files, source)).catch((e) => { notUp = true; fail(e.message); });
    return uploads;
  };
  const upload = async (files, source) => {
    error.hidden = true;
    notUp = false;
    for (const file of files) {
      try {
        const { blob, facts } = await prepare(file, source);  // refuses a file that is no picture
        const form = new FormData();
        form.append("file", blob, "after.jpg");
        form.append("client_id", uuid());
        form.append("client_facts", JSON.stringify(facts));
        const { data } = await request("POST", `/api/v1/rectification/items/${item.id}/photos`, { form });
        uploaded.push(data.id);
        thumbs.append(el("li", { class: "thumb" }, el("img", { src: URL.createObjectURL(blob), alt: item.item_code, width: "72", height: "72" }),
          el("span", { class: "badge ok" }, t("photo_uploaded"))));
      } catch (e) {
        if (refused(e)) break;
        notUp = true;
        fail(e instanceof NotAPhoto ? t("not_a_photo", { name: file.name }) : navigator.onLine ? e.message : t("online_only"));
      }
    }
  };
  // the gallery takes several photos at once; the camera one at a time
  const picker = (label, source, capture) => el("label", { class: "button small photo-button" }, label,
    el("input", { type: "file", accept: "image/*", capture, multiple: capture ? null : "", class: "sr-only",
      "data-after-photo": `${item.id}:${source}`, onchange: (e) => add(e.target, source) }));
  // which inspection raised it: a mystery visit says 神秘人 and the day, nothing more
  const source = item.mode === "mystery_visit" ? item.inspector : item.mode_label;
  const raised = el("p", { class: "muted", "data-rect-source": item.inspection_id },
    dated(t("raised_in", { source, date: item.inspection_date || "" })),
    item.inspection_readable ? [" · ", el("a", { href: `/results/${item.inspection_id}` }, t("view_result"))] : null);
  // the outlet's own fix, read-only while it awaits review
  const sent = (fix) => [el("p", { "data-rect-note": item.id }, t("fix_note_shown", { note: fix.fix_note || "" })),
    ...photoRow(item, fix.after_photos, "after_photos", "data-sent")];
  const node = el("article", { class: "card", "data-rect": item.id },
    el("p", { class: "item-head" }, el("span", { class: "code" }, item.item_code),
      item.red_line ? el("span", { class: "tag red" }, t("red_line")) : null,
      el("span", { class: "tag" }, item.severity_label),
      item.overdue ? el("span", { class: "badge sync-error" }, t("overdue")) : null),
    el("h2", { class: "item-text" }, item.item_text),
    raised,
    item.finding_note ? el("p", { class: "muted" }, item.finding_note) : null,
    ...photoRow(item, item.before_photos, "before_photos", "data-before"),
    el("p", {}, dated(t("deadline", { date: item.deadline }))),
    appealLine(item),
    item.state === "submitted" ? el("p", { class: "flash", "data-rect-state": "submitted" }, t("fix_submitted")) : null,
    ...(item.state === "submitted" ? sent(item) : []),
    item.rejection_reason && item.state === "open" ? el("p", { class: "warn" }, t("rejected_before", { reason: item.rejection_reason })) : null,
    // only the inspected outlet fixes; everyone else sees whose item it is
    ...(item.can_submit_fix ? [] : [el("p", { class: "muted" }, item.outlet.name)]));
  if (!item.can_submit_fix || item.state !== "open") return node;  // a submitted fix awaits its review
  node.append(
    el("div", { class: "photo-actions" }, picker(t("camera"), "camera", "environment"), picker(t("gallery"), "gallery", null)),
    thumbs,
    el("label", {}, t("fix_note"), note),
    error,
    el("button", { type: "button", class: "primary wide", onclick: async (e) => {
      const button = e.target;
      button.disabled = true;
      await uploads;
      button.disabled = false;
      // a photo did not go up while the fix waited: said, and not sent without it unless asked again
      if (notUp && uploaded.length) { notUp = false; return; }
      if (!uploaded.length) return fail(t("need_after_photo"));
      if (note.value.trim().length < 2) return fail(t("need_note"));
      button.disabled = true;
      try {
        const { data } = await request("POST", `/api/v1/rectification/items/${item.id}/submit`, { json: { note: note.value.trim(), photo_ids: uploaded } });
        node.replaceChildren(el("h2", { class: "item-text" }, item.item_text), raised,
          el("p", { class: "flash", role: "status", "data-rect-state": "submitted" }, t("fix_submitted")), ...sent(data));
      } catch (err) {
        if (refused(err)) return;
        button.disabled = false;
        fail(navigator.onLine ? err.message : t("online_only"));
      }
    } }, t("submit_fix")));
  return node;
}

// Where the outlet's appeal against the finding stands: 申诉处理中 while it waits (the
// deadline still runs), then the decision and its note.
function appealLine(item) {
  const appeal = item.appeal;
  if (!appeal) return null;
  return el("p", { class: `appeal-state ${appeal.status}`, "data-rect-appeal": appeal.status },
    appeal.status_label,
    appeal.decision_note ? el("span", { class: "muted" }, ` · ${t("decision_note_is", { value: appeal.decision_note })}`) : null);
}

// Items an appeal withdrew lately: they leave the list of fixes owed, and say why here.
const WITHDRAWN_DAYS = 30;

function withdrawnCard(item) {
  return el("article", { class: "card", "data-rect-withdrawn": item.id },
    el("p", { class: "item-head" }, el("span", { class: "code" }, item.item_code),
      item.can_submit_fix ? null : el("strong", {}, item.outlet.name)),
    el("h3", { class: "item-text" }, item.item_text),
    appealLine(item) || el("p", { class: "appeal-state overturned" }, item.closed_reason_label),
    el("p", { class: "muted" }, t("no_fix_needed")));
}

async function withdrawn() {
  const since = bankDate(new Date(Date.now() - WITHDRAWN_DAYS * 864e5));
  try {
    const data = await getJSON(`/api/v1/rectification/items?state=closed&closed_reason=withdrawn&closed_from=${since}&per_page=20`);
    $("withdrawn-list").replaceChildren(...data.items.map(withdrawnCard));
    $("withdrawn").hidden = !data.items.length;
  } catch (error) {
    $("withdrawn").hidden = true;  // a side note: the list of fixes owed says what failed
  }
}

// Before (the inspector's evidence) and after (the outlet's fix), side by side to compare.
function photoRow(item, photos, label, mark) {
  if (!photos || !photos.length) return [];
  return [el("p", { class: "muted" }, t(label)), photoThumbs(photos, { alt: `${item.item_code} ${t(label)}`, mark })];
}

function reviewCard(item, decided) {
  const reason = el("textarea", { rows: "2", "data-reject-reason": item.id, "aria-label": `${item.item_code} ${t("reject_reason")}` });
  const error = el("p", { class: "item-error", role: "alert", hidden: true });
  const node = el("article", { class: "card", "data-review": item.id });
  const decide = (action) => async () => {
    const json = action === "reject" ? { reason: reason.value.trim() } : {};
    if (action === "reject" && json.reason.length < 2) { error.textContent = t("need_reject_reason"); error.hidden = false; return; }
    for (const b of node.querySelectorAll("button")) b.disabled = true;
    try {
      const { data } = await request("POST", `/api/v1/rectification/items/${item.id}/${action}`, { json });
      decided(action);  // it has left the list of fixes awaiting review
      node.replaceChildren(el("h3", { class: "item-text" }, item.item_text),
        el("p", { class: "flash", role: "status" }, action === "accept" ? t("fix_accepted") : t("fix_rejected", { reason: json.reason })),
        ...(data.can_close ? closing(data) : []));
    } catch (err) {
      for (const b of node.querySelectorAll("button")) b.disabled = false;
      error.textContent = navigator.onLine ? err.message : t("online_needed");
      error.hidden = false;
    }
  };
  node.append(...[
    el("p", { class: "item-head" }, el("span", { class: "code" }, item.item_code),
      item.red_line ? el("span", { class: "tag red" }, t("red_line")) : null,
      el("strong", {}, item.outlet.name)),
    el("h3", { class: "item-text" }, item.item_text),
    item.finding_note ? el("p", { class: "muted" }, item.finding_note) : null,
    el("p", { class: "muted" }, dated([t("deadline", { date: item.deadline }),
      item.fix_submitted_at ? t("fix_submitted_on", { date: bankDate(item.fix_submitted_at) }) : null].filter(Boolean).join(" · "))),
    appealLine(item),
    el("p", {}, t("fix_note_shown", { note: item.fix_note || "" })),
    ...photoRow(item, item.before_photos, "before_photos", "data-before"),
    ...photoRow(item, item.after_photos, "after_photos", "data-after"),
    ...photoRow(item, item.earlier_after_photos, "earlier_after_photos", "data-earlier"),
    el("label", {}, t("reject_reason"), reason),
    error,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", onclick: decide("accept") }, t("accept_fix")),
      el("button", { type: "button", onclick: decide("reject") }, t("reject_fix")))].filter(Boolean));
  return node;
}

// 销号: the accepted fix leaves the working lists. Offered on the card of a fix just accepted
// and on each card under 待销号 (the same item may be on both: closed on one, it is closed on
// both, and 待销号 counts it gone).
const CLOSABLE_URL = "/api/v1/rectification/items?state=accepted&closable=true";
let closableList = null;

function closedEverywhere(id) {
  for (const button of document.querySelectorAll(`[data-close="${id}"]`)) {
    button.replaceWith(el("p", { class: "flash", role: "status", "data-closed": id }, t("fix_closed")));
  }
  if (closableList && document.querySelector(`[data-closable="${id}"]`)) closableList.left();
}

function closing(item) {
  const error = el("p", { class: "item-error", role: "alert", hidden: true });
  const button = el("button", { type: "button", "data-close": item.id, onclick: async () => {
    button.disabled = true;
    try {
      await request("POST", `/api/v1/rectification/items/${item.id}/close`, { json: {} });
      error.hidden = true;
      closedEverywhere(item.id);
    } catch (err) {
      button.disabled = false;
      error.textContent = navigator.onLine ? err.message : t("online_needed");
      error.hidden = false;
    }
  } }, t("close_fix"));
  return [error, el("div", { class: "actions" }, button)];
}

function closeCard(item) {
  return el("article", { class: "card", "data-closable": item.id },
    el("p", { class: "item-head" }, el("span", { class: "code" }, item.item_code),
      item.red_line ? el("span", { class: "tag red" }, t("red_line")) : null,
      el("strong", {}, item.outlet.name)),
    el("h3", { class: "item-text" }, item.item_text),
    el("p", { class: "muted" }, dated([t("deadline", { date: item.deadline }),
      item.decided_at ? t("accepted_on", { date: bankDate(item.decided_at) }) : null].filter(Boolean).join(" · "))),
    item.fix_note ? el("p", {}, t("fix_note_shown", { note: item.fix_note })) : null,
    ...closing(item));
}

async function load() {
  const reviewer = $("review").dataset.reviewer === "1";
  // the outlet follows its submitted fixes until they are accepted; reviewers see those below
  const states = reviewer ? "state=open" : "state=open&state=submitted";
  let reviews = null;
  if (reviewer) {
    closableList = pagedList({
      url: CLOSABLE_URL, list: $("closing-list"), status: $("closing-status"),
      more: $("closing-more"), empty: "closing_empty", render: closeCard,
    });
    reviews = pagedList({
      // only the fixes this person may decide, so 显示 n 条，共 m 条 counts those alone
      url: "/api/v1/rectification/items?state=submitted&reviewable=true", list: $("review-list"),
      status: $("review-status"), more: $("review-more"), empty: "review_empty",
      // an accepted fix now waits under 待销号
      render: (item) => reviewCard(item, (action) => {
        reviews.left();
        if (action === "accept") closableList.reload(CLOSABLE_URL);
      }),
      // the photos come with each item's detail
      prepare: (items) => Promise.all(items.map((item) => getJSON(`/api/v1/rectification/items/${item.id}`))),
    });
  }
  const open = pagedList({ url: `/api/v1/rectification/items?${states}`, list: $("rect-list"),
    status: $("rect-status"), more: $("rect-more"), render: card, empty: "rect_empty",
    // the inspector's before-photos (and the outlet's own fix, once sent) come with each detail
    prepare: (items) => Promise.all(items.map((item) => getJSON(`/api/v1/rectification/items/${item.id}`).catch(() => item))) });
  await Promise.all([reviews && reviews.ready, closableList && closableList.ready, open.ready, withdrawn()]);
}

start();
load();
