// 检查结果: submitted inspections of the outlets this person may see. A mystery visit shows
// "神秘人" and a date only — the API never sends more to the outlet. A reviewer finalises a
// submitted result or sends it back from its page.
import { NetworkError, getJSON, request } from "./api.js";
import { dated, el, keysWith, lateTag, photoThumbs, scoreText, start, t, withUnit } from "./app.js";
import { pagedList } from "./paged.js";

const $ = (x) => document.getElementById(x);
const detailId = Number(location.pathname.split("/")[2]) || null;

function answerText(item, answer) {
  if (!answer || answer.value === null || answer.value === undefined) return "—";
  const value = answer.value;
  if (value === "pass" || value === "fail" || value === "na") return t(value);
  if (item.response_type === "deduction") return `${t("deduct_points")} ${value}`;
  return withUnit(value, (item.config && item.config.unit) || "");
}

// Newest submissions first, a page at a time (「加载更多」), filtered by where they stand:
// all, awaiting review (已提交) or final (已定稿).
// a finding whose fix was accepted (or that was fixed on the spot) is no longer a red "to do"
const FIXED = ["accepted", "closed"];
const FILTERS = { all: ["submitted", "final"], submitted: ["submitted"], final: ["final"] };
const listUrl = (key) => `/api/v1/inspections?${FILTERS[key].map((s) => `status=${s}`).join("&")}&order=recent`;

function resultRow(r) {
  return el("li", {},
    el("a", { class: "task", href: `/results/${r.id}`, "data-result": r.id },
      el("strong", {}, r.outlet.name),
      el("span", { class: "muted" }, [r.mode_label, r.status_label].join(" · ")),
      el("span", { class: "muted" }, dated(`${t("labelled", { label: t("inspector") })}${r.inspector || "—"} · ${t("labelled", { label: t("submitted_at") })}${r.submitted_on || ""}`)),
      el("span", { class: "badge" }, `${t("score")} ${scoreText(r.total)}`),
      lateTag(r)));
}

function results() {
  const shown = pagedList({ url: listUrl("all"), list: $("results-list"), status: $("results-status"),
    more: $("results-more"), render: resultRow, empty: "results_empty", pageSize: 30 });
  const buttons = Object.keys(FILTERS).map((key) => el("button", {
    type: "button", class: "choice step", "data-filter": key, "aria-pressed": String(key === "all"),
    onclick: () => {
      for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.filter === key));
      shown.reload(listUrl(key));
    } }, t(`results_${key}`)));
  $("results-filter").replaceChildren(...buttons);
}

// The page's strings arrive with their keys sorted (Jinja's tojson), so the categories are put
// back in the order people expect: the most common reason first (preselected), 其他 last.
const CATEGORY_ORDER = ["standard_misapplied", "facts_wrong", "already_fixed", "not_applicable"];
const categoryRank = (key) => (key === "other" ? 1e3 : CATEGORY_ORDER.includes(key) ? CATEGORY_ORDER.indexOf(key) : 1e2);
const appealCategories = () => keysWith("cat_").sort((a, b) => categoryRank(a) - categoryRank(b));

// Under a finding: where its latest appeal stands, and — when the server says this person may
// appeal it now — a button that opens the appeal form (category and reason).
function appealBox(finding) {
  const box = el("div", { class: "appeal", "data-appeal-box": finding.id });
  const render = () => {
    const a = finding.appeal;
    box.replaceChildren(...[
      a ? el("p", { class: `appeal-state ${a.status}`, "data-appeal-state": a.status },
        t("appeal_state", { status: t(`appeal_${a.status}`) }),
        a.decision_note ? el("span", { class: "muted" }, ` · ${t("decision_note_is", { value: a.decision_note })}`) : null) : null,
      finding.can_appeal ? el("button", { type: "button", class: "small", "data-appeal": finding.id, onclick: open }, t("appeal")) : null].filter(Boolean));
  };
  const open = () => {
    const category = el("select", { "data-appeal-category": finding.id },
      appealCategories().map((key) => el("option", { value: key }, t(`cat_${key}`))));
    const text = el("textarea", { rows: "3", "data-appeal-text": finding.id });
    const error = el("p", { class: "item-error", role: "alert", hidden: true });
    const send = el("button", { type: "button", class: "primary small", onclick: async () => {
      if (text.value.trim().length < 5) { error.textContent = t("need_appeal_text"); error.hidden = false; return; }
      send.disabled = true;
      try {
        const { data } = await request("POST", `/api/v1/findings/${finding.id}/appeals`, { json: { category: category.value, text: text.value.trim() } });
        finding.appeal = data;
        finding.can_appeal = false;
        render();
      } catch (e) {
        send.disabled = false;
        error.textContent = navigator.onLine ? e.message : t("online_needed");
        error.hidden = false;
      }
    } }, t("appeal_submit"));
    box.replaceChildren(el("div", { class: "appeal-form" },
      el("label", {}, t("appeal_category"), category),
      el("label", {}, t("appeal_text"), text),
      error,
      el("div", { class: "actions" }, send, el("button", { type: "button", class: "small", onclick: render }, t("cancel")))));
    text.focus();
  };
  render();
  return box;
}

