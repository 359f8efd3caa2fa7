// One camera (#/cameras/ID): its latest picture with its zones drawn over it, its state and figures, its recent cases,
// and the admin API's switch (enable / disable; refused unless the operator is an admin consumer, or on this machine).
import { ApiRefusal, CameraZones, ConsoleCamera, ConsoleCase, camera as loadCamera, cameraCases, cameraZones, setCameraEnabled } from "./api";
import { stateBadge, typeName } from "./caseDetail";
import { h } from "./dom";
import { formatTime, lang, t } from "./i18n";
import { age, cameraBadge, fps, pictureInto } from "./wall";

const words = {
  zh: {
    back: "← 返回摄像头墙", id: "编号", group: "片区", street: "街道", mode: "接入方式", reason: "原因", lastFrame: "最新画面",
    rate: "帧率", where: "位置", disable: "停用摄像头", enable: "启用摄像头", switched: "已提交：", recentCases: "最近案件",
    noCases: "此摄像头暂无案件", zones: "编辑区域", exclude: "排除", notFound: "没有这个摄像头", refused: "无权操作：",
    modes: { continuous: "连续", patrol: "轮巡" } as Record<string, string>,
  },
  en: {
    back: "← Back to the wall", id: "Id", group: "Group", street: "Street", mode: "Mode", reason: "Reason", lastFrame: "Latest frame",
    rate: "Frame rate", where: "Where", disable: "Disable camera", enable: "Enable camera", switched: "Sent: ", recentCases: "Recent cases",
    noCases: "No cases from this camera", zones: "Edit zones", exclude: "exclude", notFound: "No such camera", refused: "Not allowed: ",
    modes: { continuous: "Continuous", patrol: "Patrol" } as Record<string, string>,
  },
};
const cw = () => words[lang()];

/** The camera id of a #/cameras/ID route (not #/cameras/ID/zones, the zone editor's). */
export function cameraRoute(): string | null {
  const m = /^#\/cameras\/([^/]+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

const svgNs = "http://www.w3.org/2000/svg";

/** The zones over the picture: a viewBox of 0..100 on both axes stretched to the frame, as the points are normalised. */
function zoneLayer(zones: CameraZones): Node[] {
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "zones");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("preserveAspectRatio", "none");
  const labels: HTMLElement[] = [];
  for (const z of zones.zones) {
    if (z.points.length < 3) continue;
    const polygon = document.createElementNS(svgNs, "polygon");
    polygon.setAttribute("points", z.points.map(([x, y]) => `${x * 100},${y * 100}`).join(" "));
    polygon.setAttribute("class", z.exclude ? "zone exclude" : "zone");
    polygon.setAttribute("data-zone-id", z.id);
    polygon.setAttribute("vector-effect", "non-scaling-stroke");
    const title = document.createElementNS(svgNs, "title");
    title.textContent = `${z.id}: ${z.caseTypes.join(", ")}${z.schedule ? ` (${z.schedule})` : ""}`;
    polygon.append(title);
    svg.append(polygon);
    // The label at the zone's top-left corner, in HTML: text in a stretched viewBox would be distorted.
    const left = Math.min(...z.points.map((p) => p[0])) * 100;
    const top = Math.min(...z.points.map((p) => p[1])) * 100;
    const label = h("span", { class: z.exclude ? "zone-label exclude" : "zone-label" }, z.exclude ? `${z.id} (${cw().exclude})` : z.id);
    // Through the style object: the page's CSP (style-src 'self') refuses style attributes.
    label.style.left = `${left}%`;
    label.style.top = `${top}%`;
    labels.push(label);
  }
  return [svg, ...labels];
}

