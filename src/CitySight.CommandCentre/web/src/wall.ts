// The camera wall (#/cameras): every camera as a card (state, reason, latest picture, last frame age, frames/s),
// filtered by group, state and street, counted by state. Only the cards in view are in the DOM (a windowed grid), so a
// district's 1,000+ cameras scroll as smoothly as ten; pictures load as their cards come into view.
import { ConsoleCamera, apiKey, cameras as loadCameras, pictureBlobUrl, picturePath } from "./api";
import { h } from "./dom";
import { lang, t } from "./i18n";

const words = {
  zh: {
    nav: "摄像头墙", all: "全部", group: "片区", state: "状态", street: "街道", search: "搜索名称或编号",
    shown: (n: number, of: number) => `显示 ${n} / ${of} 个摄像头`, noPicture: "暂无画面", noMatch: "没有符合条件的摄像头",
    ago: (s: string) => `${s}前`, never: "尚无画面", fps: "帧/秒", patrol: "轮巡", continuous: "连续", loading: "加载中…",
    units: ["秒", "分钟", "小时", "天"],
  },
  en: {
    nav: "Camera wall", all: "All", group: "Group", state: "State", street: "Street", search: "Search name or id",
    shown: (n: number, of: number) => `${n} of ${of} cameras`, noPicture: "No picture yet", noMatch: "No camera matches",
    ago: (s: string) => `${s} ago`, never: "no frame yet", fps: "frames/s", patrol: "patrol", continuous: "continuous", loading: "Loading…",
    units: ["s", "min", "h", "d"],
  },
};
export const wallWords = () => words[lang()];

/** The header's link to the wall. */
export const wallNav = (): string => wallWords().nav;

// The grid's geometry: cards at least this wide, all one height, so the rows in view follow from scrollTop alone.
const minCardWidth = 236;
const cardHeight = 252;
const gap = 12;
const overscanRows = 2;
const refreshMs = 10000;
const pictureRefreshMs = 30000;

const wall = {
  all: [] as ConsoleCamera[],
  shown: [] as ConsoleCamera[],
  filters: { group: "", state: "", street: "", text: "" },
  loaded: false,
  problem: "",
  // Bumped on every refresh: a card's picture is asked for again (the camera's latest frame), not taken from the cache.
  version: Date.now(),
  cards: new Map<string, HTMLElement>(),
  timer: 0,
  frame: 0,
};
let root: HTMLElement | null = null;
let scroller: HTMLElement | null = null;
let space: HTMLElement | null = null;
let resizes: ResizeObserver | null = null;
let drawnIn = "";

/** "3 s", "12 min", "2 h": how long ago, short. */
export function age(seconds: number | null): string {
  const w = wallWords();
  if (seconds === null) return w.never;
  const [s, m, hr, d] = w.units;
  const text = seconds < 90 ? `${Math.round(seconds)} ${s}` : seconds < 5400 ? `${Math.round(seconds / 60)} ${m}`
    : seconds < 172800 ? `${Math.round(seconds / 3600)} ${hr}` : `${Math.round(seconds / 86400)} ${d}`;
  return w.ago(text);
}

export function fps(c: ConsoleCamera): string {
  const w = wallWords();
  if (c.mode === "patrol" || c.state === "patrolled") return w.patrol;
  return c.framesPerSecond === null ? "—" : `${c.framesPerSecond.toFixed(1)} ${w.fps}`;
}

export function cameraBadge(state: string): HTMLElement {
  return h("span", { class: `badge cam-badge cam-${state}`, "data-state": state }, t().cameraStates[state] ?? state);
}

// Pictures fetched with the operator's key (an <img> cannot send it), by camera, released as cards leave.
const blobs = new Map<string, { url: string; version: number }>();

function placeholder(): HTMLElement {
  return h("div", { class: "no-picture" }, h("span", { class: "icon", "aria-hidden": "true" }, "▣"), h("span", {}, wallWords().noPicture));
}

/** The camera's latest picture into `box`; a placeholder when it has none (never a frame, or the service says 404). */
export function pictureInto(box: HTMLElement, c: ConsoleCamera, version: number, onLoad?: (img: HTMLImageElement) => void): void {
  if (c.lastFrameAgeSeconds === null) { box.replaceChildren(placeholder()); return; }
  const img = h("img", { loading: "lazy", decoding: "async", alt: c.name }) as HTMLImageElement;
  img.onerror = () => { if (box.contains(img)) box.replaceChildren(placeholder()); };
  if (onLoad) img.onload = () => onLoad(img);
  box.replaceChildren(img);
  if (!apiKey()) { img.src = picturePath(c.id, version); return; }
  const cached = blobs.get(c.id);
  if (cached?.version === version) { img.src = cached.url; return; }
  void pictureBlobUrl(c.id, version).then((url) => {
    if (!url) { if (box.contains(img)) box.replaceChildren(placeholder()); return; }
    if (cached) URL.revokeObjectURL(cached.url);
    blobs.set(c.id, { url, version });
    img.src = url;
  }).catch(() => { if (box.contains(img)) box.replaceChildren(placeholder()); });
}

