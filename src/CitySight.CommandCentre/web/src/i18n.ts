// The page's words, Chinese by default (the districts' operators), English on the switch; the choice is remembered.
export type Lang = "zh" | "en";

const zh = {
  title: "CitySight 城市管理指挥中心",
  navOverview: "总览",
  navCases: "案件审查",
  openCases: "待处理案件",
  reportedToday: "今日上报",
  cameras: "摄像头",
  byType: "按类型",
  byGroup: "按片区",
  newestOpen: "最新待处理案件",
  none: "暂无待处理案件",
  id: "案件编号",
  type: "类型",
  camera: "摄像头",
  group: "片区",
  time: "上报时间",
  state: "状态",
  live: "实时",
  reconnecting: "重新连接中…",
  back: "← 返回列表",
  evidence: "取证图片",
  where: "位置",
  firstSeen: "首次发现",
  lastSeen: "最后发现",
  raisedAt: "立案时间",
  zone: "区域",
  confidence: "置信度",
  note: "备注",
  notePlaceholder: "处置说明，例如驳回原因",
  acknowledge: "受理",
  close: "结案",
  reject: "驳回（误报）",
  decided: "已提交：",
  apiKey: "操作员密钥",
  keyNeeded: "此服务需要操作员密钥（x-api-key）。",
  save: "保存",
  notFound: "没有这个案件",
  language: "English",
  mapNav: "地图",
  screenNav: "大屏",
  states: { reported: "已上报", acknowledged: "已受理", closed: "已结案", rejected: "已驳回" } as Record<string, string>,
  cameraStates: {
    streaming: "在线", connecting: "连接中", stalled: "卡顿", offline: "离线", patrolled: "轮巡", disabled: "已停用", stopped: "已停止",
  } as Record<string, string>,
  views: { best: "最佳画面", "best-crop": "目标特写", first: "首次画面", "first-crop": "首次特写", "before-after": "前后对比" } as Record<string, string>,
};

const en: typeof zh = {
  title: "CitySight command centre",
  navOverview: "Overview",
  navCases: "Case review",
  openCases: "Open cases",
  reportedToday: "Reported today",
  cameras: "Cameras",
  byType: "By type",
  byGroup: "By group",
  newestOpen: "Newest open cases",
  none: "No open cases",
  id: "Case id",
  type: "Type",
  camera: "Camera",
  group: "Group",
  time: "Reported at",
  state: "State",
  live: "Live",
  reconnecting: "Reconnecting…",
  back: "← Back to the list",
  evidence: "Evidence",
  where: "Where",
  firstSeen: "First seen",
  lastSeen: "Last seen",
  raisedAt: "Raised at",
  zone: "Zone",
  confidence: "Confidence",
  note: "Note",
  notePlaceholder: "What was done, e.g. why it is rejected",
  acknowledge: "Acknowledge",
  close: "Close",
  reject: "Reject (false alarm)",
  decided: "Sent: ",
  apiKey: "Operator key",
  keyNeeded: "This service needs an operator key (x-api-key).",
  save: "Save",
  notFound: "No such case",
  language: "中文",
  mapNav: "Map",
  screenNav: "Wall screen",
  states: { reported: "Reported", acknowledged: "Acknowledged", closed: "Closed", rejected: "Rejected" },
  cameraStates: {
    streaming: "Streaming", connecting: "Connecting", stalled: "Stalled", offline: "Offline", patrolled: "Patrolled", disabled: "Disabled", stopped: "Stopped",
  },
  views: { best: "Best view", "best-crop": "Close-up", first: "First view", "first-crop": "First close-up", "before-after": "Before / after" },
};

const words = { zh, en };
let current: Lang = localStorage.getItem("citysight.lang") === "en" ? "en" : "zh";

export const lang = (): Lang => current;
export const t = (): typeof zh => words[current];

export function setLang(l: Lang): void {
  current = l;
  localStorage.setItem("citysight.lang", l);
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(current === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}
