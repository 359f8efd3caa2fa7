// The overview's figures beyond the counts: the detector's pace, delivery lag per consumer, and dispatch's outcomes
// (accepted vs rejected, time to close) today and over 7 days, by type and by group. Used by #/ and #/screen.
import { OutcomeFigures, OutcomeWindow, Overview } from "./api";
import { h } from "./dom";
import { lang } from "./i18n";

const words = {
  zh: {
    detector: "检测", fps: "帧/秒", drops: "丢帧/秒", framesTotal: "累计帧", droppedTotal: "累计丢帧", waiting: "统计中…",
    delivery: "推送延迟", consumer: "接收方", behind: "未确认", lastAck: "最近确认", noConsumers: "暂无接收方",
    outcomes: "处置结果", today: "今日", week: "近7天", accepted: "办结", rejected: "驳回（误报）", byCitySight: "自动结案",
    acceptedRate: "办结率", rejectedRate: "误报率", median: "处置时长中位数", p90: "处置时长P90", minutes: "分钟",
    byType: "按类型（近7天）", byGroup: "按片区（近7天）", type: "类型", group: "片区", none: "暂无", secondsAgo: "秒前",
  },
  en: {
    detector: "Detector", fps: "frames/s", drops: "drops/s", framesTotal: "frames", droppedTotal: "dropped", waiting: "measuring…",
    delivery: "Delivery lag", consumer: "Consumer", behind: "Not acked", lastAck: "Last ack", noConsumers: "No consumers yet",
    outcomes: "Outcomes", today: "Today", week: "7 days", accepted: "Closed", rejected: "Rejected (false alarm)", byCitySight: "Closed as gone",
    acceptedRate: "Accepted", rejectedRate: "False alarms", median: "Median time to close", p90: "P90 time to close", minutes: "min",
    byType: "By type (7 days)", byGroup: "By group (7 days)", type: "Type", group: "Group", none: "None yet", secondsAgo: "s ago",
  },
};

export const fw = () => words[lang()];

export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`);
export const mins = (x: number | null | undefined): string => (x === null || x === undefined ? "—" : `${x} ${fw().minutes}`);
const num = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined ? "—" : x.toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: digits });

export const typeLabel = (o: Overview, id: string): string => (lang() === "zh" ? o.types[id]?.zh : o.types[id]?.en) || id;
export const groupLabel = (o: Overview, id: string): string => o.groups[id] || id;

function detectorTile(o: Overview): HTMLElement {
  const w = fw();
  const d = o.detector;
  return h("div", { class: "tile figure", id: "figure-detector" },
    h("div", { class: "tile-title" }, w.detector),
    h("div", { class: "tile-number" }, d?.framesPerSecond === null || d?.framesPerSecond === undefined ? "—" : num(d.framesPerSecond),
      h("small", {}, ` ${w.fps}`)),
    d ? h("ul", { class: "chips" },
      h("li", { class: d.droppedPerSecond ? "warn" : "" }, `${w.drops} `, h("b", {}, num(d.droppedPerSecond))),
      h("li", {}, `${w.framesTotal} `, h("b", {}, num(d.frames, 0))),
      h("li", {}, `${w.droppedTotal} `, h("b", {}, num(d.dropped, 0))),
      Object.entries(d.framesPerSecondByModel).map(([m, fps]) => h("li", { class: "model" }, `${m} `, h("b", {}, num(fps)))))
      : null,
    d && d.framesPerSecond === null ? h("p", { class: "muted" }, w.waiting) : null);
}

function deliveryTile(o: Overview): HTMLElement {
  const w = fw();
  const rows = (o.delivery ?? []).map((c) =>
    h("tr", { "data-consumer": c.consumer, class: c.behind > 0 ? "lagging" : "" },
      h("td", {}, c.consumer), h("td", {}, String(c.behind)), h("td", {}, `${num(c.secondsSinceAck, 0)} ${w.secondsAgo}`)));
  return h("div", { class: "tile figure", id: "figure-delivery" },
    h("div", { class: "tile-title" }, `${w.delivery} · #${o.feedHead ?? 0}`),
    rows.length
      ? h("table", { class: "mini" }, h("thead", {}, h("tr", {}, h("th", {}, w.consumer), h("th", {}, w.behind), h("th", {}, w.lastAck))),
          h("tbody", {}, rows))
      : h("p", { class: "muted" }, w.noConsumers));
}

function outcomeLine(title: string, f: OutcomeFigures): HTMLElement {
  const w = fw();
  return h("div", { class: "outcome" },
    h("div", { class: "outcome-title" }, title),
    h("ul", { class: "chips" },
      h("li", { class: "ok" }, `${w.acceptedRate} `, h("b", {}, pct(f.acceptedRate))),
      h("li", { class: "bad" }, `${w.rejectedRate} `, h("b", {}, pct(f.rejectedRate))),
      h("li", {}, `${w.accepted} `, h("b", {}, String(f.accepted))),
      h("li", {}, `${w.rejected} `, h("b", {}, String(f.rejected))),
      f.closedByCitySight ? h("li", {}, `${w.byCitySight} `, h("b", {}, String(f.closedByCitySight))) : null,
      h("li", {}, `${w.median} `, h("b", {}, mins(f.medianMinutesToClose))),
      h("li", {}, `${w.p90} `, h("b", {}, mins(f.p90MinutesToClose)))));
}

/** One row per key: accepted, rejected, rates, time to close. */
export function outcomeTable(title: string, label: (id: string) => string, by: Record<string, OutcomeFigures>, id: string): HTMLElement {
  const w = fw();
  const rows = Object.entries(by).sort((a, b) => (b[1].accepted + b[1].rejected) - (a[1].accepted + a[1].rejected)).map(([k, f]) =>
    h("tr", { "data-key": k },
      h("td", {}, label(k)), h("td", {}, String(f.accepted)), h("td", {}, String(f.rejected)),
      h("td", {}, pct(f.acceptedRate)), h("td", {}, pct(f.rejectedRate)), h("td", {}, mins(f.medianMinutesToClose)), h("td", {}, mins(f.p90MinutesToClose))));
  return h("div", { class: "outcome-table", id },
    h("div", { class: "outcome-title" }, title),
    rows.length
      ? h("table", { class: "mini" },
          h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, w.accepted), h("th", {}, w.rejected), h("th", {}, w.acceptedRate),
            h("th", {}, w.rejectedRate), h("th", {}, w.median), h("th", {}, w.p90))),
          h("tbody", {}, rows))
      : h("p", { class: "muted" }, w.none));
}

export function outcomesTile(o: Overview, withTables: boolean): HTMLElement {
  const w = fw();
  const out = o.outcomes;
  const week: OutcomeWindow | undefined = out?.week;
  return h("div", { class: "tile figure outcomes", id: "figure-outcomes" },
    h("div", { class: "tile-title" }, w.outcomes),
    out ? [outcomeLine(w.today, out.today.all), outcomeLine(w.week, out.week.all)] : h("p", { class: "muted" }, w.none),
    withTables && week ? [
      outcomeTable(w.byType, (k) => typeLabel(o, k), week.byType, "outcomes-by-type"),
      outcomeTable(w.byGroup, (k) => groupLabel(o, k), week.byGroup, "outcomes-by-group"),
    ] : null);
}

/** The figures section of the overview page. */
export function figureTiles(o: Overview | null): HTMLElement {
  if (!o) return h("section", { class: "figures", id: "figures" });
  return h("section", { class: "figures", id: "figures" }, detectorTile(o), deliveryTile(o), outcomesTile(o, true));
}