function matches(c: ConsoleCamera): boolean {
  const f = wall.filters;
  const text = f.text.trim().toLowerCase();
  return (!f.group || c.groupId === f.group) && (!f.state || c.state === f.state) && (!f.street || c.street === f.street)
    && (!text || c.name.toLowerCase().includes(text) || c.id.toLowerCase().includes(text));
}

function card(c: ConsoleCamera): HTMLElement {
  const el = h("a", { class: "camera-card", href: `#/cameras/${encodeURIComponent(c.id)}`, "data-camera-id": c.id },
    h("div", { class: "thumb" }), h("div", { class: "card-body" }));
  pictureInto(el.firstElementChild as HTMLElement, c, wall.version);
  el.dataset.version = String(wall.version);
  fill(el, c);
  return el;
}

// What a card shows besides its picture: drawn again only when this changes.
const signature = (c: ConsoleCamera) => `${lang()}|${c.state}|${c.reason}|${c.lastFrameAgeSeconds}|${c.framesPerSecond}|${c.name}|${c.street}`;

/** The card's words and figures (the picture stays: refreshed with its version only). */
function fill(el: HTMLElement, c: ConsoleCamera): void {
  el.dataset.state = c.state;
  el.dataset.sig = signature(c);
  const place = [c.groupName, c.street].filter(Boolean).join(" · ");
  (el.lastElementChild as HTMLElement).replaceChildren(
    h("div", { class: "card-title" }, h("span", { class: "name", title: c.name }, c.name), cameraBadge(c.state)),
    h("div", { class: "card-meta", title: c.id }, place || c.groupId),
    h("div", { class: "card-figures" }, h("span", { class: "age" }, age(c.lastFrameAgeSeconds)), h("span", { class: "fps" }, fps(c))),
    h("div", { class: "card-reason", title: c.reason ?? "" }, c.reason ?? ""));
}

/** Lays out the cards in view (and a couple of rows either side), reusing those already there. */
function place(): void {
  wall.frame = 0;
  if (!scroller || !space) return;
  const width = scroller.clientWidth;
  const cols = Math.max(1, Math.floor((width + gap) / (minCardWidth + gap)));
  const cardWidth = (width - gap * (cols - 1)) / cols;
  const rowHeight = cardHeight + gap;
  const rows = Math.ceil(wall.shown.length / cols);
  space.style.height = `${rows * rowHeight}px`;
  const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - overscanRows);
  const last = Math.min(rows - 1, Math.ceil((scroller.scrollTop + scroller.clientHeight) / rowHeight) + overscanRows);
  const keep = new Set<string>();
  for (let i = first * cols; i <= Math.min(wall.shown.length - 1, (last + 1) * cols - 1); i++) {
    const c = wall.shown[i];
    keep.add(c.id);
    let el = wall.cards.get(c.id);
    if (!el) { el = card(c); wall.cards.set(c.id, el); space.append(el); }
    else if (el.dataset.sig !== signature(c)) fill(el, c);
    if (el.dataset.version !== String(wall.version)) {
      pictureInto(el.firstElementChild as HTMLElement, c, wall.version);
      el.dataset.version = String(wall.version);
    }
    const row = Math.floor(i / cols);
    el.style.transform = `translate(${(i % cols) * (cardWidth + gap)}px, ${row * rowHeight}px)`;
    el.style.width = `${cardWidth}px`;
  }
  for (const [id, el] of wall.cards) {
    if (keep.has(id)) continue;
    el.remove();
    wall.cards.delete(id);
    const blob = blobs.get(id);
    if (blob) { URL.revokeObjectURL(blob.url); blobs.delete(id); }
  }
}

function placeSoon(): void {
  if (!wall.frame) wall.frame = requestAnimationFrame(place);
}

function fit(): void {
  if (!scroller) return;
  scroller.style.height = `${Math.max(320, window.innerHeight - scroller.getBoundingClientRect().top - 12)}px`;
  placeSoon();
}

function select(id: string, label: string, value: string, options: [string, string][], set: (v: string) => void): HTMLElement {
  const el = h("select", { id, onchange: (e: Event) => { set((e.target as HTMLSelectElement).value); applyFilters(true); } },
    h("option", { value: "" }, `${label}: ${wallWords().all}`),
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))) as HTMLSelectElement;
  return h("label", { class: "filter" }, el);
}

