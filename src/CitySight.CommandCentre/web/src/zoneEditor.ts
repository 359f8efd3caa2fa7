// The zone editor (#/cameras/ID/zones): the camera's latest picture with its zones drawn over it. Click points to draw
// a new zone (double-click or Enter closes it, Escape drops it), drag a corner to move it, choose the zone's case types,
// exclude and schedule, and save: the service writes the camera's group file (comments kept), validates it and reloads.
import { ApiRefusal, CameraZones, ConsoleZone, cameraZones, pictureUrl, saveZones } from "./api";
import { h } from "./dom";
import { lang } from "./i18n";

const words = {
  zh: {
    title: "区域编辑", back: "← 返回", file: "配置文件", noPicture: "暂无画面：摄像头还没有送来图像，仍可按比例绘制。",
    refresh: "刷新画面", newZone: "新建区域", drawing: "单击添加顶点，双击或回车完成（至少 3 点），Esc 取消。",
    zones: "区域列表", none: "此摄像头没有区域：整个画面都生效。", id: "名称", types: "适用类型",
    allTypes: "摄像头检测的全部类型", exclude: "排除区域（区域内不立案）", schedule: "生效时段",
    schedulePlaceholder: "留空为全天；例如 06:00-22:00 或 [{days: [sat, sun], hours: [\"08:00-20:00\"]}]",
    remove: "删除区域", save: "保存并应用", saving: "保存中…", saved: "已保存，已应用（无需重启）。",
    notSaved: "未保存：", invalid: "未保存：配置校验未通过，文件未改动。", select: "点击区域可选中编辑；拖动顶点可调整。", notFound: "找不到这个摄像头的配置文件",
    include: "包含", excludeShort: "排除",
  },
  en: {
    title: "Zone editor", back: "← Back", file: "Configuration file", noPicture: "No picture yet: the camera has sent no frame; you can still draw to scale.",
    refresh: "Refresh picture", newZone: "New zone", drawing: "Click to add corners; double-click or Enter closes it (3 or more), Escape drops it.",
    zones: "Zones", none: "This camera has no zones: the whole picture counts.", id: "Name", types: "Case types",
    allTypes: "Every type the camera looks for", exclude: "Exclude zone (no cases inside)", schedule: "Schedule",
    schedulePlaceholder: "Empty: always; e.g. 06:00-22:00 or [{days: [sat, sun], hours: [\"08:00-20:00\"]}]",
    remove: "Delete zone", save: "Save and apply", saving: "Saving…", saved: "Saved, applied (no restart needed).",
    notSaved: "Not saved: ", invalid: "Not saved: the configuration would not be valid; the file is unchanged.", select: "Click a zone to edit it; drag a corner to move it.", notFound: "No configuration file defines this camera",
    include: "include", excludeShort: "exclude",
  },
};
const w = () => words[lang()];

const SVG = "http://www.w3.org/2000/svg";
const svg = (tag: string, attrs: Record<string, string | number>): SVGElement => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

interface Editor {
  camera: CameraZones;
  zones: ConsoleZone[];
  selected: number;
  drawing: [number, number][] | null;
  width: number;
  height: number;
  picture: string | null;
  /** The picture's element, kept across renders (a new one would be decoded again, empty meanwhile). */
  image?: HTMLImageElement;
  root: HTMLElement;
  status: { kind: "" | "ok" | "error" | "busy"; text: string; errors: string[] };
}

let current: Editor | null = null;
let shown = 0;

// One handler for the page's life: Enter closes the zone being drawn, Escape drops it.
window.addEventListener("keydown", (e: KeyboardEvent) => {
  const ed = current;
  if (!ed || !ed.drawing || !location.hash.endsWith("/zones")) return;
  if (e.key === "Enter") { e.preventDefault(); closeDrawing(ed, ed.root); }
  if (e.key === "Escape") { ed.drawing = null; render(ed, ed.root); }
});

