"""The store's whole flow through the generated client; every exchange is checked against docs/openapi.yaml by the
`checker` fixture (conftest.py)."""
import base64
import time
import uuid
from urllib.parse import parse_qs, urlparse

import httpx


def api(generated):
    from rendc_client.api.default import (cancel_job, download_file, download_file_by_path, get_asset, get_job,
                                          head_file, list_jobs, list_templates, liveness, metrics, readiness,
                                          submit_job, upload_asset)
    return locals()


def upload(generated, client, data, name, type_="image", key=None, display_name=None):
    from rendc_client.api.default import upload_asset
    from rendc_client.models import AssetType, UploadAssetBody
    from rendc_client.types import UNSET, File
    body = UploadAssetBody(file=File(payload=data, file_name=name, mime_type="application/octet-stream"),
                           type_=AssetType(type_), name=display_name if display_name is not None else UNSET)
    return upload_asset.sync_detailed(client=client, body=body, idempotency_key=key if key else UNSET)


def submit(generated, client, image_ids, key=None, **fields):
    from rendc_client.api.default import submit_job
    from rendc_client.models import ProcessRequest
    from rendc_client.types import UNSET
    return submit_job.sync_detailed(client=client, body=ProcessRequest(image_ids=image_ids, **fields),
                                    idempotency_key=key if key else UNSET)


def raw(client, checker, method, path, expect_refused=False, **kwargs):
    """A request the generated client cannot make (a wrong content type, a body the spec refuses), still checked."""
    if expect_refused:
        checker.expected_invalid_requests += 1
    response = client.get_httpx_client().request(method, path, **kwargs)
    exchange = checker.last()
    assert bool(exchange.request_errors) == expect_refused, (
        f"{exchange!r}: the spec {'accepts' if not expect_refused else 'refuses'} a request meant to be "
        f"{'refused' if expect_refused else 'accepted'}: {exchange.request_errors}")
    return response


def wait_for(generated, client, job_id, states, timeout=120):
    from rendc_client.api.default import get_job
    deadline = time.monotonic() + timeout
    while True:
        response = get_job.sync_detailed(client=client, id=job_id)
        assert response.status_code == 200
        if response.parsed.job.status in states:
            return response.parsed.job
        assert time.monotonic() < deadline, f"job {job_id} still {response.parsed.job.status}"
        time.sleep(0.2)


