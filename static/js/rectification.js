// 我的整改: the outlet fixes a finding — after-photo(s) downscaled on the phone, a note, submit.
// Uploads go straight to the server (idempotent by client_id); this screen needs the network.
import { getJSON, request } from "./api.js";
import { el, start, t } from "./app.js";
import { prepare } from "./photos.js";
import { uuid } from "./store.js";

const $ = (x) => document.getElementById(x);

function card(item) {
  const uploaded = [];
  const thumbs = el("ul", { class: "thumbs" });
  const error = el("p", { class: "item-error", role: "alert", hidden: true });
  const note = el("textarea", { rows: "3", "data-fix-note": item.id, "aria-label": `${item.item_code} ${t("fix_note")}` });
  const fail = (message) => { error.textContent = message; error.hidden = false; };
  const add = async (input, source) => {
    error.hidden = true;
    for (const file of Array.from(input.files || [])) {
      const { blob, facts } = await prepare(file, source);
      const form = new FormData();
      form.append("file", blob, "after.jpg");
      form.append("client_id", uuid());
      form.append("client_facts", JSON.stringify(facts));
      try {
        const { data } = await request("POST", `/api/v1/rectification/items/${item.id}/photos`, { form });
        uploaded.push(data.id);
        thumbs.append(el("li", { class: "thumb" }, el("img", { src: URL.createObjectURL(blob), alt: item.item_code, width: "72", height: "72" }),
          el("span", { class: "badge ok" }, t("photo_uploaded"))));
      } catch (e) { fail(navigator.onLine ? e.message : t("online_only")); }
    }
    input.value = "";
  };
  const picker = (label, source, capture) => el("label", { class: "button small photo-button" }, label,
    el("input", { type: "file", accept: "image/*", capture, class: "sr-only", "data-after-photo": `${item.id}:${source}`,
      onchange: (e) => add(e.target, source) }));
  const node = el("article", { class: "card", "data-rect": item.id },
    el("p", { class: "item-head" }, el("span", { class: "code" }, item.item_code),
      item.red_line ? el("span", { class: "tag red" }, t("red_line")) : null,
      el("span", { class: "tag" }, item.severity_label),
      item.overdue ? el("span", { class: "badge sync-error" }, t("overdue")) : null),
    el("h2", { class: "item-text" }, item.item_text),
    item.finding_note ? el("p", { class: "muted" }, item.finding_note) : null,
    el("p", {}, t("deadline", { date: item.deadline })),
    // only the inspected outlet fixes; everyone else sees whose item it is
    ...(item.can_submit_fix ? [] : [el("p", { class: "muted" }, item.outlet.name)]));
  if (!item.can_submit_fix) return node;
  node.append(
    el("div", { class: "photo-actions" }, picker(t("camera"), "camera", "environment"), picker(t("gallery"), "gallery", null)),
    thumbs,
    el("label", {}, t("fix_note"), note),
    error,
    el("button", { type: "button", class: "primary wide", onclick: async (e) => {
      if (!uploaded.length) return fail(t("need_after_photo"));
      if (note.value.trim().length < 2) return fail(t("need_note"));
      e.target.disabled = true;
      try {
        await request("POST", `/api/v1/rectification/items/${item.id}/submit`, { json: { note: note.value.trim(), photo_ids: uploaded } });
        node.replaceChildren(el("h2", { class: "item-text" }, item.item_text), el("p", { class: "flash", role: "status" }, t("fix_submitted")));
      } catch (err) { e.target.disabled = false; fail(navigator.onLine ? err.message : t("online_only")); }
    } }, t("submit_fix")));
  return node;
}

async function load() {
  try {
    const page = await getJSON("/api/v1/rectification/items?state=open&per_page=100");
    $("rect-list").replaceChildren(...page.items.map(card));
    $("rect-status").textContent = page.items.length ? "" : t("rect_empty");
  } catch (error) {
    $("rect-status").textContent = t("load_failed", { message: error.message });
  }
}

start();
load();
