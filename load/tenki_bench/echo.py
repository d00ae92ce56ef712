"""A trivial gRPC echo server: the bare gRPC stack that tenki's weather service is compared with.

It runs on the same grpcio server with the same thread-pool size as `tenki serve`, but its one
method returns the request bytes untouched: no protobuf decoding, validation, cache, logging or
metrics. The benchmark sends a payload as large as a real GetCurrentWeatherResponse, so the bytes
on the wire match what the weather service sends back.

Run: python -m tenki_bench.echo --port N [--workers W]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc

SERVICE = "tenki.bench.v1.Echo"
METHOD = "Echo"
# The full method path a client calls (no .proto needed: requests and replies are raw bytes).
FULL_METHOD = f"/{SERVICE}/{METHOD}"


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request


def make_server(port: int, workers: int, host: str = "127.0.0.1") -> tuple[grpc.Server, int]:
    """A started echo server and the port it listens on (0 picks a free one)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    return server, bound


def echo_callable(channel: grpc.Channel) -> grpc.UnaryUnaryMultiCallable:
    """The client side of the echo method on `channel` (bytes in, bytes out)."""
    return channel.unary_unary(FULL_METHOD)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=16, help="server thread pool size")
    args = parser.parse_args(argv)
    server, port = make_server(args.port, args.workers)
    # The harness reads this one line to learn the port.
    print(f"listening 127.0.0.1:{port}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
