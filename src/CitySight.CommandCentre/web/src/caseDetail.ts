// One case: where and when, every picture it has, and the operator's decision (acknowledge / close / reject with a note).
import { ApiRefusal, ConsoleCamera, ConsoleCase, decide, evidenceUrl, getCase } from "./api";
import { h } from "./dom";
import { formatTime, lang, t } from "./i18n";
import { CityMap, loadBase } from "./map";

const views = ["best", "best-crop", "first", "first-crop", "before-after"];
const pictures: string[] = [];

export function typeName(c: ConsoleCase): string {
  return (lang() === "zh" ? c.typeNameZh : c.typeNameEn) || c.type;
}

export function stateBadge(state: string): HTMLElement {
  return h("span", { class: `badge state-${state}`, "data-state": state }, t().states[state] ?? state);
}

/** Renders the case into `root`; `cameras` names its camera. Returns the case as loaded (null when there is none). */
export async function showCase(root: HTMLElement, id: string, cameras: Map<string, ConsoleCamera>): Promise<ConsoleCase | null> {
  for (const url of pictures.splice(0)) URL.revokeObjectURL(url);
  let c: ConsoleCase;
  try {
    c = await getCase(id);
  } catch (err) {
    root.replaceChildren(h("a", { href: "#/" }, t().back), h("p", { class: "error" }, err instanceof ApiRefusal ? err.message : t().notFound));
    return null;
  }
  const w = t();
  const camera = cameras.get(c.cameraId);
  const gallery = h("div", { class: "gallery" });
  const status = h("p", { class: "decision-status", role: "status" });
  const note = h("textarea", { id: "note", rows: "2", maxlength: "1000", placeholder: w.notePlaceholder }) as HTMLTextAreaElement;
  const final = c.state === "closed" || c.state === "rejected";

  const act = (outcome: "acknowledged" | "closed" | "rejected") => async () => {
    status.textContent = "…";
    try {
      const done = await decide(c.id, outcome, note.value);
      status.textContent = w.decided + (w.states[done.state] ?? done.state);
      await showCase(root, id, cameras);
    } catch (err) {
      status.textContent = err instanceof Error ? err.message : String(err);
      status.classList.add("error");
    }
  };
  const row = (label: string, value: string) => h("div", { class: "field" }, h("dt", {}, label), h("dd", {}, value));

  root.replaceChildren(
    h("a", { href: "#/", class: "back" }, w.back),
    h("section", { class: "case-detail", "data-case-id": c.id },
      h("h2", {}, typeName(c), " ", stateBadge(c.state)),
      h("dl", { class: "fields" },
        row(w.id, c.id),
        row(w.camera, camera ? `${camera.name} (${c.cameraId})` : c.cameraId),
        row(w.group, camera?.groupName ?? c.groupId),
        row(w.where, [c.district, c.street, c.grid].filter(Boolean).join(" · ") + ` (${c.latitude.toFixed(5)}, ${c.longitude.toFixed(5)})`),
        row(w.zone, c.zone || "—"),
        row(w.firstSeen, formatTime(c.firstSeen)),
        row(w.lastSeen, formatTime(c.lastSeen)),
        row(w.raisedAt, formatTime(c.raisedAt)),
        row(w.time, formatTime(c.reportedAt)),
        row(w.confidence, `${c.className} ${(c.confidence * 100).toFixed(0)}%`),
        c.note ? row(w.note, c.note) : null),
      h("div", { class: "decision" },
        h("label", { for: "note" }, w.note),
        note,
        h("div", { class: "buttons" },
          h("button", { class: "ack", onclick: act("acknowledged"), disabled: final || c.state === "acknowledged" }, w.acknowledge),
          h("button", { class: "close", onclick: act("closed"), disabled: final }, w.close),
          h("button", { class: "reject", onclick: act("rejected"), disabled: final }, w.reject)),
        status),
      h("h3", {}, w.evidence),
      gallery,
      h("h3", {}, w.where),
      placeOnMap(c, camera)));

  // Each view the case has; a view it lacks (no crop made, no before/after for its type) is simply left out.
  for (const view of views) {
    const url = await evidenceUrl(c.id, view);
    if (!url) continue;
    pictures.push(url);
    gallery.append(h("figure", { "data-view": view }, h("img", { src: url, alt: w.views[view] ?? view }), h("figcaption", {}, w.views[view] ?? view)));
  }
  return c;
}

/** The case's place on the map (over the operator's base when there is one), with the camera that saw it. */
function placeOnMap(c: ConsoleCase, camera: ConsoleCamera | undefined): HTMLElement {
  const map = new CityMap("map-case", false);
  const draw = () => map.draw(camera ? [camera] : [], [c]);
  void loadBase().then(({ base, error }) => { map.setBase(base, error); draw(); });
  draw();
  return h("div", { class: "case-map" }, map.element);
}
