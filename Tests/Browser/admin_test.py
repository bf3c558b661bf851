"""`/admin` in `rendc serve`, in a real browser: 401 without the token, the login form, a submitted job's detail
with its output video playing, and cancel.

Usage: python3 admin_test.py --url http://127.0.0.1:PORT --token TOKEN --completed JOB_ID --pending JOB_ID
"""
import argparse
import urllib.error
import urllib.request

from browser import Checks, launch, sync_playwright, watch_console

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--completed", required=True)
parser.add_argument("--pending", required=True)
parser.add_argument("--screenshot")
args = parser.parse_args()
checks = Checks("admin")


def status_of(path, headers=None, method="GET"):
    request = urllib.request.Request(args.url + path, headers=headers or {}, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# Without the token: 401 for the page and the API; a wrong token too. With it: 200.
checks.check("GET /admin without a token is 401", status_of("/admin") == 401)
checks.check("the admin API without a token is 401", status_of("/admin/api/overview") == 401)
checks.check("a wrong Bearer token is 401", status_of("/admin/api/overview", {"Authorization": "Bearer not-the-token-at-all"}) == 401)
checks.check("a tenant-style cookie guess is 401", status_of("/admin", {"Cookie": "rendc_admin=" + "0" * 64}) == 401)
checks.check("the Bearer token opens the API", status_of("/admin/api/overview", {"Authorization": "Bearer " + args.token}) == 200)
# An action a page of another origin makes the browser send is refused before anything else (without the Origin
# check this is the pending job's cancel: 200).
checks.check(
    "an admin POST from another origin is 403",
    status_of(
        "/admin/api/jobs/" + args.pending + "/cancel",
        {"Authorization": "Bearer " + args.token, "Origin": "https://shop.example.com"},
        method="POST",
    )
    == 403,
)

with sync_playwright() as p:
    browser = launch(p)
    # The dashboard's CSP forbids eval, which Playwright's wait_for_function uses: bypass it for the test's own probes.
    page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    # A loaded CI machine renders slowly; waits are for conditions, so a long ceiling costs nothing when idle.
    page.set_default_timeout(90_000)
    errors = watch_console(page)

    # The login form sets the session cookie and lands on the dashboard.
    page.goto(args.url + "/admin/login")
    page.fill("#token", "wrong-token-wrong-token")
    page.click("#sign-in")
    checks.check("a wrong token is refused by the form", page.locator("#login-error").count() == 1)
    # That refusal is a 401, which Chromium logs as a console error: expected, so not counted below.
    expected = [e for e in errors if "401" in e]
    checks.check("the refusal is a 401", len(expected) == 1, str(errors))
    errors.clear()
    page.fill("#token", args.token)
    page.click("#sign-in")
    page.wait_for_url("**/admin")
    page.locator(f"tr.job[data-job-id='{args.completed}']").first.wait_for(timeout=90_000)
    cookies = [c for c in page.context.cookies() if c["name"] == "rendc_admin"]
    checks.check("the session cookie is HttpOnly, Secure, SameSite=Strict",
                 len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["secure"] and cookies[0]["sameSite"] == "Strict", str(cookies))
    checks.check("the cookie does not hold the token", cookies and args.token not in cookies[0]["value"])
    checks.check("queue depth by status", page.locator(".stat.completed .n").inner_text() == "1" and page.locator(".stat.pending .n").inner_text() == "1",
                 page.locator("#cards").inner_text())
    checks.check("the submitted jobs are listed", page.locator(f"tr.job[data-job-id='{args.pending}']").count() >= 1)
    tenant_row = page.locator("#tenants tr").first.inner_text()
    checks.check("per-tenant counts and failure rate", "Browser store" in tenant_row and "0.0%" in tenant_row, tenant_row)

    # The completed job's detail: inputs, attempts and the output video playing through a signed URL.
    page.locator(f"#recent tr.job[data-job-id='{args.completed}']").click()
    page.wait_for_function(f"document.getElementById('detail').dataset.jobId === '{args.completed}'", timeout=90_000)
    detail = page.locator("#detail").inner_text()
    checks.check("detail shows inputs and attempts", "Browser test caption" in detail and "1 of 3" in detail, detail)
    notes = page.locator("#notes li").all_inner_texts()
    checks.check("the detail lists the render's notes (the caption was cut)", any("did not fit" in n for n in notes), str(notes))
    checks.check("a note's markup is shown as text, not parsed", any("<i>" in n for n in notes) and page.locator("#notes i").count() == 0, str(notes))
    plan = page.locator("#plan").inner_text() if page.locator("#plan").count() else ""
    checks.check("the detail shows the plan the worker rendered with", "template: golden-frame" in plan and "shots" in plan and "cuts:" in plan, plan[:300])
    src = page.get_attribute("#output", "src") or ""
    checks.check("the output is served through a signed URL", "signature=" in src and "expires=" in src, src)
    page.evaluate("document.getElementById('output').play()")
    page.wait_for_function("document.getElementById('output').readyState >= 2 && document.getElementById('output').currentTime > 0", timeout=60_000)
    checks.check("the output video plays in the page", True)
    if args.screenshot:
        page.evaluate("document.getElementById('output').pause()")
        page.screenshot(path=args.screenshot)

    # Cancel the pending job from its detail.
    page.locator(f"#recent tr.job[data-job-id='{args.pending}']").click()
    page.wait_for_function(f"document.getElementById('detail').dataset.jobId === '{args.pending}'", timeout=90_000)
    page.click("#cancel")
    page.wait_for_function("document.querySelector('#detail .st') && document.querySelector('#detail .st').textContent === 'cancelled'", timeout=90_000)
    checks.check("cancel from the dashboard cancels the job", True)
    page.click("#retry")
    page.wait_for_function("document.querySelector('#detail .st') && document.querySelector('#detail .st').textContent === 'pending'", timeout=90_000)
    checks.check("retry puts it back in the queue", True)
    checks.check("no console errors", not errors, str(errors))
    browser.close()

checks.finish()
