/// The studio's one page: plain HTML, CSS and JavaScript served from the binary (no build step, no CDN).
enum StudioPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>rendc studio</title>
        <link rel="stylesheet" href="/studio.css">
        </head>
        <body>
        <header class="bar">
          <div class="brand"><span class="logo">▶</span> rendc <span class="muted">studio</span></div>
          <label class="field-inline">Template
            <select id="template-select" aria-label="Template"></select>
          </label>
          <span id="file-state" class="pill">…</span>
          <div class="spacer"></div>
          <button id="new-button" class="btn">New from this…</button>
          <button id="save-button" class="btn primary">Save</button>
        </header>

        <main class="layout">
          <section class="pane editor-pane">
            <div class="pane-head">
              <span id="file-name" class="mono">—</span>
              <span id="lint-state" class="badge">…</span>
            </div>
            <div class="editor" id="editor">
              <div class="gutter" id="gutter" aria-hidden="true"></div>
              <div class="code">
                <div class="backdrop" id="backdrop" aria-hidden="true"></div>
                <textarea id="source" spellcheck="false" wrap="off" autocomplete="off" autocapitalize="off" aria-label="Template YAML"></textarea>
              </div>
            </div>
            <div class="problems">
              <div class="section-title">Problems <span id="problem-count" class="count">0</span></div>
              <ul id="problems"></ul>
            </div>
          </section>

          <section class="pane preview-pane">
            <div class="stage-wrap">
              <div class="stage" id="stage">
                <img id="still" alt="Preview still">
                <div class="box caption-box" id="caption-box" title="caption box"></div>
                <div class="stage-empty" id="stage-empty">Rendering preview…</div>
                <div class="stale" id="stale">last version that lints clean</div>
              </div>
            </div>
            <div class="scrub">
              <input type="range" id="scrubber" min="0" max="30" step="0.1" value="1" aria-label="Time">
              <span id="time-label" class="mono">1.0 s</span>
            </div>
            <canvas id="timeline" height="96" aria-label="Plan timeline"></canvas>
            <div class="plan-meta" id="plan-meta"></div>
          </section>

          <aside class="pane side-pane">
            <div class="card">
              <div class="section-title">Inputs</div>
              <div class="drop" id="drop">
                <strong>Drop pictures or a music track</strong>
                <span class="muted">or <a href="#" id="pick">choose files</a> · JPEG, PNG, WebP, MP3, WAV…</span>
                <input type="file" id="file-input" multiple accept="image/*,audio/*" hidden>
              </div>
              <ul id="input-list" class="chips"></ul>
              <button id="reset-inputs" class="btn small ghost">Use built-in samples</button>
              <label class="stack">Caption
                <input id="caption" type="text" value="✨ Test Video" maxlength="500">
              </label>
            </div>
            <div class="card">
              <div class="section-title">Merge fields</div>
              <form id="fields-form" class="fields"></form>
            </div>
            <div class="card">
              <div class="section-title">Eco preview</div>
              <button id="video-button" class="btn primary wide">Render eco preview</button>
              <div class="progress" id="video-progress"><div class="progress-bar" id="video-bar"></div></div>
              <div id="video-state" class="muted small-text">A few seconds at 720×1280, with the sample inputs.</div>
              <video id="video" controls muted playsinline loop></video>
            </div>
          </aside>
        </main>

        <dialog id="new-dialog">
          <form method="dialog" id="new-form">
            <h3>New template</h3>
            <p class="muted">A copy of <span id="new-source" class="mono"></span> in your templates folder.</p>
            <label class="stack">Name <input id="new-name" pattern="[a-z0-9][a-z0-9\-]{0,49}" placeholder="my-look" required></label>
            <div id="new-error" class="error-text"></div>
            <div class="dialog-actions">
              <button value="cancel" formnovalidate class="btn ghost">Cancel</button>
              <button id="new-create" value="create" class="btn primary">Create</button>
            </div>
          </form>
        </dialog>
        <div id="toast" class="toast"></div>
        <script src="/studio.js"></script>
        </body>
        </html>
        """#

    static let css = #"""
        :root {
          --bg: #0f1115; --panel: #161a21; --panel2: #1c212a; --line: #2a303b; --text: #e6e8ec; --muted: #8b93a1;
          --accent: #d4af37; --accent2: #f0cf62; --err: #ff5d5d; --ok: #3ecf8e; --blue: #5aa9ff;
          --mono: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace;
        }
        * { box-sizing: border-box; }
        html, body { margin: 0; height: 100%; background: var(--bg); color: var(--text);
          font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
        .mono { font-family: var(--mono); }
        .muted { color: var(--muted); }
        .bar { display: flex; align-items: center; gap: 16px; height: 52px; padding: 0 18px; background: var(--panel);
          border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; font-size: 16px; letter-spacing: .2px; }
        .logo { color: var(--accent); margin-right: 4px; }
        .spacer { flex: 1; }
        .field-inline { display: flex; align-items: center; gap: 8px; color: var(--muted); }
        select, input[type=text], input:not([type]) { background: var(--panel2); color: var(--text); border: 1px solid var(--line);
          border-radius: 6px; padding: 6px 8px; font: inherit; }
        select:focus, input:focus { outline: 2px solid #3b4a63; }
        .btn { background: var(--panel2); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 7px 14px;
          font: inherit; cursor: pointer; }
        .btn:hover { border-color: #3d4655; }
        .btn.primary { background: var(--accent); color: #1b1505; border-color: var(--accent); font-weight: 600; }
        .btn.primary:hover { background: var(--accent2); }
        .btn:disabled { opacity: .45; cursor: default; }
        .btn.small { padding: 4px 10px; font-size: 12px; }
        .btn.ghost { background: transparent; }
        .btn.wide { width: 100%; }
        .pill { font-size: 12px; padding: 3px 9px; border-radius: 999px; background: var(--panel2); border: 1px solid var(--line); color: var(--muted); }
        .pill.dirty { color: var(--accent2); border-color: #5a4a1a; }
        .pill.ro { color: var(--blue); border-color: #23405f; }
        .layout { display: grid; grid-template-columns: minmax(420px, 1.15fr) minmax(360px, 1fr) 300px; gap: 12px; padding: 12px;
          height: calc(100% - 52px); }
        .pane { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; min-height: 0; display: flex; flex-direction: column; }
        .pane-head { display: flex; justify-content: space-between; align-items: center; padding: 8px 12px; border-bottom: 1px solid var(--line); }
        .badge { font-size: 12px; padding: 2px 8px; border-radius: 4px; background: var(--panel2); color: var(--muted); }
        .badge.ok { color: var(--ok); }
        .badge.err { color: var(--err); }
        .editor { flex: 1; display: flex; min-height: 0; overflow: hidden; font: 13px/20px var(--mono); }
        .gutter { width: 48px; padding: 10px 0; text-align: right; color: #566070; background: #13161c; border-right: 1px solid var(--line);
          overflow: hidden; user-select: none; }
        .gutter div { height: 20px; padding-right: 10px; position: relative; }
        .gutter div.err { color: var(--err); font-weight: 700; }
        .gutter div.err::before { content: ""; position: absolute; left: 6px; top: 6px; width: 8px; height: 8px; border-radius: 50%; background: var(--err); }
        .code { position: relative; flex: 1; min-width: 0; }
        .backdrop, #source { position: absolute; inset: 0; margin: 0; padding: 10px 12px; font: inherit; white-space: pre; tab-size: 2;
          overflow: auto; border: 0; }
        .backdrop { color: transparent; pointer-events: none; overflow: hidden; }
        .backdrop .line { height: 20px; }
        .backdrop .line.err { background: rgba(255, 93, 93, .10); }
        .backdrop .squiggle { text-decoration: underline wavy var(--err); text-decoration-skip-ink: none; text-underline-offset: 3px; }
        .backdrop .inline-msg { color: var(--err); font-family: system-ui, sans-serif; font-size: 12px; margin-left: 18px; opacity: .95; }
        #source { background: transparent; color: #dfe3ea; caret-color: var(--accent2); resize: none; outline: none; }
        #source[readonly] { color: #c9ced8; }
        .problems { border-top: 1px solid var(--line); max-height: 26%; overflow: auto; padding: 8px 0; }
        .section-title { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); padding: 0 12px 6px; font-weight: 600; }
        .card .section-title { padding: 0 0 8px; }
        .count { background: var(--panel2); border-radius: 8px; padding: 0 6px; margin-left: 4px; }
        #problems { list-style: none; margin: 0; padding: 0; }
        #problems li { padding: 5px 12px; cursor: pointer; display: flex; gap: 10px; font-size: 13px; }
        #problems li:hover { background: var(--panel2); }
        #problems li .pos { font-family: var(--mono); color: var(--err); white-space: nowrap; }
        #problems li.info .pos { color: var(--muted); }
        #problems .empty { color: var(--muted); cursor: default; }
        .preview-pane { padding: 12px; gap: 10px; }
        .stage-wrap { flex: 1; min-height: 0; display: flex; justify-content: center; align-items: center; }
        .stage { position: relative; height: 100%; aspect-ratio: 9 / 16; max-width: 100%; background: #050505; border-radius: 8px; overflow: hidden;
          box-shadow: 0 0 0 1px var(--line), 0 10px 30px rgba(0,0,0,.4); }
        .stage img { width: 100%; height: 100%; object-fit: contain; display: block; }
        .stage-empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 13px; }
        .stage-empty.hidden { display: none; }
        .stale { position: absolute; left: 50%; bottom: 10px; transform: translateX(-50%); background: rgba(20,22,28,.85); color: var(--err);
          border: 1px solid #5a2a2a; font-size: 12px; padding: 3px 10px; border-radius: 999px; display: none; white-space: nowrap; }
        body[data-lint="error"] .stale { display: block; }
        .box { position: absolute; border: 1px dashed rgba(90, 169, 255, .9); pointer-events: none; display: none; }
        .scrub { display: flex; align-items: center; gap: 10px; }
        .scrub input { flex: 1; accent-color: var(--accent); }
        #timeline { width: 100%; height: 96px; background: #12151b; border: 1px solid var(--line); border-radius: 6px; }
        .plan-meta { font-size: 12px; color: var(--muted); min-height: 18px; }
        .plan-meta b { color: var(--text); font-weight: 600; }
        .side-pane { padding: 12px; gap: 12px; overflow: auto; }
        .card { background: var(--panel2); border: 1px solid var(--line); border-radius: 8px; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
        .drop { border: 1.5px dashed #3a4250; border-radius: 8px; padding: 14px; text-align: center; display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
        .drop.over { border-color: var(--accent); background: rgba(212, 175, 55, .07); }
        .drop a { color: var(--accent2); }
        .chips { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
        .chips li { font-size: 12px; background: #252b36; border-radius: 4px; padding: 2px 8px; }
        .stack { display: flex; flex-direction: column; gap: 4px; color: var(--muted); font-size: 12px; }
        .fields { display: flex; flex-direction: column; gap: 8px; font-size: 13px; }
        .progress { height: 6px; background: #252b36; border-radius: 3px; overflow: hidden; }
        .progress-bar { height: 100%; width: 0; background: linear-gradient(90deg, var(--accent), var(--accent2)); transition: width .2s; }
        .small-text { font-size: 12px; }
        video { width: 100%; border-radius: 6px; background: #000; display: none; max-height: 360px; }
        video.ready { display: block; }
        dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 10px; padding: 18px; width: 360px; }
        dialog::backdrop { background: rgba(0,0,0,.5); }
        dialog h3 { margin: 0 0 6px; }
        .dialog-actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 14px; }
        .error-text { color: var(--err); font-size: 12px; min-height: 16px; }
        .toast { position: fixed; bottom: 18px; left: 50%; transform: translateX(-50%); background: #232a36; border: 1px solid var(--line);
          padding: 8px 14px; border-radius: 6px; opacity: 0; transition: opacity .2s; pointer-events: none; }
        .toast.show { opacity: 1; }
        """#

    static let js = #"""
        "use strict";
        const $ = (id) => document.getElementById(id);
        const state = { id: null, file: "template.yaml", editable: false, saved: "", diagnostics: [], plan: null, lintOk: false,
          lintSeq: 0, previewBusy: false, previewAgain: false, stillSeq: 0, fields: [], typedFields: Object.create(null) };
        const source = $("source"), backdrop = $("backdrop"), gutter = $("gutter");

        async function api(method, url, body) {
          const init = { method, headers: { "X-Rendc-Studio": "1" } };
          if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
          const res = await fetch(url, init);
          let data = null;
          try { data = await res.json(); } catch (e) { data = null; }
          return { status: res.status, ok: res.ok, data };
        }

        function toast(text) {
          const t = $("toast"); t.textContent = text; t.classList.add("show");
          clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.remove("show"), 2600);
        }

        function escapeHTML(s) { return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }

        // ---- editor: gutter, inline diagnostics ----
        function renderEditor() {
          const lines = source.value.split("\n");
          const byLine = new Map();
          for (const d of state.diagnostics) if (d.line > 0) { if (!byLine.has(d.line)) byLine.set(d.line, []); byLine.get(d.line).push(d); }
          let g = "", b = "";
          lines.forEach((text, i) => {
            const n = i + 1, ds = byLine.get(n);
            g += ds ? `<div class="err" data-line="${n}" title="${escapeHTML(ds[0].message)}">${n}</div>` : `<div>${n}</div>`;
            if (!ds) { b += `<div class="line">${escapeHTML(text) || " "}</div>`; return; }
            const col = Math.max(1, Math.min(ds[0].column || 1, text.length + 1)) - 1;
            let end = col;
            while (end < text.length && !/[\s:,\]}]/.test(text[end])) end++;
            if (end === col) end = Math.min(text.length, col + 1);
            const msg = ds.map((d) => d.message).join(" · ");
            b += `<div class="line err" data-line="${n}">${escapeHTML(text.slice(0, col))}<span class="squiggle">${escapeHTML(text.slice(col, end)) || " "}</span>${escapeHTML(text.slice(end))}<span class="inline-msg">${escapeHTML(msg)}</span></div>`;
          });
          gutter.innerHTML = g; backdrop.innerHTML = b; syncScroll();
        }
        function syncScroll() { backdrop.scrollTop = source.scrollTop; backdrop.scrollLeft = source.scrollLeft; gutter.scrollTop = source.scrollTop; }
        source.addEventListener("scroll", syncScroll);

        function renderProblems(extra) {
          const list = $("problems"); list.innerHTML = "";
          const items = state.diagnostics.slice();
          $("problem-count").textContent = items.length + (extra ? 1 : 0);
          if (!items.length && !extra) { list.innerHTML = `<li class="empty">No problems: the template lints clean.</li>`; }
          for (const d of items) {
            const li = document.createElement("li");
            li.dataset.line = d.line; li.dataset.col = d.column;
            li.innerHTML = `<span class="pos">${state.file}:${d.line}:${d.column}</span><span>${escapeHTML(d.field ? d.field + ": " + d.message : d.message)}</span>`;
            li.addEventListener("click", () => jumpTo(d.line, d.column));
            list.appendChild(li);
          }
          if (extra) {
            const li = document.createElement("li"); li.className = "info";
            li.innerHTML = `<span class="pos">render</span><span>${escapeHTML(extra)}</span>`; list.appendChild(li);
          }
          const badge = $("lint-state");
          badge.className = "badge " + (items.length ? "err" : "ok");
          badge.textContent = items.length ? `${items.length} problem${items.length > 1 ? "s" : ""}` : "✓ lints clean";
        }

        function jumpTo(line, col) {
          const lines = source.value.split("\n");
          let offset = 0;
          for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
          offset += Math.max(0, (col || 1) - 1);
          source.focus();
          source.setSelectionRange(offset, offset);
          source.scrollTop = Math.max(0, (line - 5) * 20);
          syncScroll();
        }

        let lintTimer = null;
        source.addEventListener("input", () => {
          renderEditor(); updateFileState();
          clearTimeout(lintTimer); lintTimer = setTimeout(lint, 120);
        });
        source.addEventListener("keydown", (e) => {
          if (e.key === "Tab") { e.preventDefault(); document.execCommand("insertText", false, "  "); }
          // Enter keeps the line's indentation (a new key lines up with the one above; trial15c: a new line at column 1
          // was the designer's indentation mistake).
          if (e.key === "Enter" && !e.isComposing && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
            const before = source.value.slice(0, source.selectionStart);
            const line = before.slice(before.lastIndexOf("\n") + 1);
            const indent = (line.match(/^ */) || [""])[0];
            if (indent) { e.preventDefault(); document.execCommand("insertText", false, "\n" + indent); }
          }
          if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
        });

        async function lint() {
          const seq = ++state.lintSeq;
          const r = await api("POST", "/api/lint", { yaml: source.value, file: state.file });
          if (seq !== state.lintSeq || !r.data) return;
          state.diagnostics = r.data.diagnostics || []; state.lintOk = r.data.ok;
          renderEditor(); renderProblems(); renderFields(r.data.fields || [], r.data.ok);
          // The template's own caption until the designer types one (a banner's "FLASH SALE", not the sample).
          if (r.data.ok && !state.captionEdited) $("caption").value = r.data.captionDefault || "✨ Test Video";
          document.body.dataset.lint = r.data.ok ? "ok" : "error";
          if (r.data.ok) schedulePreview();
        }

        // ---- preview ----
        function schedulePreview() {
          if (state.previewBusy) { state.previewAgain = true; return; }
          preview();
        }
        async function preview() {
          state.previewBusy = true; state.previewAgain = false;
          const at = parseFloat($("scrubber").value);
          try {
            const r = await api("POST", "/api/preview", { yaml: source.value, file: state.file, at, text: $("caption").value, fields: fieldValues() });
            if (r.data && r.data.ok && r.data.still) {
              await loadStill(r.data.still);
              state.plan = r.data.plan; renderPlan(); renderProblems();
            } else if (r.data && r.data.ok && r.data.error) {
              renderProblems(r.data.error);
            }
          } catch (e) { toast("Preview failed: " + e.message); }
          state.previewBusy = false;
          if (state.previewAgain) preview();
        }
        function loadStill(url) {
          return new Promise((resolve) => {
            const img = new Image();
            img.onload = () => {
              const still = $("still"); still.src = url;
              still.dataset.seq = String(++state.stillSeq);
              document.body.dataset.stillSeq = String(state.stillSeq);
              $("stage-empty").classList.add("hidden"); resolve();
            };
            img.onerror = () => resolve();
            img.src = url;
          });
        }

        $("scrubber").addEventListener("input", () => { $("time-label").textContent = parseFloat($("scrubber").value).toFixed(1) + " s"; drawTimeline(); });
        $("scrubber").addEventListener("change", () => { if (state.lintOk) schedulePreview(); });
        $("caption").addEventListener("input", () => { state.captionEdited = true; });
        $("caption").addEventListener("change", () => { if (state.lintOk) schedulePreview(); });

        function renderPlan() {
          const p = state.plan; if (!p) return;
          const s = $("scrubber");
          s.max = String(Math.max(0.1, p.duration - 1 / p.fps).toFixed(2));
          const cap = $("caption-box");
          if (p.caption) {
            cap.style.display = "block";
            cap.style.left = (100 * p.caption.x / p.width) + "%"; cap.style.top = (100 * p.caption.y / p.height) + "%";
            cap.style.width = (100 * p.caption.width / p.width) + "%"; cap.style.height = (100 * p.caption.height / p.height) + "%";
          } else cap.style.display = "none";
          const notes = (p.notes || []).map(escapeHTML).join(" · ");
          $("plan-meta").innerHTML = `<b>${p.duration.toFixed(1)} s</b> · ${p.width}×${p.height} @ ${p.fps} fps · <b>${p.shots.length}</b> shots · cuts: ${escapeHTML(p.cutSource)}` +
            (p.caption ? ` · caption box ${p.caption.width}×${p.caption.height} at ${p.caption.x},${p.caption.y}` : "") + (notes ? `<br>${notes}` : "");
          drawTimeline();
        }

        function drawTimeline() {
          const c = $("timeline"), ctx = c.getContext("2d");
          const dpr = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
          c.width = w * dpr; c.height = h * dpr; ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
          ctx.clearRect(0, 0, w, h);
          const p = state.plan; if (!p) return;
          const pad = 10, x = (t) => pad + (w - 2 * pad) * t / p.duration;
          const colors = ["#d4af37", "#5aa9ff", "#3ecf8e", "#c678dd", "#ff8a5b", "#56d4dd"];
          ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "middle";
          // beat grid
          if (p.tempo) {
            const period = 60 / p.tempo, first = (p.shots.find((s) => s.beat != null) || { beat: 0 }).beat % period;
            ctx.strokeStyle = "rgba(255,255,255,.22)"; ctx.lineWidth = 1;
            for (let t = first; t <= p.duration; t += period) { ctx.beginPath(); ctx.moveTo(x(t) + .5, 18); ctx.lineTo(x(t) + .5, 62); ctx.stroke(); }
          }
          // shots
          p.shots.forEach((s) => {
            ctx.fillStyle = colors[s.image % colors.length] + "cc";
            ctx.fillRect(x(s.start) + 1, 22, Math.max(1, x(s.end) - x(s.start) - 2), 24);
            if (x(s.end) - x(s.start) > 22) { ctx.fillStyle = "#111"; ctx.fillText(String(s.image + 1), x(s.start) + 6, 34); }
            // A marker at each cut (the first shot's start is not one: trial15c read its grey as a fallback cut).
            if (s.start > 0) {
              ctx.fillStyle = s.beat != null ? "#f0cf62" : "#8b93a1";
              ctx.beginPath(); ctx.moveTo(x(s.start), 16); ctx.lineTo(x(s.start) - 4, 10); ctx.lineTo(x(s.start) + 4, 10); ctx.fill();
            }
          });
          // caption track
          if (p.caption) { ctx.fillStyle = "rgba(90,169,255,.35)"; ctx.fillRect(x(0), 52, x(p.duration) - x(0), 10);
            ctx.fillStyle = "#9cc8ff"; ctx.fillText("caption", x(0) + 4, 57); }
          // time axis
          ctx.fillStyle = "#6b7380";
          const step = p.duration > 20 ? 5 : p.duration > 8 ? 2 : 1;
          for (let t = 0; t <= p.duration + 1e-6; t += step) ctx.fillText(t + "s", x(t) - 6, 80);
          // playhead
          const at = parseFloat($("scrubber").value);
          ctx.strokeStyle = "#ff5d5d"; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(x(at), 4); ctx.lineTo(x(at), 70); ctx.stroke();
        }
        window.addEventListener("resize", drawTimeline);
        $("timeline").addEventListener("click", (e) => {
          if (!state.plan) return;
          const r = e.target.getBoundingClientRect(), t = (e.clientX - r.left - 10) / (r.width - 20) * state.plan.duration;
          const s = $("scrubber"); s.value = Math.max(0, Math.min(parseFloat(s.max), t)).toFixed(1);
          s.dispatchEvent(new Event("input")); s.dispatchEvent(new Event("change"));
        });

        // ---- merge fields (templates v2) ----
        function fieldValues() {
          const values = {};
          for (const input of $("fields-form").querySelectorAll("input")) { if (input.value !== "") values[input.name] = input.value; }
          return values;
        }
        // A value the designer typed stays for that field name across edits and re-lints (each lint rebuilds the form;
        // trial15c: a typed price went back to the default at the next keystroke in the YAML). A draft that does not
        // lint keeps the last form as it is.
        function renderFields(fields, ok) {
          if (!ok) return;
          state.fields = fields;
          const form = $("fields-form"); form.innerHTML = "";
          if (!fields.length) { form.innerHTML = `<div class="muted small-text">This template has no merge fields.</div>`; return; }
          for (const f of fields) {
            const label = document.createElement("label"); label.className = "stack"; label.textContent = f.label || f.name;
            const input = document.createElement("input"); input.name = f.name;
            input.value = f.name in state.typedFields ? state.typedFields[f.name] : f.defaultValue || "";
            input.addEventListener("change", () => { state.typedFields[f.name] = input.value; if (state.lintOk) schedulePreview(); });
            label.appendChild(input); form.appendChild(label);
          }
        }

        // ---- templates, saving ----
        async function loadTemplates(selectId) {
          const r = await api("GET", "/api/templates");
          const sel = $("template-select"); sel.innerHTML = "";
          const groups = { local: "Your templates", builtin: "Built-in (read-only)" };
          for (const kind of ["local", "builtin"]) {
            const items = r.data.templates.filter((t) => t.id.startsWith(kind + ":"));
            if (!items.length) continue;
            const og = document.createElement("optgroup"); og.label = groups[kind];
            for (const t of items) { const o = document.createElement("option"); o.value = t.id; o.textContent = t.file; og.appendChild(o); }
            sel.appendChild(og);
          }
          state.writable = r.data.writable;
          // The template open before a reload, while it exists; else golden-frame.
          let last = null;
          try { last = localStorage.getItem("rendc-studio-template"); } catch (e) {}
          const remembered = r.data.templates.find((t) => t.id === last);
          const want = selectId || (remembered || r.data.templates.find((t) => t.id === "builtin:golden-frame.yaml") || r.data.templates[0] || {}).id;
          if (want) { sel.value = want; await openTemplate(want); }
        }
        $("template-select").addEventListener("change", (e) => {
          if (isDirty() && !confirm("Discard unsaved changes?")) { e.target.value = state.id; return; }
          openTemplate(e.target.value);
        });
        async function openTemplate(id) {
          const r = await api("GET", "/api/template?id=" + encodeURIComponent(id));
          if (!r.ok) { toast(r.data ? r.data.error : "cannot open the template"); return; }
          state.id = id; state.file = r.data.file; state.editable = r.data.editable; state.saved = r.data.yaml;
          try { localStorage.setItem("rendc-studio-template", id); } catch (e) {}
          // Another template: its own fields, from its defaults (typed values are kept while one template is edited).
          state.typedFields = Object.create(null); state.fields = []; $("fields-form").innerHTML = "";
          source.value = r.data.yaml;
          $("file-name").textContent = r.data.file;
          $("save-button").disabled = !state.editable;
          $("new-button").disabled = !state.writable;
          state.diagnostics = []; renderEditor(); updateFileState();
          await lint();
        }
        function isDirty() { return source.value !== state.saved; }
        function updateFileState() {
          const pill = $("file-state");
          if (!state.editable) { pill.className = "pill ro"; pill.textContent = isDirty() ? "read-only · edited" : "read-only"; }
          else if (isDirty()) { pill.className = "pill dirty"; pill.textContent = "unsaved"; }
          else { pill.className = "pill"; pill.textContent = "saved"; }
        }
        window.addEventListener("beforeunload", (e) => { if (state.editable && isDirty()) { e.preventDefault(); e.returnValue = ""; } });

        async function save() {
          if (!state.editable) { toast("Built-in templates are read-only: use “New from this…”"); return; }
          let force = false;
          if (state.diagnostics.length) {
            if (!confirm(`${state.file} has ${state.diagnostics.length} problem(s). Save anyway?`)) return;
            force = true;
          }
          const yaml = source.value;
          const r = await api("POST", "/api/save", { id: state.id, yaml, force });
          if (r.ok && r.data.saved) { state.saved = yaml; updateFileState(); toast("Saved " + r.data.file); document.body.dataset.saved = String(Date.now()); }
          else toast(r.data ? (r.data.error || "not saved: the template has problems") : "not saved");
        }
        $("save-button").addEventListener("click", save);

        $("new-button").addEventListener("click", () => {
          $("new-source").textContent = state.file; $("new-name").value = ""; $("new-error").textContent = "";
          $("new-dialog").showModal(); $("new-name").focus();
        });
        $("new-form").addEventListener("submit", async (e) => {
          if (e.submitter && e.submitter.value === "cancel") return;
          e.preventDefault();
          const name = $("new-name").value.trim();
          const r = await api("POST", "/api/new", { from: state.id, name });
          if (!r.ok) { $("new-error").textContent = r.data ? r.data.error : "cannot create it"; return; }
          $("new-dialog").close();
          await loadTemplates(r.data.id);
          toast("Created " + name + ".yaml");
        });

        // ---- inputs ----
        async function refreshInputs(view) {
          if (!view) view = (await api("GET", "/api/inputs")).data;
          const list = $("input-list"); list.innerHTML = "";
          if (!view.custom) { list.innerHTML = `<li>built-in samples: 3 pictures · 120 BPM track</li>`; }
          for (const name of view.images) { const li = document.createElement("li"); li.textContent = "🖼 " + name; list.appendChild(li); }
          if (view.audio) { const li = document.createElement("li"); li.textContent = "♪ " + view.audio; list.appendChild(li); }
          $("reset-inputs").style.display = view.custom ? "" : "none";
          if (!state.videoRendered) $("video-state").textContent = `A few seconds at 720×1280, with ${view.custom ? "your pictures and music" : "the sample inputs"}.`;
        }
        async function upload(files) {
          for (const f of files) {
            const kind = f.type.startsWith("audio/") ? "audio" : "image";
            const res = await fetch(`/api/inputs/${kind}?name=${encodeURIComponent(f.name)}`, { method: "POST", headers: { "X-Rendc-Studio": "1" }, body: f });
            const data = await res.json().catch(() => null);
            if (!res.ok) { toast(data ? data.error : "upload failed"); continue; }
            await refreshInputs(data);
          }
          if (state.lintOk) schedulePreview();
        }
        const drop = $("drop");
        ["dragenter", "dragover"].forEach((ev) => drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); }));
        ["dragleave", "drop"].forEach((ev) => drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
        drop.addEventListener("drop", (e) => upload([...e.dataTransfer.files]));
        $("pick").addEventListener("click", (e) => { e.preventDefault(); $("file-input").click(); });
        $("file-input").addEventListener("change", (e) => upload([...e.target.files]));
        $("reset-inputs").addEventListener("click", async () => { await refreshInputs((await api("DELETE", "/api/inputs")).data); if (state.lintOk) schedulePreview(); });

        // ---- eco preview video ----
        $("video-button").addEventListener("click", async () => {
          const btn = $("video-button"); btn.disabled = true;
          $("video-bar").style.width = "0%"; $("video-state").textContent = "Starting…";
          const r = await api("POST", "/api/video", { yaml: source.value, file: state.file, text: $("caption").value, fields: fieldValues() });
          if (!r.ok) { $("video-state").textContent = r.data ? r.data.error : "cannot render"; btn.disabled = false; return; }
          const id = r.data.id;
          const poll = async () => {
            const s = (await api("GET", "/api/video/" + id)).data;
            $("video-bar").style.width = Math.round(100 * s.progress) + "%";
            if (s.state === "running") { $("video-state").textContent = `Rendering… ${Math.round(100 * s.progress)}%`; setTimeout(poll, 300); return; }
            btn.disabled = false;
            if (s.state === "failed") { $("video-state").textContent = s.error || "the render failed"; return; }
            state.videoRendered = true;
            $("video-state").textContent = "Done: eco preview (720×1280).";
            const v = $("video"); v.src = s.url; v.classList.add("ready"); v.muted = true; v.play().catch(() => {});
          };
          poll();
        });

        loadTemplates().then(refreshInputs).catch((e) => toast("cannot load templates: " + e.message));
        """#
}
