// The map (#/map, a small one on the overview, a large one on the wall screen): cameras and open cases at their WGS84
// positions, drawn as SVG over the operator's GeoJSON of streets and grids (GET /api/v1/map/base), or over plain
// latitude/longitude lines when there is none. No tiles, nothing fetched from outside the service.
import { ConsoleCamera, ConsoleCase, GeoJsonObject, MapBase, mapBase, openCasesForMap } from "./api";
import { h } from "./dom";
import { lang } from "./i18n";

const words = {
  zh: {
    map: "地图", cameras: "摄像头", openCases: "待处理案件", base: "底图", plain: "经纬度网格（未配置 console.map.geojson）",
    baseError: "底图无法读取，改用经纬度网格：", hint: "滚轮缩放，拖动平移，点击案件查看详情", full: "打开大地图 →",
  },
  en: {
    map: "Map", cameras: "Cameras", openCases: "Open cases", base: "Base", plain: "latitude/longitude lines (no console.map.geojson)",
    baseError: "The map base cannot be read, plain coordinates instead: ", hint: "Wheel to zoom, drag to pan, click a case for its detail",
    full: "Open the full map →",
  },
};
const mw = () => words[lang()];

const SVG = "http://www.w3.org/2000/svg";

/** Case types by colour: the built-in four fixed, any other from its id (the same colour on every screen). */
const typeColours: Record<string, string> = { illegal_parking: "#e53935", garbage: "#a1662f", street_stall: "#8e24aa", billboard: "#1e88e5" };
export function typeColour(type: string): string {
  if (typeColours[type]) return typeColours[type];
  let hash = 0;
  for (const ch of type) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return `hsl(${Math.abs(hash) % 360}, 65%, 48%)`;
}
export const cameraColours: Record<string, string> = {
  streaming: "#2e7d32", patrolled: "#66bb6a", connecting: "#f9a825", stalled: "#ef6c00", offline: "#c62828", disabled: "#757575", stopped: "#9e9e9e",
};

function s(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

let baseRead: Promise<{ base: MapBase | null; error: string | null }> | null = null;
/** The base, read once per page (the operator's file changes rarely; a reload reads it again). */
export function loadBase(): Promise<{ base: MapBase | null; error: string | null }> {
  baseRead ??= mapBase().then((base) => ({ base, error: null }), (err: unknown) => ({ base: null, error: err instanceof Error ? err.message : String(err) }));
  return baseRead;
}

type Box = { w: number; s: number; e: number; n: number };

/** Longitudes shrunk by cos(latitude): true proportions at a district's scale, no projection library needed. */
class Frame {
  readonly kx: number;
  readonly scale: number;
  constructor(readonly box: Box) {
    this.kx = Math.cos(((box.s + box.n) / 2) * Math.PI / 180);
    this.scale = 1000 / Math.max((box.e - box.w) * this.kx, box.n - box.s);
  }
  x(lon: number): number { return (lon - this.box.w) * this.kx * this.scale; }
  y(lat: number): number { return (this.box.n - lat) * this.scale; }
  get width(): number { return this.x(this.box.e); }
  get height(): number { return this.y(this.box.s); }
}

function boxOf(points: [number, number][], base: number[] | null): Box {
  const b: Box = base ? { w: base[0], s: base[1], e: base[2], n: base[3] } : { w: Infinity, s: Infinity, e: -Infinity, n: -Infinity };
  for (const [lon, lat] of points) {
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || (lon === 0 && lat === 0)) continue;   // 0,0: a camera without a position
    b.w = Math.min(b.w, lon); b.e = Math.max(b.e, lon); b.s = Math.min(b.s, lat); b.n = Math.max(b.n, lat);
  }
  if (!Number.isFinite(b.w)) return { w: 121.46, s: 31.22, e: 121.48, n: 31.24 };   // nothing to place yet: central Shanghai
  // A margin, and at least ~200 m across so one camera is not a point.
  const padX = Math.max((b.e - b.w) * 0.08, 0.001), padY = Math.max((b.n - b.s) * 0.08, 0.001);
  return { w: b.w - padX, s: b.s - padY, e: b.e + padX, n: b.n + padY };
}

function pathOf(frame: Frame, coords: unknown, close: boolean): string {
  const ring = coords as number[][];
  return ring.map((p, i) => `${i ? "L" : "M"}${frame.x(p[0]).toFixed(2)},${frame.y(p[1]).toFixed(2)}`).join("") + (close ? "Z" : "");
}

