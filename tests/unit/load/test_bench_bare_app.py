"""The bare page of bench rows 1, 2 and 12 weighs exactly as much as tenki's page it is compared with."""

from __future__ import annotations

import pytest
from tenki_bench import bare_app, echo


@pytest.mark.parametrize("page_bytes", [16_676, 20_001])
def test_bare_page_is_padded_to_the_size_of_tenkis_page(
    monkeypatch: pytest.MonkeyPatch, page_bytes: int
) -> None:
    monkeypatch.setenv("BENCH_PAGE_BYTES", str(page_bytes))
    page = bare_app.create_app().test_client().get("/bare")
    assert page.status_code == 200
    assert len(page.data) == page_bytes
    assert b"Mountain View" in page.data and page.data.rstrip().endswith(b"</html>")


def test_a_smaller_target_leaves_the_bare_page_unpadded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_PAGE_BYTES", "100")
    page = bare_app.create_app().test_client().get("/bare")
    assert len(page.data) > 100 and b"<!--" not in page.data


def test_row_12s_route_makes_two_echo_calls_and_serves_the_same_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, port = echo.make_server(0, 2)
    try:
        monkeypatch.setenv("BENCH_ECHO_ADDR", f"127.0.0.1:{port}")
        monkeypatch.setenv("BENCH_PAGE_BYTES", "20001")
        client = bare_app.create_app().test_client()
        twice = client.get("/bare-grpc-twice")
        assert twice.status_code == 200 and twice.data == client.get("/bare").data
    finally:
        server.stop(0)
