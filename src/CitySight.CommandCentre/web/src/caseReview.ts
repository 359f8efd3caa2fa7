// Cases (review): every case the store holds, filtered by state, type, group and the time it was raised, newest first,
// kept live from the case feed. The filters live in the address (#/cases?state=…), so a view can be bookmarked or sent.
import { CaseList, ConsoleCamera, ConsoleCase, ConsoleEvent, Overview, caseList } from "./api";
import { stateBadge, typeName } from "./caseDetail";
import { h } from "./dom";
import { formatTime, lang, t } from "./i18n";

const words = {
  zh: {
    title: "案件审查", stateFilter: "状态", typeFilter: "类型", groupFilter: "片区", from: "立案时间自", to: "至", any: "全部",
    apply: "查询", shown: (n: number) => `共 ${n} 条（最多显示 ${limit} 条，最新在前）`, none: "没有符合条件的案件", raised: "立案时间",
    states: { open: "待处理", reported: "已上报", acknowledged: "已受理", closed: "已结案", rejected: "已驳回", final: "已办结", all: "全部" } as Record<string, string>,
  },
  en: {
    title: "Case review", stateFilter: "State", typeFilter: "Type", groupFilter: "Group", from: "Raised from", to: "to", any: "Any",
    apply: "Search", shown: (n: number) => `${n} case(s) (at most ${limit}, newest first)`, none: "No case matches", raised: "Raised at",
    states: { open: "Open", reported: "Reported", acknowledged: "Acknowledged", closed: "Closed", rejected: "Rejected", final: "Closed or rejected", all: "All" } as Record<string, string>,
  },
};
const w = () => words[lang()];

const limit = 200;
const stateOptions = ["open", "reported", "acknowledged", "closed", "rejected", "final", "all"];
const statesOf: Record<string, string[] | null> = {
  open: ["reported", "acknowledged"], reported: ["reported"], acknowledged: ["acknowledged"], closed: ["closed"],
  rejected: ["rejected"], final: ["closed", "rejected"], all: null,
};

/** The filters, as the address holds them. */
export interface ReviewFilters { state: string; type: string; group: string; since: string; until: string; }

export function isReviewRoute(hash: string): boolean {
  return /^#\/cases\/?(\?.*)?$/.test(hash);
}

function filtersOf(hash: string): ReviewFilters {
  const q = new URLSearchParams(hash.split("?")[1] ?? "");
  const state = q.get("state") ?? "open";
  return { state: stateOptions.includes(state) ? state : "open", type: q.get("type") ?? "", group: q.get("group") ?? "", since: q.get("since") ?? "", until: q.get("until") ?? "" };
}

function hashOf(f: ReviewFilters): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v && !(k === "state" && v === "open")) q.set(k, v);
  const s = q.toString();
  return s ? `#/cases?${s}` : "#/cases";
}

/** A datetime-local value (the operator's clock) as ISO 8601 with its offset, which the API takes. */
function instant(local: string): string {
  return local ? new Date(local).toISOString() : "";
}

function matches(c: ConsoleCase, f: ReviewFilters): boolean {
  const states = statesOf[f.state];
  if (states && !states.includes(c.state)) return false;
  if (f.type && c.type !== f.type) return false;
  if (f.group && c.groupId !== f.group) return false;
  const raised = c.raisedAt ?? c.firstSeen;
  if (f.since && raised < instant(f.since)) return false;
  if (f.until && raised > instant(f.until)) return false;
  return true;
}

let shown: ConsoleCase[] = [];
let filters: ReviewFilters | null = null;
let body: HTMLElement | null = null;
let count: HTMLElement | null = null;
let cameraNames = new Map<string, ConsoleCamera>();

