# Container images, for real: `make images` builds both from their Dockerfiles; `make test-images` builds
# them and runs each with the container settings the chart renders (tests/images), then removes them.
# Docker is Debian's docker.io (probed by dockerd: a bare docker CLI is no engine). A daemon that answers
# is used; else scripts/docker_images.py starts one (bridge networking off) and stops that one afterwards.
# Bases that cannot be pulled get stand-ins made from Debian packages: see README, "Images".

IMAGES_VERSION := $(shell cat VERSION 2>/dev/null)
DOCKER_IMAGES := python3 scripts/docker_images.py
# Upper bound of the whole test run (each test has its own pytest timeout too). On 2 cores a cold run
# (docker.io and debootstrap installed, debootstrap, both builds) takes ~70 s, a warm one ~25 s.
IMAGES_TIMEOUT ?= 1200

.PHONY: docker-tools
docker-tools:
	@scripts/apt-ensure.sh dockerd=docker.io docker=docker.io

.PHONY: images
images: $(UV) docker-tools ## Build tenki-weather, tenki-frontend and tenki-proxy (tagged VERSION); stand-in bases if unpullable
	$(DOCKER_IMAGES) build --version $(IMAGES_VERSION) --uv-version $(UV_VERSION)

.PHONY: test-images
test-images: $(SYNCED) helm docker-tools ## Build the images, run them as the chart says, check probes/pages/metrics/logs/SIGTERM
	PATH="$(dir $(HELM)):$$PATH" $(DOCKER_IMAGES) with-daemon --timeout $(IMAGES_TIMEOUT) -- \
	  $(PYTEST) tests/images -p no:cacheprovider
