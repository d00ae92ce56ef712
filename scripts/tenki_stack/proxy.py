"""The frontend's proxy as a real process: Debian's nginx with the chart's config, in front of gunicorn.

The config is charts/tenki/files/nginx-frontend.conf, the one source the chart's ConfigMap and the
tenki-proxy image use too; `render_config` fills its two placeholders and nothing else. nginx runs as the
calling user with a prefix directory of its own (pid file, temp files), removed again when it stops.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path

from tenki_stack.processes import (
    DEFAULT_TIMEOUT,
    LOCALHOST,
    ServiceProcess,
    StackError,
    free_port,
    http_ok,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SOURCE = ROOT / "charts" / "tenki" / "files" / "nginx-frontend.conf"
PLACEHOLDERS = ("@LISTEN@", "@UPSTREAM@")
# nginx's own liveness path, answered without gunicorn (the config's `location = /proxy-healthz`).
PROXY_HEALTH_PATH = "/proxy-healthz"


def render_config(listen: str, upstream: str, source: Path = CONFIG_SOURCE) -> str:
    """The config with @LISTEN@ (e.g. "127.0.0.1:8080") and @UPSTREAM@ (gunicorn's "127.0.0.1:8081")."""
    text = source.read_text(encoding="utf-8")
    for placeholder in PLACEHOLDERS:
        if placeholder not in text:
            raise StackError(f"{source} lost its placeholder {placeholder}")
    return text.replace("@LISTEN@", listen).replace("@UPSTREAM@", upstream)


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which a user's PATH may lack); `make nginx` installs it."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise StackError("nginx is not installed: run `make nginx` (Debian's nginx-light)")
    return found


class ProxyProcess(ServiceProcess):
    """nginx in the foreground (daemon off) with its prefix directory, which `stop`/`kill` remove."""

    prefix: Path

    def stop(self, sig: int = signal.SIGQUIT, timeout: float = 30.0) -> int | None:
        """SIGQUIT by default: nginx's graceful stop (requests in flight finish); SIGTERM is its fast one."""
        return super().stop(sig, timeout)

    def _close_log(self) -> None:
        super()._close_log()
        if self.process.poll() is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)


def start_proxy(
    upstream: str,
    port: int | None = None,
    *,
    host: str = LOCALHOST,
    timeout: float = DEFAULT_TIMEOUT,
    inherit_output: bool = False,
    log_path: Path | None = None,
) -> ProxyProcess:
    """Start nginx on host:port (a free port by default) in front of `upstream` (gunicorn's host:port);
    ready when nginx answers its own /proxy-healthz."""
    port = free_port(host) if port is None else port
    prefix = Path(tempfile.mkdtemp(prefix="tenki-proxy-"))
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    config = prefix / "nginx.conf"
    config.write_text(render_config(listen, upstream), encoding="utf-8")
    shown = LOCALHOST if host == "0.0.0.0" else host
    try:
        service = ProxyProcess(
            "proxy",
            [nginx_binary(), "-p", str(prefix), "-c", str(config), "-e", "stderr"],
            {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            host=host,
            port=port,
            url=f"http://{shown}:{port}",
            inherit_output=inherit_output,
            log_path=log_path,
        )
    except BaseException:
        shutil.rmtree(prefix, ignore_errors=True)
        raise
    service.prefix = prefix
    service.wait_ready(lambda: http_ok(f"{service.url}{PROXY_HEALTH_PATH}"), timeout)
    return service