function controls(): HTMLElement {
  const w = wallWords();
  const states = t().cameraStates;
  const count = new Map<string, number>();
  for (const c of wall.all) count.set(c.state, (count.get(c.state) ?? 0) + 1);
  const groups = [...new Map(wall.all.map((c) => [c.groupId, c.groupName || c.groupId])).entries()].sort((a, b) => a[1].localeCompare(b[1]));
  const streets = [...new Set(wall.all.map((c) => c.street).filter(Boolean))].sort().map((s): [string, string] => [s, s]);
  const stateOptions = Object.keys(states).filter((s) => count.has(s)).concat([...count.keys()].filter((s) => !(s in states)))
    .map((s): [string, string] => [s, states[s] ?? s]);
  const chip = (state: string, label: string, n: number) =>
    h("li", { class: `cam-${state || "all"}${wall.filters.state === state ? " on" : ""}`, "data-state": state || "all",
      onclick: () => {
        wall.filters.state = wall.filters.state === state ? "" : state;
        const chosen = root?.querySelector<HTMLSelectElement>("#wall-state");
        if (chosen) chosen.value = wall.filters.state;
        applyFilters(true);
      } }, `${label} `, h("b", {}, String(n)));
  const search = h("input", { id: "wall-search", type: "search", placeholder: w.search, value: wall.filters.text,
    oninput: (e: Event) => { wall.filters.text = (e.target as HTMLInputElement).value; applyFilters(true); } });
  return h("div", { class: "wall-controls" },
    h("ul", { class: "chips wall-counts", id: "wall-counts" },
      chip("", w.all, wall.all.length), stateOptions.map(([s, label]) => chip(s, label, count.get(s) ?? 0))),
    h("div", { class: "wall-filters" },
      select("wall-group", w.group, wall.filters.group, groups, (v) => { wall.filters.group = v; }),
      select("wall-state", w.state, wall.filters.state, stateOptions, (v) => { wall.filters.state = v; }),
      select("wall-street", w.street, wall.filters.street, streets, (v) => { wall.filters.street = v; }),
      search,
      h("span", { id: "wall-shown", class: "muted" }, "")));
}

/** The filters changed: the shown list, its count and the cards in view (the controls stay, keeping the focus). */
function applyFilters(toTop = false): void {
  wall.shown = wall.all.filter(matches);
  const w = wallWords();
  root?.querySelector("#wall-shown")?.replaceChildren(w.shown(wall.shown.length, wall.all.length));
  root?.querySelector("#wall-empty")?.replaceChildren(wall.loaded && wall.shown.length === 0 ? w.noMatch : "");
  root?.querySelectorAll<HTMLElement>("#wall-counts li").forEach((li) =>
    li.classList.toggle("on", (li.dataset.state === "all" ? "" : li.dataset.state) === wall.filters.state));
  if (toTop && scroller) scroller.scrollTop = 0;
  // Now, not at the next frame: the cards shown always agree with the count above them.
  if (wall.frame) cancelAnimationFrame(wall.frame);
  place();
}

/** Everything but the cards in view: the counts, the filters, the empty scroller. */
function draw(): void {
  if (!root) return;
  const w = wallWords();
  const old = scroller;
  for (const el of wall.cards.values()) el.remove();
  wall.cards.clear();
  space = h("div", { class: "wall-space" });
  scroller = h("div", { id: "camera-wall", class: "wall-scroll", onscroll: placeSoon }, space);
  resizes?.disconnect();
  resizes = new ResizeObserver(() => placeSoon());
  resizes.observe(scroller);
  root.replaceChildren(
    h("section", { class: "wall", id: "wall" },
      h("h2", {}, w.nav),
      wall.problem ? h("p", { class: "error", role: "alert" }, wall.problem) : null,
      controls(),
      h("p", { class: "empty", id: "wall-empty" }, wall.loaded ? "" : w.loading),
      scroller));
  fit();
  if (old) scroller.scrollTop = old.scrollTop;
  applyFilters();
}

async function refresh(): Promise<void> {
  try {
    wall.all = await loadCameras();
    wall.problem = "";
  } catch (err) {
    wall.problem = err instanceof Error ? err.message : String(err);
  }
  wall.loaded = true;
  // Pictures every 30 s, not every refresh: each one is a JPEG the service encodes, and the wall may stay open all day.
  if (Date.now() - wall.version >= pictureRefreshMs) wall.version = Date.now();
  if (!root || !scroller || !root.contains(scroller)) return;
  // Only the counts and the cards in view change: the filters keep their focus and the scroller its place.
  const fresh = controls();
  root.querySelector(".wall-controls")?.replaceWith(fresh);
  const alert = root.querySelector("#wall > p.error");
  if (wall.problem && !alert) root.querySelector("#wall h2")?.after(h("p", { class: "error", role: "alert" }, wall.problem));
  else if (!wall.problem) alert?.remove();
  applyFilters();
}

/** Shows the wall in `into`; called again (language switch, the page's own refresh) it redraws in place. */
export function showWall(into: HTMLElement): void {
  const already = root === into && scroller !== null && into.contains(scroller);
  // Shown already in these words (the page's own start-up render): the cards and their pictures stay as they are.
  if (already && drawnIn === lang()) return;
  root = into;
  drawnIn = lang();
  draw();
  if (already) return;
  window.clearInterval(wall.timer);
  void refresh();
  // Cameras change state without case events: asked again while the wall is shown, stopped once it is left.
  wall.timer = window.setInterval(() => {
    if (!scroller || !root?.contains(scroller)) { window.clearInterval(wall.timer); return; }
    void refresh();
  }, refreshMs);
}

window.addEventListener("resize", fit);
