// The programme managers' dashboard: every figure comes from the hub's /kpi API, as the caller; the page
// listens on /kpi/stream (server-sent events over fetch, so the caller's headers go with it) and redraws
// within a second of a change, without a reload. No names are ever shown: people are counts, shifts ids.
"use strict";

// Who is calling: from the URL fragment (never sent to servers or logs), kept for the session.
//   #token=<bearer JWT>                          -> Authorization: Bearer
//   #user=..&role=..&collaborative=..[&trust=..] -> the gateway's X-Rosterhub-* caller headers
const CALLER = (() => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if ([...fragment.keys()].length) sessionStorage.setItem("rosterhub-caller", location.hash.slice(1));
  return new URLSearchParams(sessionStorage.getItem("rosterhub-caller") || "");
})();

function callerHeaders() {
  const token = CALLER.get("token");
  if (token) return { Authorization: `Bearer ${token}` };
  const h = {};
  for (const [key, header] of [["user", "X-Rosterhub-User"], ["role", "X-Rosterhub-Role"],
    ["collaborative", "X-Rosterhub-Collaborative"], ["trust", "X-Rosterhub-Trust"]]) {
    if (CALLER.get(key)) h[header] = CALLER.get(key);
  }
  return h;
}

const $ = (id) => document.getElementById(id);

function query(extra = {}) {
  const p = new URLSearchParams();
  const period = $("period").value;
  if (period) p.set("period", period);
  for (const name of ["trust", "staff_group", "shift_type"]) {
    if ($(name).value) p.set(name, $(name).value);
  }
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p.toString();
}

async function api(path, extra) {
  const response = await fetch(`/kpi/${path}?${query(extra)}`, { headers: callerHeaders() });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

// ------------------------------------------------------------------ formatting

const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);
const gbp = (s) => `£${Number(s).toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const int = (n) => Number(n).toLocaleString("en-GB");
const hours = (s) => (s === null || s === undefined ? "–" : `${(s / 3600).toFixed(1)} h`);
const days = (s) => (s === null || s === undefined ? "–" : `${(s / 86400).toFixed(1)} d`);

// Each tile: [figure key, label, format, sub-label from the summary, drill-down metric].
const TILES = [
  ["fill_rate", "Fill rate", pct, (s) => `${int(s.shifts_filled)} of ${int(s.shifts_needed)} needed`, "filled"],
  ["shifts_posted", "Shifts posted (demand)", int, (s) => `${s.hours_posted} h`, "posted"],
  ["shifts_unfilled", "Unfilled", int, (s) => `${int(s.shifts_withdrawn)} withdrawn`, "unfilled"],
  ["time_to_fill.p50_s", "Time to fill p50", hours, (s) => `p90 ${hours(s.time_to_fill.p90_s)}`, "filled"],
  ["bank_share", "Bank share", pct, (s) => `${int(s.fills_by_membership.BANK)} bank fills`, "bank"],
  ["agency_share", "Agency share", pct, (s) => `${int(s.fills_by_membership.AGENCY)} agency fills`, "agency"],
  ["agency_spend", "Agency spend", gbp, (s) => `total cost ${gbp(s.cost)}`, "agency"],
  ["spend_above_cap", "Spend above price cap", gbp, (s) => `${int(s.agency_fills_above_cap)} fills over the cap`, "above_cap"],
  ["framework_compliance", "Framework compliance", pct, () => "agency fills on an approved framework", "framework_not_approved"],
  ["break_glass", "Break glass", int, () => "fills that broke the agency rules", "break_glass"],
  ["savings", "Savings vs agency", gbp, (s) => `${int(s.bank_fills_with_savings)} bank fills`, "bank"],
  ["cross_trust_fills", "Cross-trust fills", int, (s) => `${int(s.cross_trust_people)} of ${int(s.people)} people`, "cross_trust"],
  ["moonlighting_fills", "Moonlighting via agency", int, (s) => `${int(s.moonlighting_refused)} refused`, "moonlighting"],
  ["late_cancellations", "Late cancellations", int, (s) => `${int(s.cancellations_after_fill)} after fill`, null],
  ["no_shows", "No-shows", int, () => "booked, did not attend", "no_show"],
  ["rejections", "Refused requests", int, () => "see refusals by reason", null],
  ["time_to_clearance.p50_s", "Time to clearance p50", days, (s) => `${int(s.time_to_clearance.cleared)} people cleared`, null],
];

function pick(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? o : o[k]), obj);
}

function renderTiles(summary) {
  const box = $("headline");
  box.replaceChildren();
  for (const [key, label, fmt, sub, metric] of TILES) {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.kpi = key;
    const value = pick(summary, key);
    const inner = `<span class="label">${label}</span><span class="value" data-raw="${value ?? ""}">${fmt(value)}</span>` +
      `<span class="sub">${sub(summary)}</span>`;
    tile.innerHTML = metric ? `<a href="#" data-metric="${metric}">${inner}</a>` : inner;
    box.appendChild(tile);
  }
  for (const a of box.querySelectorAll("a[data-metric]")) {
    a.addEventListener("click", (e) => { e.preventDefault(); drill(a.dataset.metric, a.querySelector(".label").textContent); });
  }
}

function renderTable(id, columns, rows) {
  const table = $(id);
  const head = `<tr>${columns.map(([, title, num]) => `<th class="${num ? "num" : ""}">${title}</th>`).join("")}</tr>`;
  const body = rows.map((r) => `<tr>${columns.map(([key, , num, fmt]) =>
    `<td class="${num ? "num" : ""}">${escape(fmt ? fmt(pick(r, key)) : pick(r, key) ?? "")}</td>`).join("")}</tr>`).join("");
  table.innerHTML = head + (body || `<tr><td colspan="${columns.length}" class="muted">none</td></tr>`);
}

function escape(v) {
  return String(v).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

// ------------------------------------------------------------------ drawing

const CHARTS = ["trend_fill", "trend_fill_monthly", "trend_spend", "migration", "fill_by_trust",
  "fill_by_staff_group", "agency_vs_cap", "open_by_tier"];

async function drawCharts() {
  await Promise.all(CHARTS.map(async (name) => {
    const spec = await api(`charts/${name}`);
    spec.width = "container";
    await vegaEmbed(`#chart-${name}`, spec, { actions: false, renderer: "svg" });
  }));
}

