"""The store's view of the API: a client generated from docs/openapi.yaml, every exchange checked against the spec.

Started by the Swift test `APIContractTests` (Tests/JobAPITests/APIContractTests.swift), which runs `rendc serve`'s
server (JobAPIServer) on loopback over a private Postgres with a worker, and passes:
  RENDC_API_URL, RENDC_API_KEY, RENDC_API_KEY_B (a second tenant), RENDC_SPEC (path of openapi.yaml), RENDC_WORK (a
  scratch folder).
"""
import os
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import yaml
from jsonschema._keywords import type as draft_type
from jsonschema.validators import extend
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.validators import V31RequestValidator
from openapi_core.validation.response.validators import V31ResponseValidator
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict


def _binary_aware_type(validator, types, instance, schema):
    """JSON Schema's `type`, except that raw bytes are a `string` where the schema says `format: binary`.

    openapi-core hands file parts and binary bodies to the schema as Python bytes; its OpenAPI 3.0 validator accepts
    them for `format: binary` ("pragmatic" binary), its 3.1 validator does not (openapi-core issue #506). This is
    that same rule for 3.1; everything else is checked exactly as the 3.1 dialect says."""
    allowed = types if isinstance(types, list) else [types]
    if isinstance(instance, bytes) and "string" in allowed and schema.get("format") == "binary":
        return
    yield from draft_type(validator, types, instance, schema)


_schemas = SchemaValidatorsFactory(
    extend(OAS31Validator, {"type": _binary_aware_type}), format_checker=OAS30ReadValidator.FORMAT_CHECKER)


class RequestValidator(V31RequestValidator):
    schema_validators_factory = _schemas


class ResponseValidator(V31ResponseValidator):
    schema_validators_factory = _schemas

# Headers this API adds that the spec must declare for the operation and status that sent them.
API_HEADERS = {
    "x-request-id", "ratelimit", "ratelimit-policy", "retry-after", "location", "www-authenticate", "allow",
    "idempotent-replayed", "content-range", "accept-ranges", "cache-control",
}


class HttpxOpenAPIRequest:
    """An httpx request as openapi-core sees one."""

    def __init__(self, request: httpx.Request):
        self.request = request
        url = urlparse(str(request.url))
        self._url = url
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(url.query, keep_blank_values=True)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict({}),
        )

    @property
    def host_url(self):
        return f"{self._url.scheme}://{self._url.netloc}"

    @property
    def path(self):
        return self._url.path

    @property
    def method(self):
        return self.request.method.lower()

    @property
    def body(self):
        return self.request.content or None

    @property
    def content_type(self):
        return self.request.headers.get("content-type", "")


class HttpxOpenAPIResponse:
    def __init__(self, response: httpx.Response):
        self.response = response

    @property
    def data(self):
        return self.response.content

    @property
    def status_code(self):
        return self.response.status_code

    @property
    def content_type(self):
        return self.response.headers.get("content-type", "")

    @property
    def headers(self):
        return Headers(dict(self.response.headers))


class Exchange:
    def __init__(self, request, response, request_errors, response_errors):
        self.request = request
        self.response = response
        self.request_errors = request_errors
        self.response_errors = response_errors

    def __repr__(self):
        return f"{self.request.method} {self.request.url} -> {self.response.status_code}"


