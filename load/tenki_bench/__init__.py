"""tenki's side-by-side benchmark (`make bench`): tenki against the bare stack under it.

Run as `python -m tenki_bench` with load/ on sys.path (the Makefile does). Modules:
  echo       a trivial gRPC echo server (the bare gRPC stack: same server settings, no work)
  bare_app   a bare Flask app rendering a same-size page with constant data (rows 1 and 2)
  grpc_load  a bounded concurrent gRPC client (rows 5, 6 and 7)
  wrk        the HTTP load generator for every HTTP row (Debian's wrk, one setting for all)
  report     the result table, the ratios and the targets
  harness    starts every server on free 127.0.0.1 ports, runs the rows, stops everything
"""