// For a reviewer, while the result awaits review: accept it as final (定稿), or send it back
// to its inspector with a reason (退回修改). Either answer redraws the page from the server's.
function reviewBox(r) {
  const shown = [];
  if (r.review_note && r.status === "returned") {
    shown.push(el("p", { class: "card", id: "review-note" }, t("returned_because", { reason: r.review_note })));
  }
  if (!r.can_review) return shown;
  const reason = el("textarea", { rows: "2", id: "review-reason" });
  const error = el("p", { class: "item-error", role: "alert", hidden: true });
  const act = async (url, json) => {
    error.hidden = true;
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    try {
      const { data } = await request("POST", url, { json });
      render(data);
    } catch (e) {
      for (const b of box.querySelectorAll("button")) b.disabled = false;
      error.textContent = navigator.onLine ? e.message : t("online_needed");
      error.hidden = false;
    }
  };
  const finalise = el("button", { type: "button", class: "primary small", id: "review-finalise",
    onclick: () => act(`/api/v1/inspections/${r.id}/finalise`) }, t("review_finalise"));
  const sendBack = el("button", { type: "button", class: "small", id: "review-return", onclick: () => {
    if (reason.value.trim().length < 2) {
      error.textContent = t("need_return_reason");
      error.hidden = false;
      reason.focus();
      return;
    }
    act(`/api/v1/inspections/${r.id}/return`, { reason: reason.value.trim() });
  } }, t("review_return"));
  // an appealed result is the outlet's case now: it can only be finalised, and says so
  // before anyone types a reason the server would refuse
  const box = el("section", { class: "card", id: "review-box" },
    el("h2", {}, t("review")),
    r.can_return ? el("p", { class: "muted" }, t("review_hint"))
      : el("p", { class: "muted", id: "review-no-return" }, t("return_appealed")),
    r.can_return ? el("label", {}, t("return_reason"), reason) : null,
    error,
    el("div", { class: "actions" }, finalise, r.can_return ? sendBack : null));
  shown.push(box);
  return shown;
}

const plain = (n) => String(Number(n));  // 59 rather than 59.00, 12.5 as it is

// When the red-line rule changed the total (a cap below the score, or 判定不合格), the score
// before it: what a reviewer checks before 定稿. Nothing when it left the total as it was.
function rawScore(score) {
  const applied = score && score.red_line_applied;
  if (!applied || applied.total_before === null || applied.total_before === undefined
      || applied.total_before === applied.total_after) return null;
  const raw = scoreText(applied.total_before);
  return applied.mode === "fail" ? t("raw_failed", { raw }) : t("raw_capped", { raw, cap: plain(applied.cap) });
}

// Each section's points, possible points and percentage — and its weight, where the checklist
// weighs its sections (the total is then the weighted mean of the percentages).
function sectionScores(r) {
  const rows = (r.score && r.score.sections) || [];
  if (!rows.length) return [];
  const names = new Map(r.checklist.sections.map((s) => [s.code, s.name]));
  const weighted = rows.some((s) => s.weight !== null && s.weight !== undefined);
  const heads = [t("section"), t("earned"), t("possible"), t("percent"), weighted ? t("section_weight") : null];
  return [el("section", { class: "card", id: "section-scores" }, el("h2", {}, t("section_scores")),
    el("div", { class: "table-scroll" }, el("table", { class: "scores" },
      el("thead", {}, el("tr", {}, heads.filter(Boolean).map((h, i) => el("th", { scope: "col", class: i ? "num" : null }, h)))),
      el("tbody", {}, rows.map((s) => el("tr", { "data-section": s.section },
        el("th", { scope: "row" }, names.get(s.section) || s.section),
        el("td", { class: "num" }, scoreText(s.earned)),
        el("td", { class: "num" }, scoreText(s.possible)),
        el("td", { class: "num" }, s.percent === null || s.percent === undefined ? "—" : `${scoreText(s.percent)}%`),
        weighted ? el("td", { class: "num" }, s.weight === null || s.weight === undefined ? "—" : plain(s.weight)) : null))))))];
}

const minutes = (n) => (n === null || n === undefined ? "—" : plain(n));

