// The console's API (/api/v1, see /api/v1/openapi.json). Every call carries the operator's key when one was given;
// the event stream is read with fetch (EventSource cannot send a header) and resumes from the last event it saw.

export interface ConsoleCase {
  id: string; sequence: number; type: string; typeCode: string; typeNameZh: string; typeNameEn: string;
  cameraId: string; groupId: string; district: string; street: string; grid: string; responsibleUnit: string; zone: string;
  state: string; latitude: number; longitude: number; firstSeen: string; lastSeen: string; raisedAt: string | null;
  reportedAt: string | null; acknowledgedAt: string | null; closedAt: string | null; confidence: number; className: string; note: string;
}
export interface CaseCounts { total: number; byType: Record<string, number>; byGroup: Record<string, number>; }
export interface Overview {
  at: string; timeZone: string; open: CaseCounts; today: CaseCounts; cameras: number; camerasByState: Record<string, number>;
  types: Record<string, { zh: string; en: string }>; groups: Record<string, string>;
}
export interface ConsoleCamera {
  id: string; name: string; groupId: string; groupName: string; state: string; reason: string | null;
  latitude: number; longitude: number; lastFrameAgeSeconds: number | null;
  street: string; mode: string; framesPerSecond: number | null;
}
export interface CaseList { cases: ConsoleCase[]; head: number; }
export interface ConsoleEvent { kind: string; sequence: number; case: ConsoleCase | null; }

/** Refused: 401 asks for a key, 403 says who may not. */
export class ApiRefusal extends Error {
  constructor(public status: number, message: string) { super(message); }
}

// For this tab's session only: a command-centre PC is shared, and a key kept in localStorage would outlive the operator's shift.
const keyName = "citysight.apiKey";
export const apiKey = (): string => sessionStorage.getItem(keyName) ?? "";
export const setApiKey = (key: string): void => sessionStorage.setItem(keyName, key.trim());

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey();
  return key ? { "x-api-key": key, ...extra } : extra;
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { ...init, headers: headers(init.headers as Record<string, string>) });
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try { message = (JSON.parse(text) as { error?: string }).error ?? text; } catch { /* plain text */ }
    throw new ApiRefusal(res.status, message || res.statusText);
  }
  return (await res.json()) as T;
}

export const overview = () => call<Overview>("/overview");
export const cameras = () => call<ConsoleCamera[]>("/cameras");
export const openCases = (limit = 100) => call<CaseList>(`/cases?state=open&limit=${limit}`);
/** The review list: state (open, reported, …, final, all), type, group, raised since/until (ISO 8601), newest first. */
export function caseList(f: { state: string; type: string; group: string; since: string; until: string; limit: number }): Promise<CaseList> {
  const q = new URLSearchParams({ state: f.state, limit: String(f.limit) });
  for (const k of ["type", "group", "since", "until"] as const) if (f[k]) q.set(k, f[k]);
  return call<CaseList>(`/cases?${q}`);
}
export const getCase = (id: string) => call<ConsoleCase>(`/cases/${encodeURIComponent(id)}`);
export const decide = (id: string, outcome: "acknowledged" | "closed" | "rejected", note: string) =>
  call<ConsoleCase>(`/cases/${encodeURIComponent(id)}/outcome`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ outcome, note }),
  });

// The camera wall and a camera's detail page.
export const camera = (id: string) => call<ConsoleCamera>(`/cameras/${encodeURIComponent(id)}`);
export const cameraCases = (id: string, limit = 20) => call<CaseList>(`/cases?state=all&camera=${encodeURIComponent(id)}&limit=${limit}`);
export const setCameraEnabled = (id: string, enabled: boolean) =>
  call<ConsoleCamera>(`/cameras/${encodeURIComponent(id)}/enabled`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ enabled }),
  });
/** The camera's latest picture: its path for an <img> when no key is needed, else fetched with the key (null: none yet). */
export const picturePath = (id: string, version: number) => `/api/v1/cameras/${encodeURIComponent(id)}/picture?v=${version}`;
export async function pictureBlobUrl(id: string, version: number): Promise<string | null> {
  const res = await fetch(picturePath(id, version), { headers: headers() });
  return res.ok ? URL.createObjectURL(await res.blob()) : null;
}

/** A picture as an object URL (an <img> cannot send the key), or null when the case has no such view. */
export async function evidenceUrl(id: string, view: string): Promise<string | null> {
  const res = await fetch(`/api/v1/cases/${encodeURIComponent(id)}/evidence/${view}`, { headers: headers() });
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}

