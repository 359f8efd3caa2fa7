// The command-centre console: the overview figures, the newest open cases updated live, and a case's detail.
import "./style.css";
import { ApiRefusal, CaseCounts, ConsoleCamera, ConsoleCase, ConsoleEvent, Overview, apiKey, cameras, follow, openCases, overview, setApiKey } from "./api";
import { showCase, stateBadge, typeName } from "./caseDetail";
import { isReviewRoute, onReviewEvent, showCaseReview } from "./caseReview";
import { h } from "./dom";
import { formatTime, lang, setLang, t } from "./i18n";
import { showWall, wallNav } from "./wall";
import { cameraRoute, showCamera } from "./cameraDetail";
import { showZoneEditor } from "./zoneEditor";
import { figureTiles } from "./figures";
import { showMap, smallMap, typeColour } from "./map";
import { showWallScreen } from "./wallScreen";

const state = {
  open: [] as ConsoleCase[],
  fresh: new Set<string>(),
  cameras: new Map<string, ConsoleCamera>(),
  overview: null as Overview | null,
  live: false,
  problem: "",
};

const app = document.getElementById("app")!;
const header = h("header");
const banner = h("div", { class: "banner", role: "alert" });
const main = h("main");
app.append(header, banner, main);
setLang(lang());

function renderHeader(): void {
  const w = t();
  document.title = w.title;
  header.replaceChildren(
    h("h1", {}, w.title),
    h("nav", {},
      h("a", { href: "#/", class: location.hash === "" || location.hash === "#/" ? "here" : "" }, w.navOverview),
      h("a", { href: "#/cases", id: "nav-cases", class: isReviewRoute(location.hash) ? "here" : "" }, w.navCases),
      h("a", { href: "#/map", id: "nav-map", class: location.hash === "#/map" ? "here" : "" }, w.mapNav),
      h("a", { href: "#/cameras", id: "nav-cameras", class: location.hash.startsWith("#/cameras") ? "here" : "" }, wallNav()),
      h("a", { href: "#/screen", id: "nav-screen" }, w.screenNav)),
    h("span", { class: state.live ? "live on" : "live", id: "live" }, state.live ? `● ${w.live}` : `○ ${w.reconnecting}`),
    h("button", { id: "lang", class: "link", onclick: () => { setLang(lang() === "zh" ? "en" : "zh"); render(); } }, w.language));
}

function renderBanner(): void {
  const w = t();
  if (!state.problem) { banner.replaceChildren(); return; }
  const key = h("input", { type: "password", id: "api-key", placeholder: w.apiKey, value: apiKey(), autocomplete: "off" }) as HTMLInputElement;
  banner.replaceChildren(h("p", {}, state.problem));
  if (state.problem === w.keyNeeded)
    banner.append(h("form", { onsubmit: (e: Event) => { e.preventDefault(); setApiKey(key.value); state.problem = ""; void start(); } },
      key, h("button", { type: "submit" }, w.save)));
}

function counts(title: string, c: CaseCounts | undefined, o: Overview): HTMLElement {
  const names = (id: string) => (lang() === "zh" ? o.types[id]?.zh : o.types[id]?.en) || id;
  const chips = (m: Record<string, number>, name: (k: string) => string) =>
    Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, n]) => h("li", {}, `${name(k)} `, h("b", {}, String(n))));
  return h("div", { class: "tile" },
    h("div", { class: "tile-title" }, title),
    h("div", { class: "tile-number" }, String(c?.total ?? 0)),
    h("ul", { class: "chips" }, chips(c?.byType ?? {}, names)),
    h("ul", { class: "chips groups" }, chips(c?.byGroup ?? {}, (g) => o.groups[g] ?? g)));
}

function renderHome(): void {
  const w = t();
  const o = state.overview;
  const tiles = o
    ? h("section", { class: "overview", id: "overview" },
        counts(w.openCases, o.open, o),
        counts(w.reportedToday, o.today, o),
        h("div", { class: "tile" },
          h("div", { class: "tile-title" }, w.cameras),
          h("div", { class: "tile-number" }, String(o.cameras)),
          h("ul", { class: "chips" }, Object.entries(o.camerasByState).map(([s, n]) =>
            h("li", { class: `cam-${s}` }, `${w.cameraStates[s] ?? s} `, h("b", {}, String(n)))))))
    : h("section", { class: "overview", id: "overview" });
  const rows = state.open.map((c) => {
    const camera = state.cameras.get(c.cameraId);
    return h("tr", { "data-case-id": c.id, class: state.fresh.has(c.id) ? "fresh" : "", onclick: () => { location.hash = `#/cases/${encodeURIComponent(c.id)}`; } },
      h("td", {}, h("a", { href: `#/cases/${encodeURIComponent(c.id)}` }, c.id)),
      h("td", {}, typeName(c)),
      h("td", {}, camera?.name ?? c.cameraId),
      h("td", {}, formatTime(c.reportedAt)),
      h("td", {}, stateBadge(c.state)));
  });
  main.replaceChildren(tiles, figureTiles(o), smallMap(mapSources),
    h("section", { class: "cases" },
      h("h2", {}, w.newestOpen),
      h("table", { id: "open-cases" },
        h("thead", {}, h("tr", {}, h("th", {}, w.id), h("th", {}, w.type), h("th", {}, w.camera), h("th", {}, w.time), h("th", {}, w.state))),
        h("tbody", {}, rows)),
      state.open.length === 0 ? h("p", { class: "empty" }, w.none) : null));
}

