"""Shared helpers for rendc's browser tests: Debian's Chromium driven by Playwright (no browser download)."""
import os
import shutil
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"]


def chromium_path():
    explicit = os.environ.get("RENDC_CHROMIUM")
    for path in ([explicit] if explicit else []) + CHROMIUM_CANDIDATES:
        if path and os.path.exists(path):
            return path
    found = shutil.which("chromium")
    if found:
        return found
    sys.exit("no system Chromium found (scripts/apt.d/studio.txt installs Debian's chromium)")


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=chromium_path(),
        headless=True,
        # Root in CI: Chromium's sandbox needs user namespaces it may not have. Autoplay muted video without a gesture.
        args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu", "--disable-dev-shm-usage"],
    )


class Checks:
    """Named checks: each prints `ok:` or `FAIL:`; the script exits 1 when any failed."""

    def __init__(self, name):
        self.name = name
        self.failed = []
        self.passed = []

    def check(self, label, condition, detail=""):
        if condition:
            self.passed.append(label)
            print(f"ok: {label}", flush=True)
        else:
            self.failed.append(label)
            print(f"FAIL: {label} {detail}", flush=True)
        return condition

    def finish(self):
        print(f"{self.name}: {len(self.passed)} checks ok, {len(self.failed)} failing", flush=True)
        sys.exit(1 if self.failed else 0)


def watch_console(page):
    """Collects console errors and uncaught page errors."""
    errors = []
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


FINGERPRINT_JS = """(sel) => {
  const img = document.querySelector(sel);
  if (!img || !img.complete || !img.naturalWidth) return null;
  const c = document.createElement('canvas'); c.width = 54; c.height = 96;
  const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, 54, 96);
  return Array.from(ctx.getImageData(0, 0, 54, 96).data);
}"""


def fingerprint(page, selector):
    return page.evaluate(FINGERPRINT_JS, selector)


def difference(a, b):
    """Mean absolute difference of two RGBA fingerprints, 0-255."""
    if not a or not b or len(a) != len(b):
        return -1
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)
