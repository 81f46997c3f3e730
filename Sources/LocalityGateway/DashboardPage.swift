/// The dashboard served at `/`: one self-contained page (inline CSS and JavaScript, no
/// external resources) that polls the JSON endpoints every second and shows the members
/// and their states, the ring's key share per member, live activations per node (read
/// from each member's gateway, advertised as `http=host:port` in its metadata) and this
/// node's actor-call rate with p50/p99 over the last two minutes.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Locality</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#2a333d; --text:#d8dee6; --dim:#8793a0; --alive:#3fb950; --suspect:#d29922; --dead:#f85149; --left:#6e7681; --accent:#58a6ff; --p99:#f778ba; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:baseline; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  #status { color:var(--dim); font-size:12px; }
  #status.err { color:var(--dead); }
  main { display:grid; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); gap:16px; padding:16px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
  h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 10px; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  .state { display:inline-block; padding:0 8px; border-radius:10px; font-size:12px; color:#0f1419; }
  .state.alive { background:var(--alive); } .state.suspect { background:var(--suspect); }
  .state.dead { background:var(--dead); } .state.left { background:var(--left); }
  .bar { position:relative; height:10px; background:var(--line); border-radius:5px; overflow:hidden; min-width:120px; }
  .bar > i { position:absolute; top:0; bottom:0; width:2px; background:var(--text); opacity:.7; }
  section.wide { grid-column:1 / -1; }
  .bar > div { height:100%; background:var(--accent); }
  .me { color:var(--accent); }
  .dim { color:var(--dim); font-size:12px; }
  canvas { width:100%; height:220px; display:block; }
  .legend span { margin-right:14px; font-size:12px; }
  .legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:middle; }
</style>
</head>
<body>
<header><h1>Locality</h1><span id="node" class="dim"></span><span id="status">connecting…</span></header>
<main>
  <section>
    <h2>Members</h2>
    <table id="members"><thead><tr><th>name</th><th>state</th><th>inc.</th><th>address</th><th>http</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Ring <span id="checksum" class="dim"></span></h2>
    <table id="ring"><thead><tr><th>member</th><th>vnodes</th><th>key share</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Activations per node</h2>
    <table id="activations"><thead><tr><th>node</th><th>live activations</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Actor calls on this node</h2>
    <div class="legend"><span><i style="background:var(--accent)"></i>requests/s</span><span><i style="background:var(--alive)"></i>p50 ms</span><span><i style="background:var(--p99)"></i>p99 ms</span><span id="now" class="dim"></span></div>
    <canvas id="chart" width="800" height="220"></canvas>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
