/**
 * The dashboard's one page: plain HTML, CSS and a small script that renders each snapshot from
 * the `/live` WebSocket (members, the overlay as an SVG graph, agents per node, message rates,
 * dead letters, membership events). No build step, no external resources.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Murmur dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#2a3440; --text:#d8dee6; --dim:#8593a3; --alive:#3fb950; --suspect:#d29922; --dead:#f85149; --left:#8593a3; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 20px; border-bottom:1px solid var(--line); }
  header h1 { margin:0; font-size:18px; letter-spacing:.5px; }
  header .dim { color:var(--dim); }
  #conn { margin-left:auto; font-size:12px; }
  main { display:grid; grid-template-columns: 1.1fr 1fr; gap:14px; padding:14px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
  section h2 { margin:0 0 8px; font-size:13px; text-transform:uppercase; letter-spacing:.8px; color:var(--dim); font-weight:600; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  td, th { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#0f1419; }
  .alive { background:var(--alive); } .suspect { background:var(--suspect); } .dead { background:var(--dead); } .left { background:var(--left); }
  svg { width:100%; height:280px; display:block; }
  .bar { height:10px; background:var(--accent); border-radius:3px; }
  ul { list-style:none; margin:0; padding:0; max-height:200px; overflow:auto; font-size:13px; }
  li { padding:3px 0; border-bottom:1px solid var(--line); }
  .muted { color:var(--dim); }
  .wide { grid-column: 1 / -1; }
</style>
</head>
<body>
<header><h1>Murmur</h1><span class="dim">dashboard of <b id="self">…</b></span><span id="summary" class="dim"></span><span id="conn" class="muted">connecting…</span></header>
<main>
  <section><h2>Members</h2>
    <table><thead><tr><th>node</th><th>address</th><th>state</th><th>agents</th></tr></thead><tbody id="members"></tbody></table>
  </section>
  <section><h2>Overlay</h2><svg id="overlay" viewBox="0 0 400 280" role="img" aria-label="overlay graph"></svg></section>
  <section><h2>Agents per node</h2><table><tbody id="agents"></tbody></table></section>
  <section><h2>Messages per second <span class="muted">(last 10 s)</span></h2>
    <table><thead><tr><th>channel</th><th>guarantee</th><th>msg/s</th></tr></thead><tbody id="rates"></tbody></table>
    <p class="muted" id="transport"></p>
  </section>
  <section><h2>Membership and partitions</h2><p id="partition" class="muted"></p><ul id="events"></ul></section>
  <section><h2>Recent dead letters</h2><ul id="dead"></ul></section>
</main>
<script>
const $ = (id) => document.getElementById(id)
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]))
const time = (t) => new Date(t).toLocaleTimeString()

function render(s) {
  $('self').textContent = s.node
  const alive = s.members.filter((m) => m.status === 'alive').length
  $('summary').textContent = alive + ' of ' + s.members.length + ' members alive · updated ' + time(s.at)
  $('members').innerHTML = s.members.map((m) =>
    '<tr data-member="' + esc(m.id) + '" data-status="' + esc(m.status) + '"><td>' + esc(m.id) + '</td><td class="muted">' + esc(m.address) +
    '</td><td><span class="badge ' + esc(m.status) + '">' + esc(m.status) + '</span></td><td>' + (s.agents[m.id] ?? '') + '</td></tr>').join('')
  const max = Math.max(1, ...Object.values(s.agents))
  $('agents').innerHTML = Object.entries(s.agents).map(([n, c]) =>
    '<tr><td>' + esc(n) + '</td><td style="width:60%"><div class="bar" style="width:' + (100 * c / max) + '%"></div></td><td>' + c + '</td></tr>').join('') ||
    '<tr><td class="muted">no agents</td></tr>'
  $('rates').innerHTML = s.rates.length ? s.rates.map((r) =>
    '<tr><td>' + esc(r.channel) + '</td><td>' + esc(r.guarantee) + '</td><td>' + r.perSecond + '</td></tr>').join('') : '<tr><td colspan="3" class="muted">idle</td></tr>'
  $('transport').textContent = 'transport: ' + s.transport.delivered + ' msg/s in, ' + s.transport.sent + ' msg/s out (all channels, control included)'
  const p = s.partition
  $('partition').innerHTML = p.unreachable.length ? '<b style="color:#f85149">partitioned</b>: this side ' + p.reachable.map(esc).join(', ') + ' · cut off ' + p.unreachable.map(esc).join(', ') : 'no partition: ' + p.reachable.length + ' reachable'
  $('events').innerHTML = s.events.map((e) => '<li><span class="muted">' + time(e.at) + '</span> ' + esc(e.kind) + ' <b>' + esc(e.member) + '</b></li>').join('') || '<li class="muted">no changes yet</li>'
  $('dead').innerHTML = s.deadLetters.map((d) => '<li><span class="muted">' + time(d.at) + '</span> ' + esc(d.type) + ' → ' + esc(d.to) + ' <span class="muted">(' + esc(d.reason) + ')</span></li>').join('') || '<li class="muted">none</li>'
  drawOverlay(s)
}

function drawOverlay(s) {
  const svg = $('overlay')
  const ms = s.members
  const cx = 200, cy = 140, r = Math.min(110, 40 + ms.length * 12)
  const pos = new Map(ms.map((m, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, ms.length) - Math.PI / 2
    return [m.id, [cx + r * Math.cos(a), cy + r * Math.sin(a)]]
  }))
  let out = ''
  for (const [a, b] of s.edges) {
    const p = pos.get(a), q = pos.get(b)
    if (p && q) out += '<line x1="' + p[0] + '" y1="' + p[1] + '" x2="' + q[0] + '" y2="' + q[1] + '" stroke="#58a6ff" stroke-opacity=".6" stroke-width="2"/>'
  }
  const color = { alive: '#3fb950', suspect: '#d29922', dead: '#f85149', left: '#8593a3' }
  for (const m of ms) {
    const [x, y] = pos.get(m.id)
    out += '<g data-node="' + esc(m.id) + '"><circle cx="' + x + '" cy="' + y + '" r="16" fill="' + (color[m.status] || '#8593a3') + '" stroke="' + (m.id === s.node ? '#fff' : 'none') + '" stroke-width="2"/>' +
      '<text x="' + x + '" y="' + (y + 32) + '" fill="#d8dee6" font-size="12" text-anchor="middle">' + esc(m.id) + '</text></g>'
  }
  svg.innerHTML = out
}

function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live')
  ws.onopen = () => { $('conn').textContent = 'live'; $('conn').className = '' }
  ws.onmessage = (e) => render(JSON.parse(e.data))
  ws.onclose = () => { $('conn').textContent = 'disconnected, retrying…'; $('conn').className = 'muted'; setTimeout(connect, 1000) }
}
connect()
</script>
</body>
</html>
`
