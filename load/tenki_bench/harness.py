"""`make bench`: tenki side by side with the bare stack under it, in one run on one machine.

Every server binds 127.0.0.1 on a free port and is stopped at the end; every row is bounded in
time. HTTP rows use one load generator with one setting (wrk, see wrk.py); gRPC rows use one
client (grpc_load.py). Each steady row is measured in BENCH_ROUNDS rounds, interleaved with the
other rows so that a burst of foreign load on this shared machine hits every row alike; the best
round counts (noise only ever slows a run down). Around each measured run the harness also reads
the CPU time the servers of that row used (psutil), so every row reports server CPU per request: on
a machine shared with other work, that is the steadier measure of what tenki's own code costs.

Rows:
  1 bare Flask: a same-size page from constant data, under the frontend's gunicorn config
  2 the same route making one unary call to a trivial gRPC echo server
  3 tenki weather page with the forecast (two gRPC calls at once), cache hit
  4 tenki JSON API (the current weather), cache hit
  5 bare gRPC echo, called directly         6 tenki GetCurrentWeather, cache hit, called directly
  7 the cold path: K distinct codes, each asked by several callers at once, against the OWM
    stand-in with a fixed latency; the stand-in counts the upstream calls, which must equal K.
  8 GetCurrentWeather cache hit with the shared cache: two more weather processes sharing one Redis
    (REDIS_URL), the calls spread over both (round robin); its server CPU per call against row 6's
    (target: at most 1.1 times, as the near cache answers without a round trip)
  9 row 7's cold path through those two processes: upstream calls must still equal K (single flight
    across replicas)
  10, 11 rows 3 and 6 on a second tenki tracing every request
  12 row 2 with two echo calls at once (the second as large as a GetForecastResponse): the bare twin of
    row 3, which asks for the weather and the forecast

The parts: settings.py (the options and their defaults), servers.py (start and stop every server),
rows.py (the rows and their rounds), results.py (results.json, the summary, the verdict).
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import results, rows, servers
from .settings import Settings, parse


def run(settings: Settings) -> dict[str, Any]:
    settings.out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as exits:
        running = servers.start(exits, settings.out)
        upstream_before = running.standin.request_count
        best, all_rounds = rows.run_rounds(rows.steady_rows(settings, running), settings.rounds)
        upstream_during_hits = running.standin.request_count - upstream_before
        for row in (3, 4, 6):
            best[row].extra["upstream_calls_during_row"] = upstream_during_hits
        best[1].extra["page_bytes"] = running.bare_bytes
        best[3].extra["page_bytes"] = running.page_bytes
        best[5].extra["payload_bytes"] = running.reply_bytes

        spans = running.receiver.span_count
        traced_requests = sum(r.get("requests", 0) for row in (10, 11) for r in all_rounds.get(row, []))
        print(f"bench: row 7: {settings.cold_codes} codes x {settings.cold_callers} callers at once ...")
        best[7] = rows.cold_row(settings, running.weather.addr, running.standin)
        print("bench: row 9: the same through two processes sharing Redis ...")
        best[9] = rows.cold_row(settings, running.shared_target, running.standin, 9, " (2 procs)")

    document = results.assemble(
        settings, best, all_rounds, workers=running.workers,
        page_bytes={"bare": running.bare_bytes, "tenki": running.page_bytes},
        upstream_during_hits=upstream_during_hits,
    )
    # Warm-ups are traced too; the spans that reached the receiver, against the measured requests.
    document["tracing"] = {"rows": rows.tracing_cost(best), "spans_received": spans,
                           "measured_traced_requests": traced_requests}
    return document


def main(argv: list[str] | None = None) -> int:
    settings = parse(argv)
    outcome = run(settings)
    path = results.save(outcome, settings.out)
    results.print_results(outcome)
    print(f"\nbench: results saved to {path}")
    return 1 if results.failed(outcome, settings.strict) else 0