function row(c: ConsoleCase): HTMLElement {
  return h("tr", { "data-case-id": c.id, onclick: () => { location.hash = `#/cases/${encodeURIComponent(c.id)}`; } },
    h("td", {}, h("a", { href: `#/cases/${encodeURIComponent(c.id)}` }, c.id)),
    h("td", {}, typeName(c)),
    h("td", {}, cameraNames.get(c.cameraId)?.name ?? c.cameraId),
    h("td", {}, formatTime(c.raisedAt ?? c.firstSeen)),
    h("td", {}, stateBadge(c.state)));
}

function fill(): void {
  if (!body || !count) return;
  body.replaceChildren(...shown.map(row));
  count.textContent = shown.length ? w().shown(shown.length) : w().none;
}

/** Renders #/cases?… into `root`: the filter bar, then the matching cases as the store has them. */
export async function showCaseReview(root: HTMLElement, overview: Overview | null, cameras: Map<string, ConsoleCamera>): Promise<void> {
  const f = filtersOf(location.hash);
  filters = f;
  cameraNames = cameras;
  const x = w();
  const select = (id: string, value: string, options: [string, string][]) =>
    h("select", { id }, ...options.map(([v, label]) => { const o = h("option", { value: v }, label) as HTMLOptionElement; o.selected = v === value; return o; }));
  const typeNames = Object.entries(overview?.types ?? {}).map(([id, n]) => [id, lang() === "zh" ? n.zh : n.en] as [string, string]);
  const groups = Object.entries(overview?.groups ?? {}) as [string, string][];
  const state = select("filter-state", f.state, stateOptions.map((s) => [s, x.states[s]]));
  const type = select("filter-type", f.type, [["", x.any], ...typeNames]);
  const group = select("filter-group", f.group, [["", x.any], ...groups]);
  const since = h("input", { type: "datetime-local", id: "filter-since", value: f.since }) as HTMLInputElement;
  const until = h("input", { type: "datetime-local", id: "filter-until", value: f.until }) as HTMLInputElement;
  const label = (text: string, control: HTMLElement) => h("label", {}, h("span", {}, text), control);
  const apply = (e: Event) => {
    e.preventDefault();
    location.hash = hashOf({
      state: (state as HTMLSelectElement).value, type: (type as HTMLSelectElement).value, group: (group as HTMLSelectElement).value,
      since: since.value, until: until.value,
    });
  };
  count = h("p", { class: "review-count", role: "status" });
  body = h("tbody");
  root.replaceChildren(h("section", { class: "cases review" },
    h("h2", {}, x.title),
    h("form", { class: "filters", id: "review-filters", onsubmit: apply },
      label(x.stateFilter, state), label(x.typeFilter, type), label(x.groupFilter, group), label(x.from, since), label(x.to, until),
      h("button", { type: "submit" }, x.apply)),
    count,
    h("table", { id: "review-cases" },
      h("thead", {}, h("tr", {}, h("th", {}, t().id), h("th", {}, t().type), h("th", {}, t().camera), h("th", {}, x.raised), h("th", {}, t().state))),
      body)));
  let list: CaseList;
  try {
    list = await caseList({ state: f.state, type: f.type, group: f.group, since: instant(f.since), until: instant(f.until), limit });
  } catch (err) {
    count.textContent = err instanceof Error ? err.message : String(err);
    count.classList.add("error");
    return;
  }
  if (filters !== f) return; // the operator changed the filters meanwhile
  shown = list.cases;
  fill();
}

/** A case event while the review is shown: a case that now matches appears, one that no longer does leaves. */
export function onReviewEvent(e: ConsoleEvent): void {
  const c = e.case;
  if (!c || !filters || !isReviewRoute(location.hash)) return;
  const at = shown.findIndex((x) => x.id === c.id);
  if (!matches(c, filters)) { if (at >= 0) shown.splice(at, 1); }
  else if (at >= 0) shown[at] = c;
  else {
    shown.unshift(c);
    shown.sort((a, b) => b.sequence - a.sequence);
    if (shown.length > limit) shown.length = limit;
  }
  fill();
}
