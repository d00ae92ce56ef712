"""Who the client is: the peer address, or the X-Forwarded-For entry of a trusted proxy (TRUSTED_PROXY_HOPS).

Behind the Gateway or an Ingress every request comes from the proxy's address. Each proxy appends the
address it saw to X-Forwarded-For, so with N trusted proxies the N-th entry from the right is the client
as the outermost trusted proxy saw it; anything left of it was written by the client and proves nothing.
Werkzeug's ProxyFix does exactly this for `x_for=N` and sets request.remote_addr to that entry (the
limits' key and the access log's remote_addr). With 0 hops (the default, `make run`) the header is
ignored altogether; no other X-Forwarded-* header is trusted.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask, trusted_hops: int) -> None:
    if trusted_hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_hops, x_proto=0, x_host=0, x_port=0, x_prefix=0
        )
