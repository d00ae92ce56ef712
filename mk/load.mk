# Load tests (Locust) and the side-by-side benchmark: the performance engineer's targets.
# `make load` loads LOAD_HOST, or a local stack it starts for the run and stops afterwards;
# a cluster passes its way in: make load LOAD_HOST=http://GATEWAY [LOAD_GRPC_ADDR=HOST:PORT].

LOAD_HOST ?=
LOAD_GRPC_ADDR ?=
LOAD_USERS ?= 30
LOAD_SPAWN_RATE ?= 10
LOAD_RUN_TIME ?= 60s
# The SLO: fail when more than LOAD_MAX_FAIL_RATIO of requests fail or p95 exceeds LOAD_P95_MS.
LOAD_P95_MS ?= 1000
LOAD_MAX_FAIL_RATIO ?= 0.01
LOAD_CLASSES ?= WebsiteUser ApiUser GrpcUser
LOAD_OUT ?= build/load

LOAD_RUN = $(PY) load/run_load.py --grpc-addr "$(LOAD_GRPC_ADDR)" --spawn-rate $(LOAD_SPAWN_RATE) \
  --p95-ms $(LOAD_P95_MS) --max-fail-ratio $(LOAD_MAX_FAIL_RATIO) --classes "$(LOAD_CLASSES)" --out $(LOAD_OUT)

.PHONY: load
load: $(SYNCED) ## Locust load test, headless; fails on >1% errors or p95 > LOAD_P95_MS (LOAD_HOST=... for a cluster)
	$(LOAD_RUN) --host "$(LOAD_HOST)" --users $(LOAD_USERS) --run-time $(LOAD_RUN_TIME) --name load

.PHONY: load-smoke
load-smoke: $(SYNCED) ## A 20-second load run against a local stack (CI), same SLO gate
	$(LOAD_RUN) --host "" --users 10 --run-time 20s --name smoke

.PHONY: load-abuse
load-abuse: $(SYNCED) ## load-smoke plus one abusive script (a new code twice a second): the others keep the SLO
	$(LOAD_RUN) --host "" --users 11 --run-time 20s --name abuse --classes "$(LOAD_CLASSES) AbusiveUser"

# The bench's settings (BENCH_ROUNDS, BENCH_SECONDS, ...) have their defaults in one place,
# load/tenki_bench/settings.py, beside the code that uses them and that also runs without make. So none is
# defined here: one set on make's command line or in the environment reaches the bench through the
# environment (make exports both), and a plain `make bench` runs with the module's defaults.
.PHONY: bench
bench: $(SYNCED) ## Benchmark tenki against the bare stack (wrk + a gRPC client); table + build/bench/results.json
	@scripts/apt-ensure.sh wrk=wrk
	cd load && ../$(PY) -m tenki_bench
