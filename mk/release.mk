# Release: one version (VERSION), the artefacts in dist/, and acceptance tests on those artefacts.
# `make dist` builds what ships; `make acceptance` installs only that into fresh virtualenvs (tox) and tests it.

DIST := dist
TENKI_VERSION := $(shell cat VERSION 2>/dev/null)
RELEASE_PACKAGES := tenki-proto tenki-weather tenki-frontend
# Services that ship as images, each with an SBOM (services/<name>/pyproject.toml is its root component).
SBOM_SERVICES := weather frontend
HELM ?= $(TOOLS)/bin/helm
# Upper bound of the whole tox run; it takes 2 to 3 minutes on 2 cores.
ACCEPTANCE_TIMEOUT ?= 15m
# The source tarball is dated by the released commit (UTC), not the build clock: the same commit always
# yields the same file name, and SOURCE_DATE_EPOCH makes the wheels byte-for-byte reproducible too.
RELEASE_EPOCH = $(shell git log -1 --format=%ct HEAD)
RELEASE_DATE = $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d HEAD)

.PHONY: version
version: ## Print tenki's version (the VERSION file, the one source of it)
	@python3 scripts/version.py show

.PHONY: version-check
version-check: ## Fail when a package, uv.lock or the chart states a version other than VERSION
	@python3 scripts/version.py check

.PHONY: dist
dist: $(SYNCED) version-check helm ## Build the release into dist/: wheels, sdists, chart, source tarball, SBOMs, SHA256SUMS
	@git diff --quiet HEAD -- || echo "warning: uncommitted changes; the source tarball holds HEAD only"
	rm -rf $(DIST) build/release && mkdir -p $(DIST) build/release
	@# uv builds each sdist, then the wheel from that sdist: a file missing from the sdist fails here.
	for pkg in $(RELEASE_PACKAGES); do \
	  SOURCE_DATE_EPOCH=$(RELEASE_EPOCH) $(UV) build --quiet --package $$pkg --out-dir $(DIST); \
	done
	@rm -f $(DIST)/.gitignore  # uv's marker; dist/ is ignored at the root and holds artefacts only
	$(HELM) package charts/tenki --destination $(DIST)
	git archive --format=tar.gz --prefix=tenki-$(TENKI_VERSION)/ \
	  --output=$(DIST)/tenki-$(TENKI_VERSION)-$(RELEASE_DATE).tar.gz HEAD
	@# One SBOM per service image: its locked third-party dependencies plus tenki-proto, ours.
	for svc in $(SBOM_SERVICES); do \
	  req=build/release/tenki-$$svc-requirements.txt; \
	  $(UV) export --quiet --frozen --no-dev --package tenki-$$svc --no-emit-workspace \
	    --format requirements-txt --output-file $$req; \
	  echo "tenki-proto==$(TENKI_VERSION)" >> $$req; \
	  PYTHONWARNINGS=ignore $(BIN)/cyclonedx-py requirements --pyproject services/$$svc/pyproject.toml \
	    --output-reproducible --schema-version 1.6 --outfile $(DIST)/tenki-$$svc-$(TENKI_VERSION).cdx.json $$req; \
	done
	$(MAKE) wheel-check
	cd $(DIST) && sha256sum -- * > SHA256SUMS
	@echo "dist/ (tenki $(TENKI_VERSION)):" && ls -1 $(DIST) | sed 's/^/  /'

.PHONY: wheel-check
wheel-check: $(SYNCED) ## Check the wheels in dist/ (check-wheel-contents: each holds its whole package tree)
	$(BIN)/check-wheel-contents --package proto/tenki $(DIST)/tenki_proto-*.whl
	$(BIN)/check-wheel-contents --package services/weather/src/tenki_weather $(DIST)/tenki_weather-*.whl
	$(BIN)/check-wheel-contents --package services/frontend/src/tenki_frontend $(DIST)/tenki_frontend-*.whl

.PHONY: acceptance
acceptance: $(SYNCED) chromium nginx dist ## Build dist/, then test only its wheels in fresh virtualenvs (tox, every local Python)
	cd $(DIST) && sha256sum --check --quiet SHA256SUMS
	@# Bounded as a whole (each test has pytest-timeout too): a hung install or service fails, never stalls CI.
	timeout --kill-after=30s $(ACCEPTANCE_TIMEOUT) $(BIN)/tox run --recreate
