"""`rendc studio` in a real browser: lint as you type, fixes refresh the still, the scrubber, eco preview, saving.

Usage: python3 studio_test.py --url http://127.0.0.1:PORT --templates DIR
"""
import argparse
import http.client
import json
import os
import struct
import tempfile
import zlib
from urllib.parse import urlparse

from browser import Checks, difference, fingerprint, launch, sync_playwright, watch_console

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--templates", required=True)
parser.add_argument("--screenshot")
args = parser.parse_args()
checks = Checks("studio")
SLOW = 300_000  # ms: the first still generates the built-in assets; debug builds on a busy CI machine are slow


def solid_png(path, width, height, rgb):
    """A one-colour PNG written with the standard library only."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    row = b"\x00" + bytes(rgb) * width
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def still_seq(page):
    return int(page.evaluate("document.body.dataset.stillSeq || '0'"))


def wait_new_still(page, after):
    page.wait_for_function(f"Number(document.body.dataset.stillSeq || 0) > {after}", timeout=SLOW)


def line_of(page, needle):
    """1-based number of the first editor line containing `needle`."""
    return page.evaluate("(n) => document.getElementById('source').value.split('\\n').findIndex(l => l.includes(n)) + 1", needle)


def select_line(page, line):
    page.evaluate("""(n) => { const ta = document.getElementById('source'); const lines = ta.value.split('\\n');
      let start = 0; for (let i = 0; i < n - 1; i++) start += lines[i].length + 1;
      ta.focus(); ta.setSelectionRange(start, start + lines[n - 1].length); }""", line)


def select_text(page, line, text):
    page.evaluate("""([n, t]) => { const ta = document.getElementById('source'); const lines = ta.value.split('\\n');
      let start = 0; for (let i = 0; i < n - 1; i++) start += lines[i].length + 1;
      const col = lines[n - 1].indexOf(t); ta.focus(); ta.setSelectionRange(start + col, start + col + t.length); }""", [line, text])


with sync_playwright() as p:
    browser = launch(p)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    # A loaded CI machine renders slowly; waits are for conditions, so a long ceiling costs nothing when idle.
    page.set_default_timeout(90_000)
    errors = watch_console(page)

    # 1. The page loads, shows golden-frame and its first still, with no console errors.
    page.goto(args.url)
    wait_new_still(page, 0)
    checks.check("page loads and shows a still", still_seq(page) >= 1)
    checks.check("template list has built-in templates", page.locator("#template-select option[value='builtin:golden-frame.yaml']").count() == 1)
    checks.check("lints clean on load", page.locator("#lint-state").inner_text().startswith("✓"))
    checks.check("no console errors on load", not errors, str(errors))
    checks.check("timeline has the plan's shots", page.evaluate("state.plan && state.plan.shots.length") > 0)

    # 2. Moving the scrubber to a shot of another picture (read from the page's own plan: cut times follow the
    # beats) changes the still.
    before = fingerprint(page, "#still")
    seq = still_seq(page)
    target = page.evaluate("""() => { const shots = state.plan.shots, now = parseFloat(document.getElementById('scrubber').value);
      const here = shots.find(s => s.start <= now && now < s.end) || shots[0];
      const other = shots.find(s => s.image !== here.image);
      return other ? ((other.start + other.end) / 2).toFixed(1) : null; }""")
    checks.check("the plan has a shot of another picture", target is not None, str(target))
    page.evaluate("""(t) => { const s = document.getElementById('scrubber'); s.value = t;
      s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }""", target or "5.2")
    wait_new_still(page, seq)
    moved = fingerprint(page, "#still")
    d = difference(before, moved)
    checks.check("moving the scrubber changes the still", d > 3, f"(mean pixel difference {d:.2f})")

    # 3. Typing an unknown key shows its error at that line (problems list, gutter, inline squiggle).
    line = line_of(page, 'color: "#050505"')
    select_line(page, line)
    page.keyboard.type('    colr: "#FF2200"', delay=15)
    problem = page.locator(f"#problems li[data-line='{line}']", has_text="colr")
    problem.wait_for(timeout=90_000)
    checks.check("unknown key is reported at its line", "colr" in problem.inner_text() and "color" in problem.inner_text(), problem.inner_text())
    checks.check("gutter marks the line", page.locator(f"#gutter div.err[data-line='{line}']").count() == 1)
    checks.check("inline squiggle sits on the key", page.locator(f"#backdrop .line.err[data-line='{line}'] .squiggle").inner_text() == "colr")
    # The count matches the list (a colour layer without `color` is also reported: it is required).
    count = page.locator("#problem-count").inner_text()
    checks.check("problem count shows", count == str(page.locator("#problems li").count()) and int(count) >= 1, count)
    if args.screenshot:  # for docs/studio.md: the error inline, the last good still, the timeline
        page.evaluate("document.getElementById('source').scrollTop = 200")
        page.wait_for_timeout(200)
        page.screenshot(path=args.screenshot)

    # Clicking the problem puts the caret there.
    problem.click()
    caret_line = page.evaluate("(() => { const ta = document.getElementById('source'); return ta.value.slice(0, ta.selectionStart).split('\\n').length; })()")
    checks.check("clicking a problem jumps to its line", caret_line == line, f"caret on {caret_line}")

    # 4. Fixing it clears the error and refreshes the preview: the background is now red.
    seq = still_seq(page)
    select_text(page, line, "colr")
    page.keyboard.type("color", delay=15)
    page.wait_for_function("document.body.dataset.lint === 'ok'", timeout=90_000)
    wait_new_still(page, seq)
    fixed = fingerprint(page, "#still")
    checks.check("fixing the key clears the problems", page.locator("#problems li[data-line]").count() == 0)
    checks.check("the gutter mark is gone", page.locator("#gutter div.err").count() == 0)
    d = difference(moved, fixed)
    checks.check("the fix refreshes the still (pixels changed)", d > 1, f"(mean pixel difference {d:.2f})")
    # The edge of the frame, outside the picture window, shows the background: red now.
    edge = page.evaluate("""() => { const img = document.getElementById('still'); const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight; const x = c.getContext('2d'); x.drawImage(img, 0, 0);
      const d = x.getImageData(40, Math.floor(c.height * 0.6), 1, 1).data; return [d[0], d[1], d[2]]; }""")
    checks.check("the new background colour shows", edge[0] > edge[2] + 40, f"(edge pixel {edge})")

    # 5. A dropped picture replaces the built-in samples in the preview (a green picture: the window turns green).
    picture = os.path.join(tempfile.mkdtemp(), "green-product.png")
    solid_png(picture, 300, 400, (20, 200, 60))
    seq = still_seq(page)
    page.set_input_files("#file-input", picture)
    page.locator("#input-list li", has_text="green-product.png").wait_for(timeout=90_000)
    wait_new_still(page, seq)
    centre = page.evaluate("""() => { const img = document.getElementById('still'); const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight; const x = c.getContext('2d'); x.drawImage(img, 0, 0);
      const d = x.getImageData(c.width >> 1, Math.floor(c.height * 0.6), 1, 1).data; return [d[0], d[1], d[2]]; }""")
    checks.check("a dropped picture shows in the still", centre[1] > 150 and centre[0] < 90 and centre[2] < 120, f"(centre pixel {centre})")

    # 6. An eco preview renders with a progress bar and plays in the page.
    page.click("#video-button")
    page.wait_for_function("document.getElementById('video').readyState >= 2 && document.getElementById('video').currentTime > 0", timeout=SLOW)
    checks.check("eco preview plays", page.evaluate("document.getElementById('video').readyState") >= 2)
    checks.check("progress bar reached 100%", page.evaluate("document.getElementById('video-bar').style.width") == "100%")

    # 7. New template from a shipped one, then Save writes it (and not while it has problems, unless confirmed).
    page.click("#new-button")
    page.fill("#new-name", "browser-look")
    page.click("#new-create")
    page.wait_for_function("document.getElementById('template-select').value === 'local:browser-look.yaml'", timeout=90_000)
    path = os.path.join(args.templates, "browser-look.yaml")
    checks.check("New copies a shipped template into the folder", os.path.exists(path) and "name: browser-look" in open(path).read())
    page.wait_for_function("document.body.dataset.lint === 'ok'", timeout=90_000)
    line = line_of(page, "description:")
    select_line(page, line)
    page.keyboard.type("description: Made in the browser test, with an error", delay=2)
    bad = line_of(page, "fps:")
    select_line(page, bad)
    page.keyboard.type("  fps: fast", delay=10)
    page.locator(f"#problems li[data-line='{bad}']").wait_for(timeout=90_000)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#save-button")
    page.wait_for_timeout(500)
    checks.check("Save with problems asks first (declined: file unchanged)", "with an error" not in open(path).read())
    select_line(page, bad)
    page.keyboard.type("  fps: 30", delay=10)
    page.wait_for_function("document.body.dataset.lint === 'ok'", timeout=90_000)
    page.click("#save-button")
    page.wait_for_function("!!document.body.dataset.saved", timeout=90_000)
    saved = open(path).read()
    checks.check("Save writes the file", "Made in the browser test" in saved and "fps: 30" in saved)
    checks.check("no leftovers beside the saved file", sorted(os.listdir(args.templates)) == ["browser-look.yaml"], str(os.listdir(args.templates)))

    # 7b. A template's own default caption shows in the caption box (design12: the sample replaced "FLASH SALE"),
    #     until the designer types one.
    page.evaluate("""() => { const ta = document.getElementById('source');
      ta.value = 'name: banner\\nfields:\\n  caption: { default: FLASH SALE }\\nlayers:\\n  - type: color\\n    color: \"#000000\"\\n  - type: text\\n';
      ta.dispatchEvent(new Event('input')); }""")
    page.wait_for_function("document.getElementById('caption').value === 'FLASH SALE'", timeout=90_000)
    checks.check("the template's default caption fills the caption box", page.input_value("#caption") == "FLASH SALE")
    page.fill("#caption", "Mine")
    page.evaluate("""() => { const ta = document.getElementById('source'); ta.value = ta.value.replace('FLASH SALE', 'BIG SALE');
      ta.dispatchEvent(new Event('input')); }""")
    page.wait_for_function("document.getElementById('source').value.includes('BIG SALE') && document.body.dataset.lint === 'ok'", timeout=90_000)
    page.wait_for_timeout(500)
    checks.check("a caption the designer typed is kept", page.input_value("#caption") == "Mine")

    # 7c. A merge field's typed value is kept across edits of the YAML, and while the draft does not lint
    #     (trial15c: every re-lint rebuilt the form from the defaults).
    page.evaluate("""() => { const ta = document.getElementById('source');
      ta.value = 'name: banner\\nfields:\\n  price: { type: text, default: \"$29.99\" }\\nlayers:\\n  - type: color\\n    color: \"#000000\"\\n  - type: text\\n    text: \"{{price}}\"\\n';
      ta.dispatchEvent(new Event('input')); }""")
    page.wait_for_function("document.querySelector('#fields-form input[name=price]') && document.querySelector('#fields-form input[name=price]').value === '$29.99'", timeout=90_000)
    page.fill("#fields-form input[name=price]", "$19.00")
    page.dispatch_event("#fields-form input[name=price]", "change")
    for edit in ("'#000000', '#111111'", "'#111111', 'not a colour'", "'not a colour', '#222222'"):
        page.evaluate("() => { const ta = document.getElementById('source'); ta.value = ta.value.replace(" + edit + "); ta.dispatchEvent(new Event('input')); }")
        page.wait_for_timeout(400)
        checks.check(f"a typed field value survives an edit ({edit.split(', ')[1]})",
                     page.input_value("#fields-form input[name=price]") == "$19.00", page.inner_text("#fields-form"))
    # Enter keeps the line's indentation (a new key lines up with the one above).
    line = line_of(page, "text: ")
    select_line(page, line)
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("size: 40", delay=5)
    checks.check("Enter keeps the indentation", "\n    size: 40" in page.input_value("#source"), page.input_value("#source")[-80:])

    # 8. Requests another site could make the designer's browser send are refused; the page's own are not.
    #    A picture outside the studio cannot be named by the template or by a field value.
    red = os.path.join(tempfile.mkdtemp(), "red-secret.png")
    solid_png(red, 64, 64, (230, 20, 20))
    host = urlparse(args.url)

    def request(method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        data = res.read()
        conn.close()
        return res.status, data

    status, _ = request("GET", "/api/templates", headers={"Host": f"attacker.example:{host.port}"})
    checks.check("a rebound host name is refused", status == 403, f"(status {status})")
    status, _ = request("GET", "/api/templates", headers={"Host": f"localhost:{host.port}"})
    checks.check("localhost is served", status == 200, f"(status {status})")
    before = open(path).read()
    save = json.dumps({"id": "local:browser-look.yaml", "yaml": "name: pwned\n", "force": True})
    status, _ = request("POST", "/api/save", save, {"Content-Type": "text/plain"})
    checks.check("a cross-site form post is refused", status == 403 and open(path).read() == before, f"(status {status})")
    status, _ = request("POST", "/api/save", save, {"Content-Type": "application/json", "X-Rendc-Studio": "1", "Origin": "https://evil.example"})
    checks.check("a request from another origin is refused", status == 403 and open(path).read() == before, f"(status {status})")
    base = 'name: guard-check\nversion: 2\nfields:\n  pic: { type: image, default: builtin:demo-logo }\nlayers:\n  - type: color\n    color: "#000000"\n'
    named = base + f'  - type: image\n    source: "{red}"\n    fit: cover\n'
    status, data = request("POST", "/api/lint", json.dumps({"yaml": named}), {"Content-Type": "application/json", "X-Rendc-Studio": "1"})
    lint = json.loads(data)
    checks.check("a template naming a file outside the studio does not lint", status == 200 and not lint["ok"]
                 and "outside the template's folder" in json.dumps(lint["diagnostics"]), data[:300])
    shown = page.evaluate("""async ([yaml, red]) => {
      const r = await fetch('/api/preview', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Rendc-Studio': '1' },
        body: JSON.stringify({ yaml, at: 1, fields: { pic: red } }) });
      const d = await r.json(); if (!d.still) return { error: JSON.stringify(d) };
      const img = new Image(); img.src = d.still; await img.decode();
      const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
      const x = c.getContext('2d'); x.drawImage(img, 0, 0);
      const p = x.getImageData(c.width >> 1, c.height >> 1, 1, 1).data; return { pixel: [p[0], p[1], p[2]] }; }""",
                          [base + '  - type: image\n    source: "{{pic}}"\n    fit: cover\n', red])
    pixel = shown.get("pixel")
    checks.check("a field value naming a file outside the studio is not drawn", pixel is not None and not (pixel[0] > 150 and pixel[1] < 80),
                 str(shown))
    # A file beside the template, named by a relative path, is drawn: it resolves in the templates folder.
    solid_png(os.path.join(args.templates, "beside.png"), 64, 64, (20, 40, 230))
    shown = page.evaluate("""async (yaml) => {
      const r = await fetch('/api/preview', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Rendc-Studio': '1' },
        body: JSON.stringify({ yaml, file: 'beside-check.yaml', at: 1 }) });
      const d = await r.json(); if (!d.still) return { error: JSON.stringify(d) };
      const img = new Image(); img.src = d.still; await img.decode();
      const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
      const x = c.getContext('2d'); x.drawImage(img, 0, 0);
      const p = x.getImageData(c.width >> 1, c.height >> 1, 1, 1).data; return { pixel: [p[0], p[1], p[2]] }; }""",
                          base + '  - type: image\n    source: beside.png\n    fit: cover\n')
    pixel = shown.get("pixel")
    checks.check("a file beside the template is drawn", pixel is not None and pixel[2] > 180 and pixel[0] < 80, str(shown))
    os.remove(os.path.join(args.templates, "beside.png"))

    checks.check("no console errors", not errors, str(errors))
    browser.close()

checks.finish()