function caseRoute(): string | null {
  if (isReviewRoute(location.hash)) return null;
  const m = /^#\/cases\/(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}


function zonesRoute(): string | null {
  const m = /^#\/cameras\/(.+)\/zones$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

/** Views that own `main` and follow nothing live: the case list's events leave them alone. */
const ownView = (): boolean => zonesRoute() !== null || location.hash.startsWith("#/cameras");

function render(): void {
  renderHeader();
  renderBanner();
  if (isReviewRoute(location.hash)) { void showCaseReview(main, state.overview, state.cameras); return; }
  const id = caseRoute();
  const zones = zonesRoute();
  if (zones) void showZoneEditor(main, zones);
  else if (id) void showCase(main, id, state.cameras);
  else renderRoute();
}

// The views beside the home page: #/map, #/screen (figures.ts, map.ts, wallScreen.ts).
const mapSources = { cameras: () => [...state.cameras.values()], open: () => state.open };
function renderRoute(): void {
  if (location.hash !== "#/screen") document.body.classList.remove("screen-mode");
  if (location.hash === "#/map") showMap(main, mapSources, t().cameraStates);
  else if (location.hash === "#/screen") showWallScreen(main, t().cameraStates, typeColour);
  else if (location.hash === "#/cameras") showWall(main);
  else if (cameraRoute()) void showCamera(main, cameraRoute()!);
  else renderHome();
}

function problem(err: unknown): void {
  state.problem = err instanceof ApiRefusal && err.status === 401 ? t().keyNeeded : err instanceof Error ? err.message : String(err);
  renderBanner();
}

let overviewTimer = 0;
function refreshOverviewSoon(): void {
  clearTimeout(overviewTimer);
  overviewTimer = window.setTimeout(async () => {
    try {
      state.overview = await overview();
      if (!caseRoute() && !ownView() && !isReviewRoute(location.hash)) renderRoute();
    } catch (err) { problem(err); }
  }, 500);
}

function onEvent(e: ConsoleEvent): void {
  window.dispatchEvent(new CustomEvent("citysight:case", { detail: e }));   // the map and the wall screen follow it too
  const c = e.case;
  if (!c) return;
  const at = state.open.findIndex((x) => x.id === c.id);
  const open = c.state === "reported" || c.state === "acknowledged";
  if (!open) { if (at >= 0) state.open.splice(at, 1); }
  else if (at >= 0) state.open[at] = c;
  else {
    state.open.unshift(c);
    state.open.sort((a, b) => b.sequence - a.sequence);
    // Marked as new for as long as its highlight lasts (style.css), not again on every later render.
    state.fresh.add(c.id);
    setTimeout(() => state.fresh.delete(c.id), 4000);
  }
  refreshOverviewSoon();
  if (isReviewRoute(location.hash)) { onReviewEvent(e); return; }
  const shown = caseRoute();
  if (ownView()) return;
  if (!shown) renderRoute();
  else if (shown === c.id && e.kind === "state_changed") void showCase(main, shown, state.cameras);
}

let following = false;
async function start(): Promise<void> {
  try {
    const [list, cams, o] = await Promise.all([openCases(), cameras(), overview()]);
    state.open = list.cases;
    state.cameras = new Map(cams.map((c) => [c.id, c]));
    state.overview = o;
    state.problem = "";
    render();
    if (!following) {
      following = true;
      void follow(list.head, onEvent, (live) => { state.live = live; renderHeader(); });
    }
  } catch (err) {
    render();
    problem(err);
  }
}

window.addEventListener("hashchange", render);
window.addEventListener("citysight:key-needed", () => problem(new ApiRefusal(401, "")));
// Camera states change without case events: ask again now and then.
setInterval(async () => {
  try {
    state.cameras = new Map((await cameras()).map((c) => [c.id, c]));
    refreshOverviewSoon();
  } catch { /* the next try, or the event stream, says what is wrong */ }
}, 30000);
render();
void start();
