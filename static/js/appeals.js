// 申诉处理: a reviewer upholds or overturns an outlet's appeal with a note. Which appeals this
// person may decide is the server's answer (can_decide: a reviewer who was not the inspector).
import { getJSON, request } from "./api.js";
import { el, start, t } from "./app.js";
import { pagedList } from "./paged.js";

const $ = (x) => document.getElementById(x);

function facts(appeal) {
  return [
    el("p", { class: "item-head" }, el("span", { class: "code" }, appeal.item_code),
      el("strong", {}, appeal.outlet.name),
      el("span", { class: `tag appeal-state ${appeal.status}`, "data-appeal-state": appeal.status }, t(`appeal_${appeal.status}`))),
    el("h3", { class: "item-text" }, appeal.item_text),
    appeal.finding_note ? el("p", { class: "muted" }, appeal.finding_note) : null,
    el("p", {}, t("appeal_category_is", { value: t(`cat_${appeal.category}`) })),
    el("p", {}, t("appeal_text_is", { value: appeal.text })),
    appeal.decision_note ? el("p", {}, t("decision_note_is", { value: appeal.decision_note })) : null,
    el("p", {}, el("a", { href: `/results/${appeal.inspection_id}` }, t("view_result"))),
  ].filter(Boolean);
}

function card(appeal) {
  const node = el("article", { class: "card", "data-appeal-card": appeal.id });
  node.append(...facts(appeal));
  if (!appeal.can_decide) return node;
  const note = el("textarea", { rows: "2", "data-decision-note": appeal.id });
  const error = el("p", { class: "item-error", role: "alert", hidden: true });
  const decide = (decision) => async (e) => {
    if (note.value.trim().length < 2) { error.textContent = t("need_decision_note"); error.hidden = false; return; }
    for (const b of node.querySelectorAll("button")) b.disabled = true;
    try {
      const { data } = await request("POST", `/api/v1/appeals/${appeal.id}/decide`, { json: { decision, note: note.value.trim() } });
      node.replaceChildren(...facts(data));
      $("appeals-decided").querySelector("[data-empty]")?.remove();
      $("appeals-decided").prepend(node);
      pending.left();  // the next page starts that much earlier; none empty says so
    } catch (err) {
      for (const b of node.querySelectorAll("button")) b.disabled = false;
      error.textContent = navigator.onLine ? err.message : t("online_needed");
      error.hidden = false;
    }
  };
  node.append(el("label", {}, t("decision_note"), note), error,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "data-decide": "upheld", onclick: decide("upheld") }, t("appeal_upheld")),
      el("button", { type: "button", "data-decide": "overturned", onclick: decide("overturned") }, t("appeal_overturned"))));
  return node;
}

const empty = (key) => el("p", { class: "muted", "data-empty": "" }, t(key));

// Every pending appeal, a page at a time (加载更多) under how many there are: none is left out
// unsaid, however many wait.
let pending = null;

async function load() {
  pending = pagedList({ url: "/api/v1/appeals?status=pending", list: $("appeals-pending"),
    status: $("appeals-pending-count"), more: $("appeals-more"), render: card, empty: "appeals_empty", pageSize: 30 });
  try {
    const decided = await getJSON("/api/v1/appeals?per_page=30");
    const done = decided.items.filter((a) => a.status !== "pending");
    $("appeals-decided").replaceChildren(...(done.length ? done.map(card) : [empty("appeals_decided_empty")]));
    $("appeals-status").textContent = "";
  } catch (error) {
    $("appeals-status").textContent = t("load_failed", { message: error.message });
  }
}

start();
load();