function drawGeometry(frame: Frame, g: GeoJsonObject | null | undefined, name: string, layer: SVGElement): void {
  if (!g) return;
  const c = g.coordinates as unknown[];
  const title = name ? s("title", {}, name) : null;
  const add = (el: SVGElement) => { if (title) el.append(title.cloneNode(true)); layer.append(el); };
  switch (g.type) {
    case "Polygon": add(s("path", { class: "base-area", d: (c as unknown[]).map((r) => pathOf(frame, r, true)).join("") })); break;
    case "MultiPolygon": add(s("path", { class: "base-area", d: (c as unknown[][]).flatMap((p) => p.map((r) => pathOf(frame, r, true))).join("") })); break;
    case "LineString": add(s("path", { class: "base-line", d: pathOf(frame, c, false) })); break;
    case "MultiLineString": add(s("path", { class: "base-line", d: (c as unknown[]).map((l) => pathOf(frame, l, false)).join("") })); break;
    case "Point": add(s("circle", { class: "base-point", cx: frame.x((c as number[])[0]), cy: frame.y((c as number[])[1]), r: 2 })); break;
    case "MultiPoint": for (const p of c as number[][]) add(s("circle", { class: "base-point", cx: frame.x(p[0]), cy: frame.y(p[1]), r: 2 })); break;
    case "GeometryCollection": for (const part of g.geometries ?? []) drawGeometry(frame, part, name, layer); break;
  }
}

/** A street's name halfway along its first stretch (not at a crossing), a grid's at its first corner. */
function labelOf(frame: Frame, g: GeoJsonObject | null | undefined, name: string): SVGElement | null {
  if (!g || !name) return null;
  const c = g.coordinates as number[][] | number[][][];
  const line = g.type === "LineString" ? (c as number[][]) : g.type === "Polygon" ? (c as number[][][])[0] : null;
  if (!line || line.length === 0) return null;
  const p = g.type === "LineString" && line.length > 1 ? [(line[0][0] + line[1][0]) / 2, (line[0][1] + line[1][1]) / 2] : line[0];
  return s("text", { class: g.type === "Polygon" ? "base-label area" : "base-label", x: frame.x(p[0]) + 4, y: frame.y(p[1]) - 4 }, name);
}

function niceStep(span: number): number {
  const raw = span / 6;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= raw) ?? 10 * p;
}

/** One map: a frame fixed at the first draw (so zoom and pan stay while cases come and go), base, cameras, cases. */
export class CityMap {
  readonly element: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly baseLayer = s("g", { class: "base" });
  private readonly markers = s("g", { class: "markers" });
  private readonly note: HTMLElement;
  private frame: Frame | null = null;
  private view = { x: 0, y: 0, w: 1000, h: 1000 };
  private base: MapBase | null = null;
  private baseError: string | null = null;
  private cameras: ConsoleCamera[] = [];
  private cases: ConsoleCase[] = [];

  constructor(id: string, private readonly interactive: boolean) {
    this.svg = s("svg", { class: "city-map-svg", preserveAspectRatio: "xMidYMid meet", role: "img" }) as SVGSVGElement;
    this.svg.append(this.baseLayer, this.markers);
    this.note = h("p", { class: "map-note" });
    this.element = h("div", { class: "city-map", id }, this.svg, this.note);
    if (interactive) this.listen();
  }

  setBase(base: MapBase | null, error: string | null): void {
    this.base = base?.configured ? base : null;
    this.baseError = error;
    this.frame = null;   // the base decides the frame
    this.redraw();
  }

  draw(cameras: ConsoleCamera[], cases: ConsoleCase[]): void {
    this.cameras = cameras;
    this.cases = cases;
    // A frame made before anything could be placed, or for other cameras, is made again (the zoom resets then only).
    if (this.frameKey() !== this.madeFor) this.frame = null;
    this.redraw();
    // Not on the page yet: marker sizes are right once it is laid out.
    if (this.svg.getBoundingClientRect().width === 0) requestAnimationFrame(() => this.redraw());
  }

  private madeFor = "";

  private frameKey(): string {
    return `${this.base ? "base" : "plain"}:${this.cameras.length}:${this.cameras.length === 0 && !this.base ? this.cases.length > 0 : ""}`;
  }

  private ensureFrame(): Frame {
    if (this.frame) return this.frame;
    this.madeFor = this.frameKey();
    const points: [number, number][] = [...this.cameras.map((c) => [c.longitude, c.latitude] as [number, number]),
      ...(this.base ? [] : this.cases.map((c) => [c.longitude, c.latitude] as [number, number]))];
    this.frame = new Frame(boxOf(points, this.base?.bounds ?? null));
    this.view = { x: 0, y: 0, w: this.frame.width, h: this.frame.height };
    this.svg.setAttribute("viewBox", `0 0 ${this.frame.width.toFixed(1)} ${this.frame.height.toFixed(1)}`);
    this.drawBase(this.frame);
    return this.frame;
  }