/** Renders the editor for `cameraId` into `root` (it owns `root` until the route changes); the latest call wins. */
export async function showZoneEditor(root: HTMLElement, cameraId: string): Promise<void> {
  const generation = ++shown;
  if (current?.picture) URL.revokeObjectURL(current.picture);
  current = null;
  let camera: CameraZones;
  try {
    camera = await cameraZones(cameraId);
  } catch (err) {
    if (generation !== shown) return;
    root.replaceChildren(h("a", { class: "back", href: "#/" }, w().back),
      h("p", { class: "error" }, err instanceof ApiRefusal && err.status !== 404 ? err.message : `${w().notFound}: ${cameraId}`));
    return;
  }
  const ed: Editor = {
    camera, zones: camera.zones.map((z) => ({ ...z, points: z.points.map((p) => [p[0], p[1]] as [number, number]) })),
    selected: camera.zones.length > 0 ? 0 : -1, drawing: null, width: 640, height: 360, picture: null, root,
    status: { kind: "", text: "", errors: [] },
  };
  await loadPicture(ed);
  if (generation !== shown) {
    if (ed.picture) URL.revokeObjectURL(ed.picture);
    return;
  }
  current = ed;
  render(ed, root);
}

async function loadPicture(ed: Editor): Promise<void> {
  const url = await pictureUrl(ed.camera.cameraId);
  if (ed.picture) URL.revokeObjectURL(ed.picture);
  ed.picture = url;
  ed.image = undefined;
  if (!url) return;
  const img = new Image();
  img.src = url;
  try {
    await img.decode();
    ed.width = img.naturalWidth;
    ed.height = img.naturalHeight;
  } catch { /* drawn at 16:9 */ }
}

const typeLabel = (ed: Editor, id: string) => {
  const n = ed.camera.typeNames[id];
  return n ? `${lang() === "zh" ? n.zh : n.en} (${id})` : id;
};

function render(ed: Editor, root: HTMLElement): void {
  const t = w();
  // Sized by the picture's proportions before it is decoded, so a render never collapses it under the pointer.
  const stage = h("div", { class: "zone-stage", id: "zone-stage", style: `aspect-ratio: ${ed.width} / ${ed.height}` });
  if (ed.picture) {
    ed.image ??= h("img", { src: ed.picture, alt: ed.camera.cameraId, draggable: "false" }) as HTMLImageElement;
    stage.append(ed.image);
  } else stage.append(h("div", { class: "zone-placeholder" }, t.noPicture));
  stage.append(drawing(ed, root));

  const list = h("ul", { class: "zone-list" }, ed.zones.map((z, i) =>
    h("li", { class: i === ed.selected ? "selected" : "", "data-zone-id": z.id },
      h("button", { class: "link-dark", onclick: () => { ed.selected = i; render(ed, root); } },
        `${z.id}`, h("span", { class: z.exclude ? "badge state-rejected" : "badge state-acknowledged" }, z.exclude ? t.excludeShort : t.include)))));

  root.replaceChildren(
    h("a", { class: "back", href: `#/cameras/${encodeURIComponent(ed.camera.cameraId)}` }, t.back),
    h("section", { class: "zone-editor", "data-camera-id": ed.camera.cameraId },
      h("h2", {}, `${t.title} · ${ed.camera.cameraId}`),
      h("p", { class: "muted" }, `${t.file}: `, h("code", { id: "zone-file" }, ed.camera.file)),
      h("div", { class: "zone-layout" },
        h("div", {},
          stage,
          h("p", { class: "muted", id: "zone-hint" }, ed.drawing ? t.drawing : t.select),
          h("div", { class: "buttons" },
            h("button", { id: "new-zone", disabled: ed.drawing !== null, onclick: () => { ed.drawing = []; render(ed, root); } }, t.newZone),
            h("button", { id: "refresh-picture", onclick: async () => { await loadPicture(ed); render(ed, root); } }, t.refresh))),
        h("div", { class: "zone-side" },
          h("h3", {}, t.zones),
          ed.zones.length ? list : h("p", { class: "empty" }, t.none),
          form(ed, root),
          h("div", { class: "buttons" },
            h("button", { id: "save-zones", class: "ack", disabled: ed.status.kind === "busy" || ed.drawing !== null, onclick: () => void save(ed, root) }, t.save)),
          statusView(ed)))));
}