async function refresh() {
  const summary = await api("summary");
  renderTiles(summary);
  const tiers = Object.entries(summary.time_to_fill.by_tier).map(([tier, v]) => ({ tier, ...v }));
  renderTable("ttf-by-tier", [["tier", "Tier"], ["fills", "Fills", true], ["p50_s", "p50", true, hours],
    ["p90_s", "p90", true, hours]], tiers);
  renderTable("rejections", [["reason_code", "Reason code"], ["rejections", "Refusals", true]],
    Object.entries(summary.rejections_by_reason).map(([reason_code, rejections]) => ({ reason_code, rejections })));
  renderTable("break-glass", [["day", "Day"], ["host_trust", "Trust"], ["booking_id", "Booking"],
    ["authoriser", "Authorised by"]], await api("break-glass"));
  await drawCharts();
  $("updated").textContent = `updated ${new Date().toLocaleTimeString("en-GB")}`;
  document.body.dataset.version = String(lastVersion);
}

async function drill(metric, title) {
  const answer = await api("shifts", { metric, limit: 200 });
  $("drill").hidden = false;
  $("drill-title").textContent = title;
  $("drill-count").textContent = `${int(answer.total)} shifts${answer.total > answer.shifts.length ? `, first ${answer.shifts.length}` : ""}.`;
  renderTable("drill-table", [["day", "Day"], ["shift_id", "Shift"], ["booking_id", "Booking"], ["host_trust", "Trust"],
    ["ward", "Ward"], ["staff_group", "Staff group"], ["grade", "Grade"], ["shift_type", "Type"], ["tier", "Tier"],
    ["membership", "Via"], ["paid_hours", "Hours", true], ["cost", "Cost", true]], answer.shifts);
}

async function populateTrusts() {
  const rows = await api("split", { by: "trust" });
  const select = $("trust");
  const chosen = select.value;
  const own = CALLER.get("trust");
  const trusts = own ? [own] : rows.map((r) => r.trust).filter((t) => t && t !== "OTHER_TRUSTS");
  select.replaceChildren(new Option("all trusts", ""), ...trusts.map((t) => new Option(t, t)));
  select.value = trusts.includes(chosen) ? chosen : "";
}

// ------------------------------------------------------------------ live

let lastVersion = -1;
let pending = null;

function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    try { await refresh(); } catch (e) { console.error(e); }
  }, 150);
}

async function listen() {
  for (;;) {
    try {
      const response = await fetch("/kpi/stream", { headers: { ...callerHeaders(), Accept: "text/event-stream" } });
      if (!response.ok) throw new Error(`stream: ${response.status}`);
      $("live").dataset.state = "live";
      $("live").textContent = "live";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (block.includes("event: change") && data) {
            const change = JSON.parse(data.slice(6));
            if (change.version !== lastVersion) { lastVersion = change.version; scheduleRefresh(); }
          }
        }
      }
    } catch (e) {
      console.error(e);
    }
    $("live").dataset.state = "down";
    $("live").textContent = "reconnecting…";
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ------------------------------------------------------------------ start

function start() {
  const now = new Date();
  $("period").value = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  const fromUrl = new URLSearchParams(location.search);
  for (const name of ["period", "staff_group", "shift_type"]) if (fromUrl.get(name)) $(name).value = fromUrl.get(name);
  $("who").textContent = CALLER.get("role") ? `${CALLER.get("role")}${CALLER.get("trust") ? " · " + CALLER.get("trust") : ""}` : "";
  $("collaborative").textContent = CALLER.get("collaborative") || "";
  $("filters").addEventListener("change", () => scheduleRefresh());
  $("drill-close").addEventListener("click", () => { $("drill").hidden = true; });
  populateTrusts().then(() => {
    if (fromUrl.get("trust")) $("trust").value = fromUrl.get("trust");
    scheduleRefresh();
  }).catch((e) => console.error(e));
  listen();
}

start();