/**
 * Follows the case feed from after `head`, calling `onEvent` for each event and `onLive` when the stream is (or
 * stops being) connected; reconnects with Last-Event-ID, so a dropped connection loses nothing.
 */
export async function follow(head: number, onEvent: (e: ConsoleEvent) => void, onLive: (live: boolean) => void): Promise<never> {
  let last = head;
  let delay = 1000;
  for (;;) {
    try {
      const res = await fetch("/api/v1/events", { headers: headers({ "Last-Event-ID": String(last), accept: "text/event-stream" }) });
      if (!res.ok || !res.body) throw new ApiRefusal(res.status, res.statusText);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
          if (!data) continue;
          const e = JSON.parse(data) as ConsoleEvent;
          last = Math.max(last, e.sequence);
          delay = 1000;
          if (e.kind === "ready") onLive(true);
          else onEvent(e);
        }
      }
    } catch (err) {
      if (err instanceof ApiRefusal && err.status === 401) window.dispatchEvent(new CustomEvent("citysight:key-needed"));
    }
    onLive(false);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

// ---- the zone editor (zoneEditor.ts) ----

/** A zone as its camera's group file writes it; points are [x, y], each 0..1 of the picture. */
export interface ConsoleZone {
  id: string; caseTypes: string[]; points: [number, number][]; exclude: boolean; schedule: string | null; allCaseTypes: boolean;
}
export interface CameraZones {
  cameraId: string; groupId: string; file: string; detectors: string[]; typeNames: Record<string, { zh: string; en: string }>; zones: ConsoleZone[];
}
/** Saved and applied, or why not: each configuration error as file:line:column: field: message. */
export interface ZoneSaving { saved: CameraZones | null; error: string; errors: string[]; }

export const cameraZones = (id: string) => call<CameraZones>(`/cameras/${encodeURIComponent(id)}/zones`);

export async function saveZones(id: string, body: CameraZones): Promise<ZoneSaving> {
  const res = await fetch(`/api/v1/cameras/${encodeURIComponent(id)}/zones`, {
    method: "PUT", headers: headers({ "content-type": "application/json" }), body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: { error?: string; errors?: string[] } = {};
  try { json = JSON.parse(text); } catch { /* plain text */ }
  if (res.ok) return { saved: json as unknown as CameraZones, error: "", errors: [] };
  return { saved: null, error: json.error ?? (text || res.statusText), errors: json.errors ?? [] };
}

/** The camera's latest picture as an object URL with its natural size, or null when it has none yet. */
export async function pictureUrl(id: string): Promise<string | null> {
  const res = await fetch(`/api/v1/cameras/${encodeURIComponent(id)}/picture`, { headers: headers(), cache: "no-cache" });
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}

// The overview's figures, the map's base and the open cases it draws (figures.ts, map.ts, wallScreen.ts).
export interface DetectorFigures {
  framesPerSecond: number | null; droppedPerSecond: number | null; frames: number; dropped: number; windowSeconds: number;
  framesPerSecondByModel: Record<string, number | null>;
}
export interface ConsumerLag { consumer: string; acked: number; behind: number; ackedAt: string; secondsSinceAck: number; }
export interface OutcomeFigures {
  accepted: number; rejected: number; closedByCitySight: number; acceptedRate: number | null; rejectedRate: number | null;
  medianMinutesToClose: number | null; p90MinutesToClose: number | null;
}
export interface OutcomeWindow { from: string; all: OutcomeFigures; byType: Record<string, OutcomeFigures>; byGroup: Record<string, OutcomeFigures>; }
// Declaration merging: the fields the overview added, optional so an older service still reads.
export interface Overview {
  week?: CaseCounts; detector?: DetectorFigures | null; feedHead?: number; delivery?: ConsumerLag[];
  outcomes?: { today: OutcomeWindow; week: OutcomeWindow } | null;
}
export interface MapBase { configured: boolean; file: string | null; bounds: number[] | null; geoJson: GeoJsonObject | null; }
export interface GeoJsonObject {
  type: string; features?: GeoJsonObject[]; geometry?: GeoJsonObject | null; geometries?: GeoJsonObject[];
  coordinates?: unknown; properties?: Record<string, unknown> | null;
}
export const mapBase = () => call<MapBase>("/map/base");
export const openCasesForMap = () => call<CaseList>(`/cases?state=open&limit=500`);
