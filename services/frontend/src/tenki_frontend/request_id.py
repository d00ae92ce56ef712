"""A request id per request: the client's X-Request-ID when it is a sane token, else a fresh one.

The id is in the access log line, in the X-Request-ID response header, and sent to the weather service
as `x-request-id` metadata, so one request can be followed through both services' logs.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
# Ids from elsewhere go into logs and gRPC metadata: a short token of safe characters, nothing else.
VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> str:
    """The id of the request being handled (a new one outside a request)."""
    return str(g.get("request_id") or new_id())


def init_app(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if VALID.match(incoming) else new_id()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers[HEADER] = current()
        return response
