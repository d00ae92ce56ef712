"""Per-caller limits over real gRPC channels: the caller over its limit, another caller, the frontend's id."""

from __future__ import annotations

import grpc
from tenki.weather.v1 import weather_pb2
from weather_servers import DEADLINE, StartServer


def ask(client, code: str, client_id: str | None = None) -> tuple[grpc.StatusCode, str]:
    request = weather_pb2.GetCurrentWeatherRequest(postal_code=code, country_code="us")
    metadata = (("x-client-id", client_id),) if client_id else None
    try:
        client.stub.GetCurrentWeather(request, timeout=DEADLINE, metadata=metadata)
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def test_a_caller_over_its_limit_is_refused_and_others_are_not(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", GRPC_RATE_LIMIT_UPSTREAM="3/minute")
    answers = [ask(client, f"{10000 + n:05d}", "batch-job") for n in range(5)]
    ok, refused = grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED
    assert [code for code, _ in answers] == [ok] * 3 + [refused] * 2
    message = answers[-1][1]
    assert "'batch-job' is over its own limit" in message and "not the service's upstream budget" in message
    # Its cached places still answer; another caller (by id, or by its peer address) is unaffected.
    assert ask(client, "10000", "batch-job")[0] is grpc.StatusCode.OK
    assert ask(client, "20000", "dashboard")[0] is grpc.StatusCode.OK
    assert [ask(client, f"{30000 + n:05d}")[0] for n in range(3)] == [grpc.StatusCode.OK] * 3
    code, message = ask(client, "30009")
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "'127.0.0.1'" in message


def test_the_frontends_id_is_exempt(start_server: StartServer) -> None:
    client = start_server(WEATHER_PROVIDER="demo", GRPC_RATE_LIMIT_UPSTREAM="2/minute")
    codes = [ask(client, f"{40000 + n:05d}", "tenki-frontend")[0] for n in range(10)]
    assert codes == [grpc.StatusCode.OK] * 10