// With gateway authentication on, open the page as /#token=<admin token>: the fragment
// never reaches a server; the token is kept for this tab and sent on every data request.
(() => {
  const m = location.hash.match(/^#token=(.+)$/);
  if (m) { sessionStorage.setItem("locality-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
})();
const token = sessionStorage.getItem("locality-token");
async function getJSON(url) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2000);
  try {
    const headers = token ? {"Authorization": "Bearer " + token} : {};
    const r = await fetch(url, {cache: "no-store", signal: controller.signal, headers});
    if (!r.ok) throw new Error(url + " → " + r.status);
    return await r.json();
  } finally { clearTimeout(timer); }
}
let self = null;
function renderMembers(data) {
  self = data.node || self;
  $("node").textContent = self ? "node " + self.name : "";
  $("members").tBodies[0].innerHTML = data.members.map((m) => {
    const me = self && m.name === self.name && m.uid === self.uid;
    return `<tr data-name="${esc(m.name)}" data-state="${esc(m.state)}"><td class="${me ? "me" : ""}">${esc(m.name)}</td>` +
      `<td><span class="state ${esc(m.state)}">${esc(m.state)}</span></td><td>${m.incarnation}</td>` +
      `<td>${esc(m.address)}</td><td class="dim">${esc(m.metadata.http || "")}</td></tr>`;
  }).join("");
}
function renderRing(ring) {
  $("checksum").textContent = "checksum " + ring.checksum + " · " + ring.vnodes + " vnodes";
  // Bars are scaled to the largest share; the tick marks an even split.
  const max = Math.max(0.0001, ...ring.members.map((m) => m.share));
  const even = ring.members.length ? 1 / ring.members.length / max * 100 : 0;
  $("ring").tBodies[0].innerHTML = ring.members.map((m) =>
    `<tr data-name="${esc(m.name)}"><td>${esc(m.name)}</td><td>${m.vnodes}</td><td>${(m.share * 100).toFixed(1)}%</td>` +
    `<td><div class="bar" title="tick: even share"><div style="width:${(m.share / max * 100).toFixed(1)}%"></div><i style="left:${Math.min(99, even).toFixed(1)}%"></i></div></td></tr>`).join("");
}
async function renderActivations(members) {
  const alive = members.filter((m) => m.state === "alive" || m.state === "suspect");
  const rows = await Promise.all(alive.map(async (m) => {
    const me = self && m.name === self.name;
    const base = me ? "" : (m.metadata.http ? "http://" + m.metadata.http : null);
    if (base === null) return {name: m.name, count: null};
    try { return {name: m.name, count: (await getJSON(base + "/v1/cluster/activations?limit=0")).count}; }
    catch (e) { return {name: m.name, count: null}; }
  }));
  const max = Math.max(1, ...rows.map((r) => r.count || 0));
  $("activations").tBodies[0].innerHTML = rows.map((r) =>
    `<tr data-name="${esc(r.name)}"><td>${esc(r.name)}</td><td>${r.count === null ? "<span class=dim>n/a</span>" : r.count}</td>` +
    `<td><div class="bar"><div style="width:${((r.count || 0) / max * 100).toFixed(1)}%"></div></div></td></tr>`).join("");
}
function drawChart(samples) {
  const canvas = $("chart"), ctx = canvas.getContext("2d");
  const w = canvas.width = canvas.clientWidth * devicePixelRatio, h = canvas.height = canvas.clientHeight * devicePixelRatio;
  ctx.clearRect(0, 0, w, h);
  const last = samples.slice(-120), pad = 30 * devicePixelRatio;
  const style = getComputedStyle(document.documentElement);
  ctx.strokeStyle = style.getPropertyValue("--line"); ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) { const y = pad / 2 + (h - pad) * i / 4; ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w, y); ctx.stroke(); }
  if (last.length === 0) return;
  const maxRate = Math.max(1, ...last.map((s) => s.requests)), maxMs = Math.max(1, ...last.map((s) => s.p99Ms));
  const x = (i) => pad + (w - pad) * (i + 120 - last.length) / 119;
  const line = (values, max, color) => {
    ctx.strokeStyle = color; ctx.lineWidth = 2 * devicePixelRatio; ctx.beginPath();
    values.forEach((v, i) => { const y = pad / 2 + (h - pad) * (1 - v / max); i ? ctx.lineTo(x(i), y) : ctx.moveTo(x(i), y); });
    ctx.stroke();
  };
  line(last.map((s) => s.requests), maxRate, style.getPropertyValue("--accent"));
  line(last.map((s) => s.p50Ms), maxMs, style.getPropertyValue("--alive"));
  line(last.map((s) => s.p99Ms), maxMs, style.getPropertyValue("--p99"));
  ctx.fillStyle = style.getPropertyValue("--dim"); ctx.font = (11 * devicePixelRatio) + "px system-ui";
  ctx.fillText(maxRate + "/s", 2, pad / 2 + 10); ctx.fillText(maxMs.toFixed(1) + "ms", 2, pad / 2 + 24 * devicePixelRatio);
  const s = last[last.length - 1];
  $("now").textContent = `last second: ${s.requests} req, p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms`;
}
async function tick() {
  const problems = [];
  let members = null;
  await Promise.all([
    getJSON("/v1/cluster/members").then((d) => { members = d.members; renderMembers(d); }).catch((e) => problems.push(e.message)),
    getJSON("/v1/cluster/ring").then(renderRing).catch((e) => problems.push(e.message)),
    getJSON("/v1/stats").then((d) => drawChart(d.samples)).catch((e) => problems.push(e.message)),
  ]);
  if (members) await renderActivations(members);
  const status = $("status");
  status.className = problems.length ? "err" : "";
  status.textContent = problems.length ? problems.join(" · ") : "updated " + new Date().toLocaleTimeString();
}
async function loop() { try { await tick(); } finally { setTimeout(loop, 1000); } }
loop();
</script>
</body>
</html>
"""#
}
