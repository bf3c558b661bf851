"""Measures the studio's edit loop over HTTP, the way the page does it: POST /api/lint, then POST /api/preview and
GET the still it names. Each edit changes golden-frame a little (border width, caption size, zoom), so every still
is a new render. A bad edit (an unknown key) is timed too: its lint result is what the designer waits for."""
import argparse
import json
import statistics
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--edits", type=int, default=20)
parser.add_argument("--binary", default="rendc")
args = parser.parse_args()


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(args.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        raw = response.read()
        return json.loads(raw) if response.headers.get("Content-Type", "").startswith("application/json") else raw


deadline = time.time() + 60
while True:
    try:
        call("GET", "/api/templates")
        break
    except OSError:
        if time.time() > deadline:
            raise SystemExit("the studio did not start")
        time.sleep(0.2)

base = call("GET", "/api/template?id=builtin:golden-frame.yaml")["yaml"]
# Warm-up: generates the built-in assets and the beat cache, as the first page load does.
first = time.perf_counter()
call("POST", "/api/preview", {"yaml": base, "file": "golden-frame.yaml", "at": 1, "text": "✨ Test Video"})
warm = time.perf_counter() - first

lint_ms, bad_lint_ms, still_ms, scrub_ms = [], [], [], []
for i in range(args.edits):
    edited = base.replace("width: 10 }", f"width: {6 + i % 12} }}").replace("size: 60", f"size: {48 + i % 16}")
    bad = edited.replace("fit: cover", "fitt: cover")
    t = time.perf_counter()
    result = call("POST", "/api/lint", {"yaml": bad, "file": "golden-frame.yaml"})
    bad_lint_ms.append((time.perf_counter() - t) * 1000)
    assert not result["ok"] and result["diagnostics"][0]["line"] > 0, result
    t = time.perf_counter()
    result = call("POST", "/api/lint", {"yaml": edited, "file": "golden-frame.yaml"})
    lint_ms.append((time.perf_counter() - t) * 1000)
    assert result["ok"], result
    preview = call("POST", "/api/preview", {"yaml": edited, "file": "golden-frame.yaml", "at": 0.5 + (i % 10), "text": "✨ Test Video"})
    jpeg = call("GET", preview["still"])
    still_ms.append((time.perf_counter() - t) * 1000)
    assert len(jpeg) > 1000
    # Moving the scrubber on the same draft: the prepared renderer is reused, one frame is composed.
    t = time.perf_counter()
    preview = call("POST", "/api/preview", {"yaml": edited, "file": "golden-frame.yaml", "at": 10.5 + (i % 10), "text": "✨ Test Video"})
    jpeg = call("GET", preview["still"])
    scrub_ms.append((time.perf_counter() - t) * 1000)


def line(label, values, target):
    values = sorted(values)
    p90 = values[max(0, int(round(0.9 * len(values))) - 1)]
    verdict = "ok" if p90 < target else "OVER"
    print(f"  {label:34s} median {statistics.median(values):7.1f} ms   p90 {p90:7.1f} ms   max {values[-1]:7.1f} ms   (target < {target:.0f} ms: {verdict})")


print(f"rendc studio: {args.edits} edits of golden-frame (1080x1920 stills, built-in samples), {args.binary}")
print(f"  first still (assets + beat cache)  {warm * 1000:7.1f} ms")
line("edit -> lint result (clean)", lint_ms, 200)
line("edit -> lint result (unknown key)", bad_lint_ms, 200)
line("edit -> lint + new still on page", still_ms, 1000)
line("scrub -> new still on page", scrub_ms, 1000)