function statusView(ed: Editor): HTMLElement {
  const s = ed.status;
  return h("div", { id: "zone-status", class: `zone-status ${s.kind}`, role: "status" },
    s.text ? h("p", {}, s.text) : null,
    s.errors.length ? h("ul", { class: "zone-errors" }, s.errors.map((e) => h("li", {}, e))) : null);
}

/** The selected zone's fields. */
function form(ed: Editor, root: HTMLElement): HTMLElement | null {
  const t = w();
  const z = ed.zones[ed.selected];
  if (!z) return null;
  const changed = () => { ed.status = { kind: "", text: "", errors: [] }; };
  const id = h("input", { id: "zone-id", value: z.id, maxlength: "200" }) as HTMLInputElement;
  id.addEventListener("change", () => { z.id = id.value.trim(); changed(); render(ed, root); });
  const all = h("input", { type: "checkbox", id: "zone-all-types", checked: z.allCaseTypes }) as HTMLInputElement;
  all.addEventListener("change", () => {
    z.allCaseTypes = all.checked;
    if (all.checked) z.caseTypes = [...ed.camera.detectors];
    changed(); render(ed, root);
  });
  const types = ed.camera.detectors.map((type) => {
    const box = h("input", { type: "checkbox", name: "case-type", value: type, checked: z.caseTypes.includes(type), disabled: z.allCaseTypes }) as HTMLInputElement;
    box.addEventListener("change", () => {
      z.caseTypes = ed.camera.detectors.filter((d) => (d === type ? box.checked : z.caseTypes.includes(d)));
      changed();
    });
    return h("label", { class: "check" }, box, typeLabel(ed, type));
  });
  const exclude = h("input", { type: "checkbox", id: "zone-exclude", checked: z.exclude }) as HTMLInputElement;
  exclude.addEventListener("change", () => { z.exclude = exclude.checked; changed(); render(ed, root); });
  const schedule = h("input", { id: "zone-schedule", value: z.schedule ?? "", placeholder: t.schedulePlaceholder, maxlength: "200" }) as HTMLInputElement;
  schedule.addEventListener("change", () => { z.schedule = schedule.value.trim() || null; changed(); });
  return h("fieldset", { class: "zone-form" },
    h("label", {}, t.id, id),
    h("div", { class: "zone-types" }, h("span", {}, t.types), h("label", { class: "check" }, all, t.allTypes), types),
    h("label", { class: "check" }, exclude, t.exclude),
    h("label", {}, t.schedule, schedule),
    h("button", { id: "delete-zone", class: "reject", onclick: () => {
      ed.zones.splice(ed.selected, 1);
      ed.selected = Math.min(ed.selected, ed.zones.length - 1);
      changed(); render(ed, root);
    } }, t.remove));
}

