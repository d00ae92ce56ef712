"""tenki's web frontend: Flask pages and a JSON API over the weather service's gRPC API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(*args: Any, **kwargs: Any) -> Flask:
    """The application factory (see tenki_frontend.app.create_app); imported lazily so that
    `import tenki_frontend.config` (gunicorn's config, the CLI) does not load Flask and gRPC."""
    from .app import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app"]
