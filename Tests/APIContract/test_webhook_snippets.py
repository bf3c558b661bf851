"""The webhook verification snippets in docs/api.md, run as written: they accept a delivery signed by the worker's
signer (Swift `WebhookSigner`, passed in by APIContractTests) and refuse a tampered body, a wrong secret and a stale
timestamp."""
import os
import re
import subprocess
import time

import pytest

DOCS = os.path.join(os.path.dirname(os.environ["RENDC_SPEC"]), "api.md")


def snippet(language):
    """The first `language` code block after the first heading that starts with "Verifying" (a snippet takes
    `verify(secret, header, body)`)."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    heading = re.search(r"^#+ Verifying[^\n]*$", text, re.M)
    assert heading, "no 'Verifying ...' section in docs/api.md"
    section = text[heading.end():]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no {language} snippet in docs/api.md"
    return match.group(1)


@pytest.fixture(scope="module")
def sample():
    return (os.environ["RENDC_WEBHOOK_SECRET_SAMPLE"].encode(), os.environ["RENDC_WEBHOOK_BODY_SAMPLE"].encode(),
            os.environ["RENDC_WEBHOOK_SIGNATURE_SAMPLE"])


def python_verify():
    scope = {}
    exec(compile(snippet("python"), "docs/api.md (python)", "exec"), scope)
    return scope["verify"]


def node_verify(secret, header, body):
    program = snippet("js") + """
const [secret, header, body] = process.argv.slice(1);
process.exit(verify(Buffer.from(secret), header, Buffer.from(body)) ? 0 : 3);
"""
    result = subprocess.run(["node", "-e", program, secret.decode(), header, body.decode()],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 3), result.stderr
    return result.returncode == 0


@pytest.mark.parametrize("verify", ["python", "node"])
def test_snippets_accept_the_workers_signature_and_refuse_forgeries(sample, verify):
    secret, body, header = sample
    check = python_verify() if verify == "python" else node_verify
    assert check(secret, header, body)
    assert not check(secret, header, body.replace(b"completed", b"failed"))
    assert not check(b"another-secret-of-16+", header, body)
    stale_t = int(time.time()) - 3600
    t = header.split(",")[0].split("=")[1]
    assert not check(secret, header.replace(f"t={t}", f"t={stale_t}"), body)


def test_a_standard_webhooks_library_verifies_the_delivery(sample):
    """The headers the worker sends, verified by the standardwebhooks package with the `standardWebhooksSecret` the
    API hands out; a tampered body or another tenant's secret is refused."""
    import json

    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    _, body, _ = sample
    headers = json.loads(os.environ["RENDC_WEBHOOK_HEADERS_SAMPLE"])
    hook = Webhook(os.environ["RENDC_WEBHOOK_STANDARD_SECRET_SAMPLE"])
    assert hook.verify(body, headers)["job"]["status"] == "completed"
    with pytest.raises(WebhookVerificationError):
        hook.verify(body.replace(b"completed", b"failed"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QW5vdGhlclRlbmFudHNTZWNyZXQ=").verify(body, headers)
