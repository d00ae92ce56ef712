"""The images carry the one version too: each Dockerfile takes it as a build argument and labels with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILES = [ROOT / f"services/{name}/Dockerfile" for name in ("weather", "frontend", "proxy")]


def final_stage(text: str) -> str:
    """The instructions after the last FROM: what the shipped image is made of."""
    return re.split(r"^FROM\s", text, flags=re.MULTILINE | re.IGNORECASE)[-1]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_final_stage_labels_the_image_with_the_version_build_argument(dockerfile: Path) -> None:
    stage = final_stage(dockerfile.read_text(encoding="utf-8"))
    # ARG must be declared in the stage that uses it: an ARG before the first FROM is not visible there.
    assert re.search(r"^ARG\s+VERSION\b", stage, re.MULTILINE), "the final stage declares no ARG VERSION"
    assert re.search(r"org\.opencontainers\.image\.version=\"?\$\{?VERSION\}?\"?", stage), (
        "the final stage does not label org.opencontainers.image.version with $VERSION"
    )


def test_skaffold_passes_the_version_file_to_every_image_build() -> None:
    documents = [d for d in yaml.safe_load_all((ROOT / "skaffold.yaml").read_text(encoding="utf-8")) if d]
    artifacts = [a for d in documents for a in (d.get("build") or {}).get("artifacts", [])]
    assert {a.get("image") for a in artifacts} == {"tenki-weather", "tenki-frontend", "tenki-proxy"}
    for artifact in artifacts:
        build_args = (artifact.get("docker") or {}).get("buildArgs") or {}
        # skaffold fills the template from the environment that `make deploy` sets from VERSION.
        assert ".TENKI_VERSION" in str(build_args.get("VERSION", "")), f"{artifact['image']}: {build_args}"
    deploy = (ROOT / "mk/deploy.mk").read_text(encoding="utf-8")
    assert re.search(r'TENKI_VERSION="\$\$\(cat VERSION\)"[\s\\]*skaffold run', deploy), (
        "make deploy does not run skaffold with TENKI_VERSION from the VERSION file"
    )