  private drawBase(frame: Frame): void {
    const w = mw();
    this.baseLayer.replaceChildren();
    this.element.dataset.base = this.base ? "geojson" : "coordinates";
    if (this.base?.geoJson) {
      const labels = s("g", { class: "base-labels" });
      const features = this.base.geoJson.type === "FeatureCollection" ? this.base.geoJson.features ?? []
        : this.base.geoJson.type === "Feature" ? [this.base.geoJson] : [{ type: "Feature", geometry: this.base.geoJson }];
      for (const f of features) {
        const name = typeof f.properties?.name === "string" ? f.properties.name : "";
        drawGeometry(frame, f.geometry, name, this.baseLayer);
        const label = labelOf(frame, f.geometry, name);
        if (label) labels.append(label);
      }
      this.baseLayer.append(labels);
      this.note.textContent = `${w.base}: ${this.base.file ?? ""}${this.interactive ? ` · ${w.hint}` : ""}`;
    } else {
      // Plain coordinates: lines at round degrees, labelled.
      // Lines reach a frame's width beyond each side, so the wide screen beside a tall frame (and a zoom out) has them too.
      const b = frame.box, step = niceStep(Math.max(b.e - b.w, b.n - b.s));
      const digits = Math.max(0, -Math.floor(Math.log10(step)));
      const spanX = b.e - b.w, spanY = b.n - b.s;
      const x0 = frame.x(b.w - spanX), x1 = frame.x(b.e + spanX), y0 = frame.y(b.n + spanY), y1 = frame.y(b.s - spanY);
      for (let lon = Math.ceil((b.w - spanX) / step) * step; lon <= b.e + spanX; lon += step) {
        this.baseLayer.append(s("line", { class: "graticule", x1: frame.x(lon), y1: y0, x2: frame.x(lon), y2: y1 }),
          s("text", { class: "graticule-label", x: frame.x(lon) + 3, y: frame.height - 4 }, `${lon.toFixed(digits)}°E`));
      }
      for (let lat = Math.ceil((b.s - spanY) / step) * step; lat <= b.n + spanY; lat += step) {
        this.baseLayer.append(s("line", { class: "graticule", x1: x0, y1: frame.y(lat), x2: x1, y2: frame.y(lat) }),
          s("text", { class: "graticule-label", x: 3, y: frame.y(lat) - 3 }, `${lat.toFixed(digits)}°N`));
      }
      this.note.textContent = (this.baseError ? w.baseError + this.baseError : `${w.base}: ${w.plain}`) + (this.interactive ? ` · ${w.hint}` : "");
      this.note.classList.toggle("error", !!this.baseError);
    }
  }

  /** Markers keep their size on screen whatever the zoom. */
  private unit(): number {
    const rect = this.svg.getBoundingClientRect();
    return rect.width > 0 ? Math.max(this.view.w / rect.width, this.view.h / Math.max(rect.height, 1)) : this.view.w / 600;
  }

  private redraw(): void {
    const frame = this.ensureFrame();
    const u = this.unit();
    this.markers.replaceChildren();
    for (const c of this.cameras) {
      if (c.latitude === 0 && c.longitude === 0) continue;
      const size = 9 * u;
      const rect = s("rect", {
        class: `camera-marker cam-${c.state}`, "data-camera-id": c.id, x: frame.x(c.longitude) - size / 2, y: frame.y(c.latitude) - size / 2,
        width: size, height: size, fill: cameraColours[c.state] ?? "#757575",
      }, s("title", {}, `${c.name} · ${c.state}${c.reason ? ` · ${c.reason}` : ""}`));
      this.markers.append(rect);
    }
    for (const c of this.cases) {
      const name = (lang() === "zh" ? c.typeNameZh : c.typeNameEn) || c.type;
      const dot = s("circle", {
        class: "case-marker", "data-case-id": c.id, "data-type": c.type, cx: frame.x(c.longitude), cy: frame.y(c.latitude), r: 6 * u,
        fill: typeColour(c.type), "stroke-width": 1.5 * u,
      }, s("title", {}, `${name} · ${c.id}`));
      dot.addEventListener("click", (e) => { e.stopPropagation(); location.hash = `#/cases/${encodeURIComponent(c.id)}`; });
      this.markers.append(dot);
    }
  }

  private setView(): void {
    this.svg.setAttribute("viewBox", `${this.view.x} ${this.view.y} ${this.view.w} ${this.view.h}`);
    this.redraw();
  }

