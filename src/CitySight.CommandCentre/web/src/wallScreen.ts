// The wall-screen mode (#/screen): the command centre's big screen, 1920x1080, dark, no navigation, refreshing itself
// (the case events live, the overview every 15 s, the cameras every 30 s). Open cases by type and group, cameras by
// state, dispatch's outcomes, the detector and delivery, the map and the newest cases. Esc goes back to the overview.
import { CaseList, ConsoleCamera, ConsoleCase, Overview, cameras, openCasesForMap, overview } from "./api";
import { h } from "./dom";
import { fw, groupLabel, mins, outcomeTable, pct, typeLabel } from "./figures";
import { formatTime, lang } from "./i18n";
import { CityMap, legend, loadBase } from "./map";

const words = {
  zh: {
    title: "城市管理指挥中心 · 一屏观天下", open: "待处理案件", byType: "按类型", byGroup: "按片区", cameras: "摄像头",
    today: "今日处置", week: "近7天处置", newest: "最新案件", updated: "更新于", fps: "检测 帧/秒", drops: "丢帧/秒", lag: "推送未确认",
    reportedToday: "今日上报",
  },
  en: {
    title: "CitySight command centre · the whole district", open: "Open cases", byType: "By type", byGroup: "By group", cameras: "Cameras",
    today: "Outcomes today", week: "Outcomes, 7 days", newest: "Newest cases", updated: "Updated", fps: "Detector frames/s", drops: "drops/s",
    lag: "Delivery not acked", reportedToday: "Reported today",
  },
};
const sw = () => words[lang()];

const screen = {
  root: null as HTMLElement | null,
  map: null as CityMap | null,
  overview: null as Overview | null,
  cameras: [] as ConsoleCamera[],
  cases: new Map<string, ConsoleCase>(),
  updated: "",
  timers: [] as number[],
  soon: 0,
};

function bars(entries: [string, number][], label: (k: string) => string, colour?: (k: string) => string): HTMLElement {
  const max = Math.max(1, ...entries.map((e) => e[1]));
  return h("ul", { class: "bars" }, entries.sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => {
    const bar = h("span", { class: "bar" });
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    bar.style.width = `${Math.round((n / max) * 100)}%`;
    if (colour) bar.style.background = colour(k);
    return h("li", { "data-key": k }, h("span", { class: "bar-label" }, label(k)), h("span", { class: "bar-track" }, bar), h("b", {}, String(n)));
  }));
}

function rate(title: string, value: string, cls: string): HTMLElement {
  return h("div", { class: `big-rate ${cls}` }, h("div", { class: "big-rate-value" }, value), h("div", { class: "big-rate-title" }, title));
}

function render(cameraStates: Record<string, string>, typeColour: (t: string) => string): void {
  const root = screen.root;
  const o = screen.overview;
  if (!root) return;
  const w = sw(), f = fw();
  const cases = [...screen.cases.values()].sort((a, b) => b.sequence - a.sequence);
  const left = h("div", { class: "screen-left" },
    h("div", { class: "screen-tile" }, h("div", { class: "screen-label" }, w.open),
      h("div", { class: "screen-number", id: "screen-open-total" }, String(o?.open.total ?? "—")),
      h("div", { class: "screen-sub" }, `${w.reportedToday} ${o?.today.total ?? "—"}`)),
    h("div", { class: "screen-tile", id: "screen-by-type" }, h("div", { class: "screen-label" }, w.byType),
      o ? bars(Object.entries(o.open.byType), (k) => typeLabel(o, k), typeColour) : null),
    h("div", { class: "screen-tile", id: "screen-by-group" }, h("div", { class: "screen-label" }, w.byGroup),
      o ? bars(Object.entries(o.open.byGroup), (k) => groupLabel(o, k)) : null),
    h("div", { class: "screen-tile", id: "screen-cameras" }, h("div", { class: "screen-label" }, `${w.cameras} ${o?.cameras ?? ""}`),
      h("ul", { class: "chips" }, Object.entries(o?.camerasByState ?? {}).map(([s, n]) =>
        h("li", { class: `cam-${s}` }, h("i", { class: `square cam-${s}` }), `${cameraStates[s] ?? s} `, h("b", {}, String(n)))))));
  const today = o?.outcomes?.today.all, week = o?.outcomes?.week.all;
  const behind = (o?.delivery ?? []).reduce((m, c) => Math.max(m, c.behind), 0);
  const right = h("div", { class: "screen-right" },
    h("div", { class: "screen-tile", id: "screen-outcomes" },
      h("div", { class: "screen-label" }, w.today),
      h("div", { class: "rates" }, rate(f.acceptedRate, pct(today?.acceptedRate), "ok"), rate(f.rejectedRate, pct(today?.rejectedRate), "bad"),
        rate(f.median, mins(today?.medianMinutesToClose), ""), rate(f.p90, mins(today?.p90MinutesToClose), "")),
      h("div", { class: "screen-label" }, w.week),
      h("div", { class: "rates" }, rate(f.acceptedRate, pct(week?.acceptedRate), "ok"), rate(f.rejectedRate, pct(week?.rejectedRate), "bad"),
        rate(f.median, mins(week?.medianMinutesToClose), ""), rate(f.p90, mins(week?.p90MinutesToClose), "")),
      o?.outcomes ? outcomeTable(f.byType, (k) => typeLabel(o, k), o.outcomes.week.byType, "screen-outcomes-by-type") : null),
    h("div", { class: "screen-tile pace" },
      rate(w.fps, o?.detector?.framesPerSecond == null ? "—" : o.detector.framesPerSecond.toFixed(1), ""),
      rate(w.drops, o?.detector?.droppedPerSecond == null ? "—" : o.detector.droppedPerSecond.toFixed(1), o?.detector?.droppedPerSecond ? "bad" : ""),
      rate(w.lag, String(behind), behind > 0 ? "bad" : "ok")),
    h("div", { class: "screen-tile newest" }, h("div", { class: "screen-label" }, w.newest),
      h("ol", { id: "screen-newest" }, cases.slice(0, 8).map((c) =>
        h("li", { "data-case-id": c.id }, h("i", { class: "dot" }, ""), h("span", { class: "newest-type" }, (lang() === "zh" ? c.typeNameZh : c.typeNameEn) || c.type),
          h("span", { class: "newest-where" }, screen.cameras.find((x) => x.id === c.cameraId)?.name ?? c.cameraId),
          h("span", { class: "newest-time" }, formatTime(c.reportedAt)))))));
  // Each newest case's dot in its type's colour (CSSOM: no inline style attributes under the CSP).
  right.querySelectorAll<HTMLElement>("#screen-newest li").forEach((li, i) => {
    (li.querySelector(".dot") as HTMLElement).style.background = typeColour(cases[i].type);
  });
  screen.map!.draw(screen.cameras, cases);
  const centre = h("div", { class: "screen-centre" }, screen.map!.element, legend(cases, screen.cameras, cameraStates));
  const top = h("div", { class: "screen-top" }, h("h1", {}, w.title),
    h("span", { class: "screen-clock", id: "screen-clock" }, formatTime(new Date().toISOString())),
    h("span", { class: "screen-updated", id: "screen-updated" }, screen.updated ? `${w.updated} ${screen.updated}` : ""));
  root.replaceChildren(top, left, centre, right);
}

