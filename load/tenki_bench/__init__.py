"""tenki's side-by-side benchmark (`make bench`): tenki against the bare stack under it.

Run as `python -m tenki_bench` with load/ on sys.path (the Makefile does). Modules:
  harness    runs it all: settings -> servers -> rows -> results
  settings   the options, each with its BENCH_* variable and its one default
  servers    starts every server on free 127.0.0.1 ports (tenki through tenki_stack) and stops them
  rows       the steady rows 1-6 in interleaved rounds, and the cold path (row 7)
  results    results.json, the printed summary and the exit verdict
  echo       a trivial gRPC echo server (the bare gRPC stack: same server settings, no work)
  bare_app   a bare Flask app rendering a same-size page with constant data (rows 1 and 2)
  grpc_load  a bounded concurrent gRPC client (rows 5, 6 and 7)
  wrk        the HTTP load generator for every HTTP row (Debian's wrk, one setting for all)
  report     the result table, the ratios and the targets
  stats      one row's numbers (RowResult) and percentiles
"""

import sys
from pathlib import Path

# The shared homes this package imports from: scripts/ for tenki_stack (the services as processes and
# the OWM stand-in, shared with `make run` and the tests), load/ for postal_codes.
_LOAD_DIR = Path(__file__).resolve().parent.parent
for _home in (_LOAD_DIR.parent / "scripts", _LOAD_DIR):
    if str(_home) not in sys.path:
        sys.path.insert(0, str(_home))