  private toMap(e: MouseEvent): { x: number; y: number } {
    const rect = this.svg.getBoundingClientRect();
    const scale = Math.max(this.view.w / rect.width, this.view.h / rect.height);
    // preserveAspectRatio meet: the view is centred in the element.
    const offX = (rect.width - this.view.w / scale) / 2, offY = (rect.height - this.view.h / scale) / 2;
    return { x: this.view.x + (e.clientX - rect.left - offX) * scale, y: this.view.y + (e.clientY - rect.top - offY) * scale };
  }

  private listen(): void {
    this.svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const at = this.toMap(e);
      const k = e.deltaY > 0 ? 1.25 : 0.8;
      this.view = { x: at.x - (at.x - this.view.x) * k, y: at.y - (at.y - this.view.y) * k, w: this.view.w * k, h: this.view.h * k };
      this.setView();
    }, { passive: false });
    let drag: { x: number; y: number } | null = null;
    this.svg.addEventListener("pointerdown", (e) => {
      if ((e.target as Element).classList.contains("case-marker")) return;
      drag = this.toMap(e);
      this.svg.setPointerCapture(e.pointerId);
    });
    this.svg.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const at = this.toMap(e);
      this.view = { ...this.view, x: this.view.x + drag.x - at.x, y: this.view.y + drag.y - at.y };
      this.svg.setAttribute("viewBox", `${this.view.x} ${this.view.y} ${this.view.w} ${this.view.h}`);
    });
    this.svg.addEventListener("pointerup", () => { drag = null; });
  }
}

/** What the map shows of the state main.ts keeps. */
export interface MapSources { cameras: () => ConsoleCamera[]; open: () => ConsoleCase[]; }

export function legend(cases: ConsoleCase[], cameras: ConsoleCamera[], cameraStates: Record<string, string>): HTMLElement {
  const w = mw();
  const types = new Map<string, string>();
  for (const c of cases) types.set(c.type, (lang() === "zh" ? c.typeNameZh : c.typeNameEn) || c.type);
  const states = [...new Set(cameras.map((c) => c.state))];
  return h("div", { class: "map-legend" },
    h("span", { class: "legend-title" }, `${w.openCases} ${cases.length}`),
    [...types].map(([type, name]) => {
      const dot = h("i", { class: "dot" });
      dot.style.background = typeColour(type);   // CSSOM: the CSP allows no style attributes
      return h("span", { class: "legend-item", "data-type": type }, dot, name);
    }),
    h("span", { class: "legend-title" }, `${w.cameras} ${cameras.length}`),
    states.map((st) => h("span", { class: "legend-item" }, h("i", { class: `square cam-${st}` }), cameraStates[st] ?? st)));
}

// The full map (#/map): every open case (up to 500), kept live from the case events main.ts passes on.
const full = { map: null as CityMap | null, cases: new Map<string, ConsoleCase>(), loaded: false };
window.addEventListener("citysight:case", (e) => {
  const c = (e as CustomEvent<{ case: ConsoleCase | null }>).detail.case;
  if (!c) return;
  if (c.state === "reported" || c.state === "acknowledged") full.cases.set(c.id, c);
  else full.cases.delete(c.id);
});

export function showMap(main: HTMLElement, sources: MapSources, cameraStates: Record<string, string>): void {
  const w = mw();
  if (!full.map) {
    full.map = new CityMap("map-full", true);
    void loadBase().then(({ base, error }) => { full.map!.setBase(base, error); draw(); });
  }
  if (!full.loaded) {
    full.loaded = true;
    void openCasesForMap().then((list) => { for (const c of list.cases) if (!full.cases.has(c.id)) full.cases.set(c.id, c); draw(); },
      () => { full.loaded = false; });
  }
  // Cases main.ts already holds are the newest: they join (the events keep both current).
  for (const c of sources.open()) full.cases.set(c.id, c);
  let section = main.querySelector<HTMLElement>("#map-view");
  if (!section) {
    section = h("section", { id: "map-view", class: "map-view" }, h("h2", {}, w.map), full.map.element, h("div", { class: "map-legend-slot" }));
    main.replaceChildren(section);
  }
  function draw(): void {
    const cases = [...full.cases.values()];
    full.map!.draw(sources.cameras(), cases);
    section!.querySelector(".map-legend-slot")?.replaceChildren(legend(cases, sources.cameras(), cameraStates));
  }
  draw();
}

// The overview's small map: the newest open cases main.ts lists; a click beside the markers opens the full map.
let small: CityMap | null = null;
export function smallMap(sources: MapSources): HTMLElement {
  if (!small) {
    small = new CityMap("map-small", false);
    small.element.addEventListener("click", () => { location.hash = "#/map"; });
    void loadBase().then(({ base, error }) => small!.setBase(base, error));
  }
  small.draw(sources.cameras(), sources.open());
  return h("section", { class: "small-map" }, h("h2", {}, h("a", { href: "#/map" }, mw().full)), small.element);
}
