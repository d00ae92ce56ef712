"""`make load`: run Locust headless against tenki and exit non-zero when the SLO is missed.

Without LOAD_HOST it starts a local stack (scripts/tenki_stack: the weather service in demo mode and
the frontend, on free 127.0.0.1 ports) for the run and stops it afterwards; with LOAD_HOST it
loads that site (a cluster's Gateway, say) and, when LOAD_GRPC_ADDR is set too, its gRPC API.
The verdict is Locust's own: the locustfile's quitting hook sets the exit code from Locust's
aggregated statistics (see locustfile.py and slo.py). Reports land in LOAD_OUT (build/load).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCUSTFILE = HERE / "locustfile.py"
USER_CLASSES = ("WebsiteUser", "ApiUser", "GrpcUser")
# Not in the default mix: `make load-abuse` adds it.
EXTRA_CLASSES = ("AbusiveUser",)


@contextlib.contextmanager
def target(host: str, grpc_addr: str, log_dir: Path) -> Iterator[tuple[str, str]]:
    """The HTTP base URL and gRPC address to load: the given ones, or a local stack's."""
    if host:
        yield host.rstrip("/"), grpc_addr
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    import tenki_stack  # scripts/tenki_stack: the services as processes, shared with make run and the tests

    # The services' JSON logs go to files: their lines would drown Locust's summary.
    print(f"load: starting a local stack (demo data) on free ports; logs in {log_dir}", flush=True)
    # One trusted proxy hop, as behind the chart's Gateway: each Locust user's X-Forwarded-For entry is
    # its own client address, so the per-client limits count each simulated person alone.
    frontend_env = {"TRUSTED_PROXY_HOPS": "1"}
    with tenki_stack.LocalStack({"WEATHER_PROVIDER": "demo"}, frontend_env, log_dir=log_dir) as local:
        print(f"load: local stack up: {local.url} (gRPC {local.weather_addr})", flush=True)
        yield local.url.rstrip("/"), local.weather_addr
    print("load: local stack stopped", flush=True)


def locust_command(args: argparse.Namespace, host: str, grpc_addr: str, classes: list[str]) -> list[str]:
    out = Path(args.out)
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        args.run_time,
        # Let users finish the request in flight, so the end of the run causes no failures.
        "--stop-timeout",
        "10",
        "--html",
        str(out / f"{args.name}.html"),
        "--csv",
        str(out / args.name),
        "--only-summary",
        "--grpc-addr",
        grpc_addr,
        "--slo-p95-ms",
        str(args.p95_ms),
        "--slo-max-fail-ratio",
        str(args.max_fail_ratio),
        *classes,
    ]


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env.get("LOAD_HOST", ""), help="site to load (default: a stack)")
    parser.add_argument("--grpc-addr", default=env.get("LOAD_GRPC_ADDR", ""), help="host:port of gRPC API")
    parser.add_argument("--users", type=int, default=int(env.get("LOAD_USERS", "30")))
    parser.add_argument("--spawn-rate", type=float, default=float(env.get("LOAD_SPAWN_RATE", "10")))
    parser.add_argument("--run-time", default=env.get("LOAD_RUN_TIME", "60s"))
    parser.add_argument("--p95-ms", type=float, default=float(env.get("LOAD_P95_MS", "1000")))
    parser.add_argument("--max-fail-ratio", type=float, default=float(env.get("LOAD_MAX_FAIL_RATIO", "0.01")))
    parser.add_argument("--classes", default=env.get("LOAD_CLASSES", " ".join(USER_CLASSES)))
    parser.add_argument("--out", default=env.get("LOAD_OUT", str(ROOT / "build" / "load")))
    parser.add_argument("--name", default="load", help="file name stem of the reports")
    args = parser.parse_args(argv)

    classes = args.classes.split()
    unknown = sorted(set(classes) - set(USER_CLASSES) - set(EXTRA_CLASSES))
    if unknown:
        parser.error(f"unknown user classes {unknown}; choose from {', '.join(USER_CLASSES + EXTRA_CLASSES)}")
    Path(args.out).mkdir(parents=True, exist_ok=True)

    with target(args.host, args.grpc_addr, Path(args.out) / f"{args.name}-logs") as (host, grpc_addr):
        if "GrpcUser" in classes and not grpc_addr:
            print("load: no LOAD_GRPC_ADDR for this host: running without GrpcUser", flush=True)
            classes = [name for name in classes if name != "GrpcUser"]
        if not classes:
            print("load: no user class left to run", file=sys.stderr)
            return 2
        who = " ".join(classes)
        print(f"load: {args.users} users ({who}) against {host} for {args.run_time}", flush=True)
        command = locust_command(args, host, grpc_addr, classes)
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
    print(f"load: reports in {args.out}/{args.name}.html and {args.name}_stats.csv; exit {code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