// A mystery visit's scenario and timed events, with the minutes since the time before and
// since arrival: the API sends them only to those who may know the shopper (the shopper and
// the branch's service managers) — the outlet side gets no scenario and no timeline, so
// nothing is drawn for it.
function visitRecord(r) {
  const rows = r.visit_timeline || [];
  if (r.mode !== "mystery_visit" || (!rows.length && !r.scenario)) return [];
  return [el("section", { class: "card", id: "visit-record" },
    el("h2", {}, t("visit_record"), rows.length ? el("small", { class: "muted" }, ` ${rows[0].date}`) : null),
    r.scenario ? el("p", { id: "visit-scenario" }, `${t("labelled", { label: t("scenario") })}${r.scenario}`) : null,
    rows.length ? el("div", { class: "table-scroll" }, el("table", { class: "scores" },
      el("thead", {}, el("tr", {}, [t("visit_event"), t("visit_time"), t("since_previous"), t("since_arrival")]
        .map((h, i) => el("th", { scope: "col", class: i > 1 ? "num" : null }, h)))),
      el("tbody", {}, rows.map((row) => el("tr", { "data-visit-event": row.event },
        el("th", { scope: "row" }, row.label),
        el("td", {}, row.time),
        el("td", { class: "num" }, minutes(row.since_previous)),
        el("td", { class: "num" }, minutes(row.since_arrival)))))))
      : el("p", { class: "muted" }, t("no_visit_times")))];
}

async function detail() {
  let r;
  try {
    r = await getJSON(`/api/v1/inspections/${detailId}`);
  } catch (error) {
    $("result-meta").textContent = error instanceof NetworkError ? t("offline_no_copy") : t("load_failed", { message: error.message });
    return;
  }
  render(r);
}

function render(r) {
  $("result-title").textContent = r.outlet.name;
  $("result-meta").replaceChildren(...dated([r.mode_label, r.status_label, `${t("labelled", { label: t("inspector") })}${r.inspector || "—"}`,
    `${t("labelled", { label: t("submitted_at") })}${r.submitted_on || ""}`].join(" · ")));
  if (r.submitted_late) $("result-meta").append(" ", lateTag(r));
  $("result-score").replaceChildren(t("labelled", { label: t("score") }), el("strong", {}, scoreText(r.total)),
    r.score && r.score.grade ? ` · ${t("labelled", { label: t("grade") })}${r.score.grade_label || r.score.grade}` : "",
    r.red_line_failed ? el("span", { class: "tag red" }, t("red_line_failed")) : "",
    (r.findings || []).some((f) => f.status === "overturned") ? el("span", { class: "muted", id: "result-rescored" }, ` · ${t("rescored_on_appeal")}`) : "");
  const raw = rawScore(r.score);
  $("result-raw").textContent = raw || "";
  $("result-raw").hidden = !raw;
  $("result-breakdown").replaceChildren(...sectionScores(r));
  $("result-visit").replaceChildren(...visitRecord(r));
  // the PDFs of this result (the API lets whoever may read the result download them)
  $("result-downloads").replaceChildren(...[
    el("a", { class: "button small", href: `/api/v1/inspections/${r.id}/report.pdf`, download: true, "data-pdf": "report" }, t("report_pdf")),
    (r.findings || []).length ? el("a", { class: "button small", href: `/api/v1/inspections/${r.id}/rectification-list.pdf`, download: true, "data-pdf": "list" }, t("list_pdf")) : null].filter(Boolean));
  $("result-review").replaceChildren(...reviewBox(r));
  const findings = new Map((r.findings || []).map((f) => [f.item_code, f]));
  const sections = r.checklist.sections.map((section) => {
    const own = r.checklist.items.filter((i) => i.section === section.code);
    if (!own.length) return null;
    return el("section", { class: "card" }, el("h2", {}, section.name),
      el("ul", { class: "result-items" }, own.map((item) => {
        const answer = (r.answers || {})[item.code];
        const finding = findings.get(item.code);
        const pics = ((r.photos || {})[item.code] || []).filter((p) => p.purpose !== "after");
        // 立查立改: the inspector's photos of the fix, shown apart, with the finding
        const after = ((r.photos || {})[item.code] || []).filter((p) => p.purpose === "after");
        // a finding withdrawn on appeal no longer counts: its answer stays legible, struck
        // through, and says in words that it was overturned (the score no longer holds it)
        const withdrawn = finding && finding.status === "overturned";
        const shown = answerText(item, answer);
        return el("li", { class: withdrawn ? "withdrawn" : finding ? "failed" : "" },
          el("span", { class: "code" }, item.code), " ", item.text,
          el("br"), withdrawn ? el("del", { class: "original-answer" }, shown) : el("strong", {}, shown),
          answer && answer.note ? el("span", { class: "muted" }, ` · ${answer.note}`) : null,
          withdrawn ? el("span", { class: "tag ok", "data-withdrawn": item.code }, t("withdrawn_answer", { answer: shown }))
            : finding ? el("span", { class: FIXED.includes(finding.rectification_state) || finding.status === "fixed_on_spot" ? "tag ok" : "tag red", "data-finding-state": finding.rectification_state || finding.status }, finding.status_label) : null,
          pics.length ? photoThumbs(pics, { alt: item.code, mark: "data-photo" }) : null,
          after.length ? el("div", { class: "after-photos", "data-after-photos": item.code },
            el("p", { class: "muted" }, t("after_photos")), photoThumbs(after, { alt: item.code, mark: "data-photo" })) : null,
          finding ? appealBox(finding) : null);
      })));
  });
  $("result-sections").replaceChildren(...sections.filter(Boolean));
}

start();
if (detailId) detail(); else results();