class SpecChecker:
    """Validates every exchange with openapi-core, and checks that every status and API header is documented."""

    def __init__(self, spec_path, server_url):
        self.spec_path = spec_path
        with open(spec_path, encoding="utf-8") as f:
            self.raw = yaml.safe_load(f)
        # The document names the default address; the server under test listens where the test put it.
        served = dict(self.raw, servers=[{"url": server_url}])
        self.openapi = OpenAPI.from_dict(
            served, config=Config(request_validator_cls=RequestValidator, response_validator_cls=ResponseValidator))
        self.exchanges = []
        self.expected_invalid_requests = 0
        # Path templates as regexes, exact paths first (so /files is not taken for /files/{key}).
        self.paths = sorted(
            ((re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", p) + "$"), p) for p in self.raw["paths"]),
            key=lambda item: item[1].count("{"),
        )

    def operation(self, method, path):
        for pattern, template in self.paths:
            if pattern.match(path):
                return template, self.raw["paths"][template].get(method)
        return None, None

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.raw
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check(self, response: httpx.Response):
        response.read()
        request = response.request
        request.read()  # multipart bodies are streams until read
        oa_request = HttpxOpenAPIRequest(request)
        oa_response = HttpxOpenAPIResponse(response)
        request_errors = []
        response_errors = []
        try:
            self.openapi.validate_request(oa_request)
        except Exception as error:  # the spec refuses this request
            request_errors.append(describe(error))
        try:
            self.openapi.validate_response(oa_request, oa_response)
        except Exception as error:
            response_errors.append(describe(error))
        template, operation = self.operation(request.method.lower(), urlparse(str(request.url)).path)
        if operation is None:
            response_errors.append(f"no operation for {request.method} {request.url.path}")
        else:
            documented = operation.get("responses", {})
            status = str(response.status_code)
            if status not in documented:
                response_errors.append(f"status {status} is not documented for {request.method} {template}")
            else:
                declared = {name.lower() for name in (self.resolve(documented[status]).get("headers") or {})}
                for name in response.headers.keys():
                    if name.lower() in API_HEADERS and name.lower() not in declared:
                        response_errors.append(
                            f"header {name} is not documented for {request.method} {template} {status}")
        self.exchanges.append(Exchange(request, response, request_errors, response_errors))

    def last(self):
        return self.exchanges[-1]


def describe(error):
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", []) or []:
            parts.append(f"  - {sub.message}")
        cause = cause.__cause__
    return " / ".join(parts)


@pytest.fixture(scope="session")
def settings():
    return {
        "url": os.environ["RENDC_API_URL"],
        "key": os.environ["RENDC_API_KEY"],
        "key_b": os.environ["RENDC_API_KEY_B"],
        "spec": os.environ["RENDC_SPEC"],
        "work": os.environ["RENDC_WORK"],
    }


@pytest.fixture(scope="session")
def generated(settings):
    """The client package generated from the spec, imported. Generation must print no warning."""
    out = os.path.join(settings["work"], "generated")
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", settings["spec"], "--meta", "none",
         "--output-path", os.path.join(out, "rendc_client"), "--overwrite"],
        capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    sys.path.insert(0, out)
    import rendc_client  # noqa: F401
    return rendc_client


@pytest.fixture(scope="session")
def checker(settings):
    checker = SpecChecker(settings["spec"], settings["url"])
    yield checker
    # Every exchange of the whole suite: the response matches the spec, and a request the spec refuses is one the
    # test meant to be refused (counted by `expect_refused`).
    problems = [f"{x!r}: {e}" for x in checker.exchanges for e in x.response_errors]
    assert not problems, "responses that do not match the spec:\n" + "\n".join(problems)
    refused = [x for x in checker.exchanges if x.request_errors]
    assert len(refused) == checker.expected_invalid_requests, (
        "requests the spec refuses, beyond those meant to be refused:\n"
        + "\n".join(f"{x!r}: {x.request_errors}" for x in refused))


def make_client(generated, settings, checker, key):
    from rendc_client import AuthenticatedClient
    return AuthenticatedClient(
        base_url=settings["url"], token=key, raise_on_unexpected_status=True, timeout=httpx.Timeout(30),
        httpx_args={"event_hooks": {"response": [checker.check]}},
    )


@pytest.fixture(scope="session")
def client(generated, settings, checker):
    return make_client(generated, settings, checker, settings["key"])


@pytest.fixture(scope="session")
def client_b(generated, settings, checker):
    return make_client(generated, settings, checker, settings["key_b"])


@pytest.fixture(scope="session")
def anonymous(generated, settings, checker):
    from rendc_client import Client
    return Client(base_url=settings["url"], raise_on_unexpected_status=True, timeout=httpx.Timeout(30),
                  httpx_args={"event_hooks": {"response": [checker.check]}})


@pytest.fixture(scope="session")
def images(settings):
    """Real pictures made by the ffmpeg command-line tool (an independent maker)."""
    made = {}
    for name, source in [("portrait.jpg", "testsrc2=size=360x640"), ("square.png", "smptebars=size=300x300")]:
        path = os.path.join(settings["work"], name)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", "1", path],
                       check=True, timeout=60)
        with open(path, "rb") as f:
            made[name] = f.read()
    return made