function fit(): void {
  // Laid out for 1920x1080; a smaller window (an operator checking it on a desk) sees it scaled down whole.
  if (!screen.root) return;
  const k = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  screen.root.style.transform = k < 1 ? `scale(${k})` : "";
}

async function refreshOverview(redraw: () => void): Promise<void> {
  try {
    screen.overview = await overview();
    screen.updated = new Date().toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
    redraw();
  } catch { /* the next refresh tries again; the screen keeps its last figures */ }
}

function stop(): void {
  for (const t of screen.timers) clearInterval(t);
  screen.timers = [];
  screen.root = null;
  document.body.classList.remove("screen-mode");
}

export function showWallScreen(main: HTMLElement, cameraStates: Record<string, string>, typeColour: (t: string) => string): void {
  document.body.classList.add("screen-mode");
  if (screen.root && main.contains(screen.root)) return;   // already on: it refreshes itself
  screen.root = h("div", { class: "wall-screen", id: "wall-screen" });
  main.replaceChildren(screen.root);
  screen.map ??= new CityMap("map-screen", false);
  const redraw = () => render(cameraStates, typeColour);
  screen.root.addEventListener("redraw", redraw);
  void loadBase().then(({ base, error }) => { screen.map!.setBase(base, error); redraw(); });
  void refreshOverview(redraw);
  void cameras().then((c) => { screen.cameras = c; redraw(); }, () => undefined);
  void openCasesForMap().then((list: CaseList) => { for (const c of list.cases) screen.cases.set(c.id, c); redraw(); }, () => undefined);
  screen.timers.push(
    window.setInterval(() => void refreshOverview(redraw), 15000),
    window.setInterval(() => void cameras().then((c) => { screen.cameras = c; redraw(); }, () => undefined), 30000),
    window.setInterval(() => { const el = document.getElementById("screen-clock"); if (el) el.textContent = formatTime(new Date().toISOString()); }, 1000));
  fit();
  redraw();
}

// Live: each case event updates the newest list and the map at once, and the figures shortly after.
window.addEventListener("citysight:case", (e) => {
  const c = (e as CustomEvent<{ case: ConsoleCase | null }>).detail.case;
  if (!c) return;
  if (c.state === "reported" || c.state === "acknowledged") screen.cases.set(c.id, c);
  else screen.cases.delete(c.id);
  if (!screen.root) return;
  clearTimeout(screen.soon);
  screen.soon = window.setTimeout(() => void refreshOverview(() => screen.root?.dispatchEvent(new Event("redraw"))), 1000);
  screen.root.dispatchEvent(new Event("redraw"));
});
window.addEventListener("resize", fit);
window.addEventListener("hashchange", () => { if (location.hash !== "#/screen") stop(); });
window.addEventListener("keydown", (e) => { if (e.key === "Escape" && screen.root) location.hash = "#/"; });
