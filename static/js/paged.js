// A list that loads a page at a time: 「加载更多」 under it while the server holds more, and how
// many are shown of how many above it. Used by 检查结果 and 整改.
//
// ``prepare`` may turn a page's items into what ``render`` draws (e.g. fetch their details).
// An item that leaves the server's list while shown (a fix just accepted) is reported with
// ``left()``: the next page starts that much earlier, and items already shown are never drawn
// twice. Items others took off the list are covered too: the next page is read from the last;
// and items that arrived above the pages read are fetched once the end is reached.
// ``reload(url)`` starts over on another query (a filter tapped); an answer to an
// earlier query that arrives late is dropped, never drawn over the newer one.
import { NetworkError, getJSON } from "./api.js";
import { t } from "./app.js";

export function pagedList({ url, list, status, more, render, empty, pageSize = 20,
  prepare = async (items) => items }) {
  let known = new Set();
  let gone = 0;
  let total = 0;
  let query = 0;  // which reload the answers belong to
  const counted = () => {
    const shown = known.size - gone;
    status.textContent = total ? t("count_shown", { shown, total }) : t(empty);
    more.hidden = shown >= total;
  };
  const next = async (first) => {
    const mine = query;
    more.disabled = true;
    try {
      // From the last page read, not the one after: items that left the list meanwhile by
      // someone else's hand (a result sent back, a fix accepted on another phone) moved the
      // next ones up onto it. Those already shown are passed over.
      const from = Math.max(1, Math.floor((known.size - gone) / pageSize));
      let page = from;
      let fresh = [];
      const take = (data) => {
        total = data.total;
        const taken = new Set(fresh.map((item) => item.id));
        fresh = fresh.concat(data.items.filter((item) => !known.has(item.id) && !taken.has(item.id)));
      };
      for (;;) {
        const data = await getJSON(`${url}&per_page=${pageSize}&page=${page}`);
        if (mine !== query) return;
        take(data);
        if (fresh.length >= pageSize || page * pageSize >= total) break;
        page += 1;
      }
      // The end is reached and some counted are still not shown: they arrived above the pages
      // read (a finding due sooner, a deadline moved). Those pages are read again for them;
      // they are drawn at the bottom, out of order, rather than never.
      for (page = 1; page < from && fresh.length < pageSize && known.size - gone + fresh.length < total; page += 1) {
        take(await getJSON(`${url}&per_page=${pageSize}&page=${page}`));
        if (mine !== query) return;
      }
      fresh = fresh.slice(0, pageSize);
      const nodes = (await prepare(fresh)).map(render);
      if (mine !== query) return;
      for (const item of fresh) known.add(item.id);
      if (first) list.replaceChildren(...nodes); else list.append(...nodes);
      counted();
    } catch (error) {
      if (mine === query) {
        status.textContent = error instanceof NetworkError ? t("list_offline") : t("load_failed", { message: error.message });
      }
    } finally {
      if (mine === query) more.disabled = false;
    }
  };
  more.addEventListener("click", () => next(false));
  return {
    ready: next(true),
    left: () => { gone += 1; total -= 1; counted(); },
    reload: (newUrl) => {
      url = newUrl;
      query += 1;
      known = new Set();
      gone = 0;
      total = 0;
      return next(true);
    },
  };
}