function casesTable(cases: ConsoleCase[]): HTMLElement {
  const w = t();
  if (cases.length === 0) return h("p", { class: "empty" }, cw().noCases);
  return h("table", { id: "camera-cases" },
    h("thead", {}, h("tr", {}, h("th", {}, w.id), h("th", {}, w.type), h("th", {}, w.time), h("th", {}, w.state))),
    h("tbody", {}, cases.map((c) => h("tr", { "data-case-id": c.id, onclick: () => { location.hash = `#/cases/${encodeURIComponent(c.id)}`; } },
      h("td", {}, h("a", { href: `#/cases/${encodeURIComponent(c.id)}` }, c.id)),
      h("td", {}, typeName(c)),
      h("td", {}, formatTime(c.reportedAt)),
      h("td", {}, stateBadge(c.state))))));
}

/** Renders the camera into `root`; later answers for a page the operator has already left are dropped. */
export async function showCamera(root: HTMLElement, id: string): Promise<void> {
  const still = () => cameraRoute() === id;
  let c: ConsoleCamera;
  try {
    c = await loadCamera(id);
  } catch (err) {
    if (!still()) return;
    root.replaceChildren(h("a", { href: "#/cameras", class: "back" }, cw().back),
      h("p", { class: "error" }, err instanceof ApiRefusal && err.status !== 404 ? err.message : cw().notFound));
    return;
  }
  // Zones only when the service has them for this camera: a 404 (or any refusal) draws none.
  const [cases, zones] = await Promise.all([cameraCases(id).then((l) => l.cases, (err: unknown) => err), cameraZones(id).catch(() => null)]);
  if (!still()) return;
  render(root, c, cases, zones);
}

function render(root: HTMLElement, c: ConsoleCamera, cases: ConsoleCase[] | unknown, zones: CameraZones | null): void {
  const w = cw();
  const frame = h("div", { class: "camera-frame" });
  const box = h("div", { class: "frame-picture" });
  frame.append(box, ...(zones ? zoneLayer(zones) : []));
  pictureInto(box, c, Date.now(), () => frame.classList.add("loaded"));
  const status = h("p", { class: "switch-status", id: "camera-switch-status", role: "status" });
  const off = c.state === "disabled";
  const toggle = h("button", { id: "camera-switch", class: off ? "enable" : "disable" }, off ? w.enable : w.disable) as HTMLButtonElement;
  toggle.onclick = async () => {
    toggle.disabled = true;
    status.className = "switch-status";
    status.textContent = "…";
    try {
      const now = await setCameraEnabled(c.id, off);
      render(root, now, cases, zones);
      root.querySelector("#camera-switch-status")!.textContent = w.switched + (t().cameraStates[now.state] ?? now.state);
    } catch (err) {
      toggle.disabled = false;
      status.classList.add("error");
      status.textContent = (err instanceof ApiRefusal && err.status === 403 ? w.refused : "") + (err instanceof Error ? err.message : String(err));
    }
  };
  const row = (label: string, value: string, cls = "") => h("div", { class: `field ${cls}` }, h("dt", {}, label), h("dd", {}, value));
  root.replaceChildren(
    h("a", { href: "#/cameras", class: "back" }, w.back),
    h("section", { class: "camera-detail", "data-camera-id": c.id },
      h("h2", {}, c.name, " ", cameraBadge(c.state)),
      h("div", { class: "camera-columns" },
        frame,
        h("div", { class: "camera-side" },
          h("dl", { class: "fields" },
            row(w.id, c.id),
            row(w.group, c.groupName || c.groupId),
            row(w.street, c.street || "—"),
            row(w.mode, w.modes[c.mode] ?? c.mode),
            row(w.reason, c.reason ?? "—", "reason"),
            row(w.lastFrame, age(c.lastFrameAgeSeconds)),
            row(w.rate, fps(c)),
            row(w.where, `${c.latitude.toFixed(5)}, ${c.longitude.toFixed(5)}`)),
          h("div", { class: "buttons" }, toggle,
            h("a", { class: "button-link", href: `#/cameras/${encodeURIComponent(c.id)}/zones` }, w.zones)),
          status)),
      h("h3", {}, w.recentCases),
      Array.isArray(cases) ? casesTable(cases as ConsoleCase[])
        : h("p", { class: "error" }, cases instanceof Error ? cases.message : String(cases))));
}