/** The SVG over the picture, in its pixels: the zones, the selected one's corners, and the zone being drawn. */
function drawing(ed: Editor, root: HTMLElement): SVGElement {
  const W = ed.width, H = ed.height;
  const over = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", class: ed.drawing ? "drawing" : "" });
  const at = (e: MouseEvent): [number, number] => {
    const r = over.getBoundingClientRect();
    const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
    return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
  };
  const pts = (p: [number, number][]) => p.map(([x, y]) => `${x * W},${y * H}`).join(" ");

  ed.zones.forEach((z, i) => {
    const poly = svg("polygon", { points: pts(z.points), class: `zone${z.exclude ? " exclude" : ""}${i === ed.selected ? " selected" : ""}`, "data-zone-id": z.id });
    poly.addEventListener("click", (e) => { if (ed.drawing) return; e.stopPropagation(); ed.selected = i; render(ed, root); });
    over.append(poly);
    const [lx, ly] = z.points[0] ?? [0, 0];
    const label = svg("text", { x: lx * W + 4, y: ly * H + 16, class: "zone-label" });
    label.textContent = z.id;
    over.append(label);
  });

  const z = ed.zones[ed.selected];
  if (z && !ed.drawing) {
    z.points.forEach((p, k) => {
      const handle = svg("circle", { cx: p[0] * W, cy: p[1] * H, r: Math.max(W, H) / 110, class: "corner", "data-corner": k });
      handle.addEventListener("pointerdown", (e) => {
        e.stopPropagation();
        (handle as Element).setPointerCapture(e.pointerId);
        const move = (m: PointerEvent) => {
          z.points[k] = at(m);
          handle.setAttribute("cx", String(z.points[k][0] * W));
          handle.setAttribute("cy", String(z.points[k][1] * H));
          over.querySelector(`polygon.selected`)?.setAttribute("points", pts(z.points));
        };
        const up = () => {
          handle.removeEventListener("pointermove", move as EventListener);
          handle.removeEventListener("pointerup", up);
          ed.status = { kind: "", text: "", errors: [] };
          render(ed, root);
        };
        handle.addEventListener("pointermove", move as EventListener);
        handle.addEventListener("pointerup", up);
      });
      over.append(handle);
    });
  }

  if (ed.drawing) {
    const d = ed.drawing;
    over.append(svg("polyline", { points: pts(d), class: "zone drawing-line" }));
    d.forEach(([x, y]) => over.append(svg("circle", { cx: x * W, cy: y * H, r: Math.max(W, H) / 140, class: "corner new" })));
    over.addEventListener("click", (e) => {
      const p = at(e);
      const last = d[d.length - 1];
      // The two clicks of a double-click land on one spot: one corner.
      if (last && Math.abs(last[0] - p[0]) < 0.004 && Math.abs(last[1] - p[1]) < 0.004) return;
      d.push(p);
      render(ed, root);
    });
    over.addEventListener("dblclick", (e) => { e.preventDefault(); closeDrawing(ed, root); });
  }
  return over;
}

function closeDrawing(ed: Editor, root: HTMLElement): void {
  const d = ed.drawing;
  if (!d || d.length < 3) return;
  const taken = new Set(ed.zones.map((z) => z.id));
  let n = ed.zones.length + 1;
  while (taken.has(`zone-${n}`)) n++;
  ed.zones.push({ id: `zone-${n}`, caseTypes: [...ed.camera.detectors], points: d, exclude: false, schedule: null, allCaseTypes: true });
  ed.selected = ed.zones.length - 1;
  ed.drawing = null;
  ed.status = { kind: "", text: "", errors: [] };
  render(ed, root);
}

async function save(ed: Editor, root: HTMLElement): Promise<void> {
  ed.status = { kind: "busy", text: w().saving, errors: [] };
  render(ed, root);
  const result = await saveZones(ed.camera.cameraId, { ...ed.camera, zones: ed.zones });
  if (result.saved) {
    const selectedId = ed.zones[ed.selected]?.id;
    ed.camera = result.saved;
    ed.zones = result.saved.zones;
    ed.selected = Math.max(0, ed.zones.findIndex((z) => z.id === selectedId));
    if (ed.zones.length === 0) ed.selected = -1;
    ed.status = { kind: "ok", text: w().saved, errors: [] };
  } else {
    ed.status = { kind: "error", text: result.errors.length ? w().invalid : w().notSaved + result.error, errors: result.errors };
  }
  if (current === ed && location.hash.endsWith("/zones")) render(ed, root);
}