def test_upload_submit_poll_list_download_cancel(generated, client, client_b, anonymous, checker, images):
    from rendc_client.api.default import (cancel_job, download_file, get_asset, head_file, list_jobs,
                                          list_templates)

    # Upload: multipart with a binary part, 201 with Location.
    first = upload(generated, client, images["portrait.jpg"], "portrait.jpg")
    assert first.status_code == 201, first.content
    assert first.headers["location"] == f"/api/v1/assets/{first.parsed.asset_id}"
    assert (first.parsed.asset.width, first.parsed.asset.height) == (360, 640)
    second = upload(generated, client, images["square.png"], "square.png", display_name="Square ✨")
    assert second.status_code == 201
    assert second.parsed.asset.name == "Square ✨"
    assert get_asset.sync_detailed(client=client, id=str(second.parsed.asset_id)).status_code == 200
    assert get_asset.sync_detailed(client=client_b, id=str(second.parsed.asset_id)).status_code == 404

    # Idempotent upload: the same bytes with the same key are one asset.
    key = str(uuid.uuid4())
    a = upload(generated, client, images["square.png"], "square.png", key=key)
    b = upload(generated, client, images["square.png"], "square.png", key=key)
    assert a.status_code == b.status_code == 201
    assert a.parsed.asset_id == b.parsed.asset_id
    assert b.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in a.headers
    other = upload(generated, client, images["portrait.jpg"], "portrait.jpg", key=key)
    assert other.status_code == 422 and other.parsed.error.code == "idempotency_key_reused"

    templates = list_templates.sync_detailed(client=client)
    assert "golden-frame" in [t.name for t in templates.parsed.templates]

    # Submit (idempotent), poll to completed.
    ids = [str(first.parsed.asset_id), str(second.parsed.asset_id)]
    key = str(uuid.uuid4())
    submitted = submit(generated, client, ids, key=key, text_overlay="Summer sale 🔥\n-30%", duration_target=2.0)
    assert submitted.status_code == 202, submitted.content
    job_id = str(submitted.parsed.job_id)
    assert submitted.headers["location"] == f"/api/v1/video/jobs/{job_id}"
    replay = submit(generated, client, ids, key=key, text_overlay="Summer sale 🔥\n-30%", duration_target=2.0)
    assert replay.status_code == 202 and str(replay.parsed.job_id) == job_id
    assert replay.headers.get("idempotent-replayed") == "true"
    changed = submit(generated, client, ids, key=key, text_overlay="Winter sale", duration_target=2.0)
    assert changed.status_code == 422 and changed.parsed.error.code == "idempotency_key_reused"
    job = wait_for(generated, client, job_id, {"completed", "failed"})
    assert job.status == "completed", job.last_error

    # List: pages of one, no duplicates, a null cursor at the end.
    for _ in range(2):
        from rendc_client.models import QualityMode
        assert submit(generated, client, ids[:1], quality_mode=QualityMode.ECO).status_code == 202
    seen, cursor = [], None
    from rendc_client.types import UNSET
    while True:
        page = list_jobs.sync_detailed(client=client, limit=1, cursor=cursor or UNSET)
        assert page.status_code == 200
        seen += [str(j.id) for j in page.parsed.jobs]
        cursor = page.parsed.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3 and job_id in seen
    assert list_jobs.sync_detailed(client=client_b).parsed.jobs == []  # B sees none of A's jobs

    # Download through the signed URL the job gave: the form the spec describes (/files?key=...).
    url = urlparse(job.output_video_url)
    assert url.path == "/files"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q["key"].startswith("videos/") and q["key"].endswith(f"/{job_id}.mp4")
    whole = download_file.sync_detailed(client=anonymous, key=q["key"], expires=int(q["expires"]),
                                        signature=q["signature"])
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    body = whole.content
    assert len(body) > 0
    part = download_file.sync_detailed(client=anonymous, key=q["key"], expires=int(q["expires"]),
                                       signature=q["signature"], range_="bytes=0-3")
    assert part.status_code == 206 and part.content == body[:4]
    assert part.headers["content-range"] == f"bytes 0-3/{len(body)}"
    outside = download_file.sync_detailed(client=anonymous, key=q["key"], expires=int(q["expires"]),
                                          signature=q["signature"], range_=f"bytes={len(body) + 10}-")
    assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(body)}"
    head = head_file.sync_detailed(client=anonymous, key=q["key"], expires=int(q["expires"]),
                                   signature=q["signature"])
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(body)
    forged = download_file.sync_detailed(client=anonymous, key=q["key"].replace(".mp4", ".jpg"),
                                         expires=int(q["expires"]), signature=q["signature"])
    assert forged.status_code == 403
    thumb = urlparse(job.output_thumbnail_url)
    t = {k: v[0] for k, v in parse_qs(thumb.query).items()}
    jpeg = download_file.sync_detailed(client=anonymous, key=t["key"], expires=int(t["expires"]),
                                       signature=t["signature"])
    assert jpeg.status_code == 200 and jpeg.headers["content-type"] == "image/jpeg"
    # The older path form still works, with the key's slashes encoded (as the spec describes it) or not.
    from rendc_client.api.default import download_file_by_path
    old = download_file_by_path.sync_detailed(client=anonymous, key=q["key"], expires=int(q["expires"]),
                                              signature=q["signature"])
    assert old.status_code == 200 and old.content == body

    # Cancel: a finished job is 409. Tenant B may run no job at once (its cap is 0), so its job stays pending and
    # is cancelled at once.
    assert cancel_job.sync_detailed(client=client, id=job_id).status_code == 409
    b_image = upload(generated, client_b, images["square.png"], "square.png").parsed.asset_id
    pending = submit(generated, client_b, [str(b_image)], duration_target=60)
    assert pending.status_code == 202
    pending_id = str(pending.parsed.job_id)
    assert cancel_job.sync_detailed(client=client, id=pending_id).status_code == 404
    cancelled = cancel_job.sync_detailed(client=client_b, id=pending_id)
    assert cancelled.status_code == 200 and cancelled.parsed.job.status == "cancelled"
    assert cancel_job.sync_detailed(client=client_b, id=pending_id).status_code == 409


