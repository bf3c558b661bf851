/// The operators' dashboard (`/admin`): plain HTML, CSS and JavaScript served from the binary.
enum AdminPage {
    static let style = #"""
        :root { --bg: #0f1115; --panel: #161a21; --panel2: #1c212a; --line: #2a303b; --text: #e6e8ec; --muted: #8b93a1;
          --accent: #d4af37; --err: #ff5d5d; --ok: #3ecf8e; --blue: #5aa9ff; --warn: #f0b429;
          --mono: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace; }
        * { box-sizing: border-box; }
        html, body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
        .mono { font-family: var(--mono); font-size: 12.5px; }
        .muted { color: var(--muted); }
        .bar { display: flex; align-items: center; gap: 16px; height: 52px; padding: 0 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; font-size: 16px; } .logo { color: var(--accent); margin-right: 4px; }
        .spacer { flex: 1; }
        .btn { background: var(--panel2); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; font: inherit; cursor: pointer; }
        .btn:hover { border-color: #3d4655; } .btn:disabled { opacity: .4; cursor: default; }
        .btn.primary { background: var(--accent); border-color: var(--accent); color: #1b1505; font-weight: 600; }
        .btn.danger { color: var(--err); border-color: #5a2a2a; }
        select, input { background: var(--panel2); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; font: inherit; }
        main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: 1fr 420px; align-items: start; }
        .cards { grid-column: 1 / -1; display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
        .stat .n { font-size: 28px; font-weight: 700; } .stat .l { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .08em; }
        .stat.pending .n { color: var(--blue); } .stat.processing .n { color: var(--warn); } .stat.completed .n { color: var(--ok); }
        .stat.failed .n { color: var(--err); } .stat.cancelled .n { color: var(--muted); }
        h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 0 0 10px; display: flex; align-items: center; gap: 10px; }
        .col { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
        table { width: 100%; border-collapse: collapse; }
        th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; padding: 6px 8px; border-bottom: 1px solid var(--line); }
        td { padding: 7px 8px; border-bottom: 1px solid #20252e; vertical-align: middle; }
        tr.job { cursor: pointer; } tr.job:hover td { background: var(--panel2); } tr.job.sel td { background: #232a36; }
        .st { font-size: 12px; padding: 1px 8px; border-radius: 999px; border: 1px solid var(--line); white-space: nowrap; }
        .st.pending { color: var(--blue); } .st.processing { color: var(--warn); } .st.completed { color: var(--ok); } .st.failed { color: var(--err); } .st.cancelled { color: var(--muted); }
        .bar-wrap { height: 6px; background: #252b36; border-radius: 3px; overflow: hidden; min-width: 80px; }
        .bar-fill { height: 100%; background: linear-gradient(90deg, var(--accent), #f0cf62); }
        .empty { color: var(--muted); padding: 10px 8px; }
        .rate.hi { color: var(--err); font-weight: 600; }
        #detail { position: sticky; top: 16px; }
        #detail dl { display: grid; grid-template-columns: 120px 1fr; gap: 6px 10px; margin: 0 0 12px; }
        #detail dt { color: var(--muted); } #detail dd { margin: 0; overflow-wrap: anywhere; }
        .errbox { background: rgba(255,93,93,.08); border: 1px solid #5a2a2a; color: #ffb3b3; border-radius: 6px; padding: 8px 10px; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; margin-bottom: 12px; }
        #plan { font-family: var(--mono); font-size: 11px; line-height: 1.45; max-height: 320px; overflow: auto; background: rgba(255,255,255,.03); border: 1px solid var(--line, #2a2f3a); border-radius: 6px; padding: 8px 10px; margin: 6px 0 12px; white-space: pre; }
        .notebox { border: 1px solid var(--line, #2a2f3a); border-left: 3px solid #d8a23a; border-radius: 6px; padding: 6px 10px; margin: 10px 0; font-size: 12px; }
        .notebox ul { margin: 4px 0 0; padding-left: 18px; } .notebox li { margin: 2px 0; overflow-wrap: anywhere; }
        #plan-box summary { cursor: pointer; color: var(--muted, #9aa3b2); font-size: 12px; margin-top: 10px; }
        video { width: 100%; max-height: 340px; background: #000; border-radius: 8px; margin-bottom: 12px; }
        .actions { display: flex; gap: 8px; }
        .login { max-width: 360px; margin: 12vh auto; }
        .login h1 { font-size: 20px; margin: 0 0 6px; } .login form { display: flex; flex-direction: column; gap: 10px; margin-top: 16px; }
        .login .error { color: var(--err); font-size: 13px; }
        .toast { position: fixed; bottom: 18px; left: 50%; transform: translateX(-50%); background: #232a36; border: 1px solid var(--line); padding: 8px 14px; border-radius: 6px; opacity: 0; transition: opacity .2s; }
        .toast.show { opacity: 1; }
        """#

    static func login(error: String?) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>rendc admin: sign in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>\(style)</style></head>
        <body><div class="card login">
        <div class="brand"><span class="logo">▶</span> rendc <span class="muted">admin</span></div>
        <h1>Sign in</h1><p class="muted">Paste the deployment's admin token (RENDC_ADMIN_TOKEN).</p>
        \(error.map { "<div class=\"error\" id=\"login-error\">\($0)</div>" } ?? "")
        <form method="post" action="/admin/login">
        <input type="password" name="token" id="token" placeholder="admin token" autocomplete="current-password" required autofocus>
        <button class="btn primary" type="submit" id="sign-in">Sign in</button>
        </form></div></body></html>
        """
    }

    static let dashboard = #"""
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>rendc admin</title>
        <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>\#(style)</style></head>
        <body>
        <header class="bar">
          <div class="brand"><span class="logo">▶</span> rendc <span class="muted">admin · jobs</span></div>
          <div class="spacer"></div>
          <span class="muted" id="updated">…</span>
          <form method="post" action="/admin/logout"><button class="btn">Sign out</button></form>
        </header>
        <main>
          <div class="cards" id="cards"></div>
          <div class="col">
            <div class="card"><h2>Running <span class="muted" id="running-count"></span></h2>
              <table><thead><tr><th>Job</th><th>Tenant</th><th>Progress</th><th>Worker</th><th>Heartbeat</th></tr></thead><tbody id="running"></tbody></table></div>
            <div class="card"><h2>Tenants</h2>
              <table><thead><tr><th>Tenant</th><th>Jobs</th><th>Pending</th><th>Running</th><th>Done</th><th>Failed</th><th>Failure rate</th></tr></thead><tbody id="tenants"></tbody></table></div>
            <div class="card"><h2>Recent jobs
              <select id="filter"><option value="">all</option><option>pending</option><option>processing</option><option>completed</option><option>failed</option><option>cancelled</option></select></h2>
              <table><thead><tr><th>Job</th><th>Tenant</th><th>Status</th><th>Template</th><th>Attempts</th><th>Created</th></tr></thead><tbody id="recent"></tbody></table></div>
          </div>
          <div class="card" id="detail"><h2>Job</h2><div class="empty">Select a job to see its inputs, attempts, errors and output.</div></div>
        </main>
        <div class="toast" id="toast"></div>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        const esc = (s) => String(s == null ? "" : s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
        const short = (id) => id.slice(0, 8);
        let selected = null;
        function ago(iso) { if (!iso) return "—"; const s = Math.round((Date.now() - Date.parse(iso)) / 1000); return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : new Date(iso).toLocaleString(); }
        function toast(t) { const e = $("toast"); e.textContent = t; e.classList.add("show"); setTimeout(() => e.classList.remove("show"), 2500); }
        async function get(url) { const r = await fetch(url, { credentials: "same-origin" }); if (r.status === 401) { location.href = "/admin/login"; throw new Error("signed out"); } return r.json(); }
        async function refresh() {
          const o = await get("/admin/api/overview?status=" + encodeURIComponent($("filter").value));
          $("cards").innerHTML = ["pending", "processing", "completed", "failed", "cancelled"].map((s) =>
            `<div class="card stat ${s}" data-status="${s}"><div class="n">${o.counts[s] || 0}</div><div class="l">${s}</div></div>`).join("");
          $("running-count").textContent = o.running.length ? String(o.running.length) : "";
          $("running").innerHTML = o.running.length ? o.running.map((j) => `<tr class="job" data-job-id="${j.id}"><td class="mono">${short(j.id)}</td><td>${esc(j.tenantName)}</td>
            <td><div class="bar-wrap"><div class="bar-fill" style="width:${j.progress}%"></div></div><span class="muted">${j.progress}%</span></td>
            <td class="mono">${esc(j.leaseOwner)}</td><td class="muted">${ago(j.heartbeatAt)}</td></tr>`).join("") : `<tr><td colspan="5" class="empty">No job is running.</td></tr>`;
          $("tenants").innerHTML = o.tenants.map((t) => `<tr data-tenant-id="${t.id}"><td>${esc(t.name)}</td><td>${t.total}</td><td>${t.counts.pending || 0}</td><td>${t.counts.processing || 0}</td>
            <td>${t.counts.completed || 0}</td><td>${t.counts.failed || 0}</td><td class="rate ${t.failureRate > 0.2 ? "hi" : ""}">${(100 * t.failureRate).toFixed(1)}%</td></tr>`).join("") || `<tr><td colspan="7" class="empty">No tenants.</td></tr>`;
          $("recent").innerHTML = o.recent.map((j) => `<tr class="job ${j.id === selected ? "sel" : ""}" data-job-id="${j.id}"><td class="mono">${short(j.id)}</td><td>${esc(j.tenantName)}</td>
            <td><span class="st ${j.status}">${j.status}${j.cancelRequested && j.status === "processing" ? " · cancelling" : ""}</span></td><td>${esc(j.overlayType)} · ${esc(j.qualityMode)}</td>
            <td>${j.attempts}/${j.maxAttempts}</td><td class="muted">${ago(j.createdAt)}</td></tr>`).join("") || `<tr><td colspan="6" class="empty">No jobs.</td></tr>`;
          document.querySelectorAll("tr.job").forEach((tr) => tr.addEventListener("click", () => show(tr.dataset.jobId)));
          $("updated").textContent = "updated " + new Date().toLocaleTimeString();
        }
        async function show(id) {
          selected = id;
          document.querySelectorAll("tr.job").forEach((tr) => tr.classList.toggle("sel", tr.dataset.jobId === id));
          const j = await get("/admin/api/jobs/" + id);
          const d = $("detail"); d.dataset.jobId = j.id;
          const rows = [["Id", `<span class="mono">${j.id}</span>`], ["Tenant", `${esc(j.tenantName)} <span class="muted mono">${short(j.tenantId)}</span>`],
            ["Status", `<span class="st ${j.status}">${j.status}</span> ${j.status === "processing" ? j.progress + "%" : ""}`],
            ["Template", `${esc(j.overlayType)} · ${esc(j.qualityMode)}${j.durationTarget ? " · " + j.durationTarget + " s" : ""}`],
            ["Caption", esc(j.textOverlay) || "<span class=muted>none</span>"], ["Images", j.imageIds.map((i) => `<span class="mono">${short(i)}</span>`).join(", ")],
            ["Audio", j.audioFile ? `<span class="mono">${esc(short(j.audioFile))}</span>` : "<span class=muted>none</span>"],
            ["Voice-over", j.voiceFile ? `<span class="mono">${esc(short(j.voiceFile))}</span>` : "<span class=muted>none</span>"],
            ["Loudness", j.loudness ? esc(j.loudness) : "<span class=muted>—</span>"],
            ["Attempts", `${j.attempts} of ${j.maxAttempts}`], ["Worker", j.leaseOwner ? `<span class="mono">${esc(j.leaseOwner)}</span>` + (j.status === "processing" ? ` · heartbeat ${ago(j.heartbeatAt)}` : "") : "—"],
            ["Created", ago(j.createdAt)], ["Started", ago(j.startedAt)], ["Finished", ago(j.completedAt)],
            ["Took", j.processingTimeMs != null ? (j.processingTimeMs / 1000).toFixed(1) + " s" : "—"], ["Callback", esc(j.callbackHost) || "—"]];
          d.innerHTML = `<h2>Job <span class="mono muted">${short(j.id)}</span></h2><dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>` +
            (j.lastError ? `<div class="errbox" id="last-error">${esc(j.lastError)}</div>` : "") +
            (j.notes && j.notes.length ? `<div class="notebox"><div class="muted">What the render changed (the store sees these too)</div><ul id="notes">${j.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul></div>` : "") +
            (j.outputVideoUrl ? `<video id="output" controls muted playsinline preload="auto" src="${esc(j.outputVideoUrl)}"${j.outputThumbnailUrl ? ` poster="${esc(j.outputThumbnailUrl)}"` : ""}></video>` : "") +
            (j.plan ? `<details id="plan-box" open><summary>Plan (as rendered)</summary><pre id="plan">${esc(j.plan)}</pre></details>` : "") +
            `<div class="actions"><button class="btn" id="retry" ${["failed", "cancelled"].includes(j.status) ? "" : "disabled"}>Retry</button>
             <button class="btn danger" id="cancel" ${["pending", "processing"].includes(j.status) && !j.cancelRequested ? "" : "disabled"}>Cancel</button></div>`;
          $("retry").addEventListener("click", () => act(j.id, "retry"));
          $("cancel").addEventListener("click", () => act(j.id, "cancel"));
        }
        async function act(id, what) {
          const r = await fetch(`/admin/api/jobs/${id}/${what}`, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" } });
          const body = await r.json().catch(() => ({}));
          toast(r.ok ? body.message : (body.error && body.error.message) || "failed");
          await refresh(); await show(id);
        }
        $("filter").addEventListener("change", refresh);
        refresh(); setInterval(() => { refresh().catch(() => {}); }, 3000);
        </script>
        </body></html>
        """#
}