def test_errors_are_documented_and_spec_and_server_agree(generated, client, anonymous, checker, images):
    from rendc_client.api.default import get_job, list_jobs, liveness, metrics, readiness
    from rendc_client import AuthenticatedClient

    assert liveness.sync_detailed(client=anonymous).status_code == 200
    assert readiness.sync_detailed(client=anonymous).status_code == 200
    assert metrics.sync_detailed(client=anonymous).status_code == 200

    stranger = AuthenticatedClient(base_url=client._base_url, token="rk_not_a_key",
                                   httpx_args={"event_hooks": {"response": [checker.check]}})
    denied = list_jobs.sync_detailed(client=stranger)
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    assert get_job.sync_detailed(client=client, id=str(uuid.uuid4())).status_code == 404

    image = upload(generated, client, images["portrait.jpg"], "p.jpg").parsed.asset_id
    ok = {"imageIds": [str(image)]}
    http = client.get_httpx_client()

    # Requests the spec refuses are the requests the server refuses, and the other way round.
    refused = [
        ({**ok, "durationTarget": 0.1}, 422, "durationTarget"),
        ({**ok, "textOverlay": "a" + "\u0301" * 4000}, 422, "textOverlay"),  # 1 grapheme, 4001 scalars
        ({**ok, "textOverlay": "line\r\nbreak"}, 422, "textOverlay"),
        ({**ok, "textOverlay": "next\u0085line"}, 422, "textOverlay"),
        ({**ok, "textOverlay": "csi\u009b"}, 422, "textOverlay"),
        ({**ok, "callbackUrl": "ftp://example.com/hook"}, 422, "callbackUrl"),
        ({**ok, "callbackUrl": "https://example.com/a b"}, 422, "callbackUrl"),
        ({**ok, "callbackUrl": "https://example.com/\r\nX-Evil: 1"}, 422, "callbackUrl"),
        ({**ok, "qualityMode": "ultra"}, 422, "qualityMode"),
        ({**ok, "audioFile": "track.mp3"}, 422, "audioFile"),
        ({**ok, "priority": 101}, 422, "priority"),
        ({"imageIds": []}, 422, "imageIds"),
        ({"imageIds": ["not-a-uuid"]}, 422, "imageIds[0]"),
        ({"imageIds": "x"}, 400, "imageIds"),
        ({}, 400, "imageIds"),
    ]
    for body, status, field in refused:
        response = raw(client, checker, "POST", "/api/v1/video/process", expect_refused=True, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["field"] == field, (body, response.text)
    # The one rule JSON Schema cannot state: 500 grapheme clusters (its maxLength counts code points, and the spec's
    # 4000 is enforced too). The spec says so in words; the server refuses 501 emoji (1002 code points).
    emoji = raw(client, checker, "POST", "/api/v1/video/process", json={**ok, "textOverlay": "\U0001F600" * 501})
    assert emoji.status_code == 422 and emoji.json()["error"]["field"] == "textOverlay"
    # The longest video is a deployment setting (VIDEO_MAX_DURATION, 60 here), so the spec states no maximum a
    # generated client would enforce; the server refuses what this deployment does not allow.
    long = raw(client, checker, "POST", "/api/v1/video/process", json={**ok, "durationTarget": 61})
    assert long.status_code == 422 and long.json()["error"]["field"] == "durationTarget"
    accepted = [
        {**ok, "textOverlay": "\U0001F600" * 500},
        {**ok, "textOverlay": "tab-free\nlines"},
        {**ok, "durationTarget": 0.5},
        {**ok, "durationTarget": 60},
        {**ok, "audioFile": "", "textOverlay": None, "durationTarget": None, "callbackUrl": None},
    ]
    for body in accepted:
        response = raw(client, checker, "POST", "/api/v1/video/process", json=body)
        assert response.status_code == 202, (body, response.text)

    # JSON endpoints refuse other content types (415), and no content type at all.
    plain = raw(client, checker, "POST", "/api/v1/video/process", expect_refused=True,
                content=b'{"imageIds": []}', headers={"content-type": "text/plain"})
    assert plain.status_code == 415 and plain.json()["error"]["code"] == "unsupported_content_type"
    bare = raw(client, checker, "POST", "/api/v1/video/process", expect_refused=True, content=b'{"imageIds": []}')
    assert bare.status_code == 415
    broken = raw(client, checker, "POST", "/api/v1/video/process", expect_refused=True,
                 content=b'{"imageIds": [', headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"

    # A cursor the server did not make is 400, the largest int64 included (it used to be a 500).
    huge = base64.urlsafe_b64encode(f"9223372036854775807:{uuid.uuid4()}".encode()).decode().rstrip("=")
    assert list_jobs.sync_detailed(client=client, cursor=huge).status_code == 400
    assert list_jobs.sync_detailed(client=client, cursor="nonsense").status_code == 400

    # An upload name longer than 100 code points is refused, not cut.
    long_name = upload(generated, client, images["portrait.jpg"], "p.jpg", display_name="n" * 101)
    checker.expected_invalid_requests += 1  # the generated client sends it; the spec's maxLength refuses it
    assert long_name.status_code == 422 and long_name.parsed.error.field == "name"

    # X-Request-Id: the client's own is echoed; an unusable one is replaced.
    mine = http.get("/api/v1/templates", headers={"x-request-id": "store-req-42"})
    assert mine.headers["x-request-id"] == "store-req-42"
    bad = http.get("/api/v1/templates", headers={"x-request-id": "has spaces <and> \"quotes\""})
    assert bad.headers["x-request-id"] != "has spaces <and> \"quotes\"" and len(bad.headers["x-request-id"]) == 36
    assert "ratelimit" in mine.headers and "ratelimit-policy" in mine.headers
