"""The images carry the one version too: each Dockerfile takes it as a build argument and labels with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILES = [ROOT / "services/weather/Dockerfile", ROOT / "services/frontend/Dockerfile"]


def final_stage(text: str) -> str:
    """The instructions after the last FROM: what the shipped image is made of."""
    return re.split(r"^FROM\s", text, flags=re.MULTILINE | re.IGNORECASE)[-1]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_final_stage_labels_the_image_with_the_version_build_argument(dockerfile: Path) -> None:
    if not dockerfile.exists():
        pytest.skip(f"{dockerfile.relative_to(ROOT)} is not in this tree yet")
    stage = final_stage(dockerfile.read_text(encoding="utf-8"))
    # ARG must be declared in the stage that uses it: an ARG before the first FROM is not visible there.
    assert re.search(r"^ARG\s+VERSION\b", stage, re.MULTILINE), "the final stage declares no ARG VERSION"
    assert re.search(r"org\.opencontainers\.image\.version=\"?\$\{?VERSION\}?\"?", stage), (
        "the final stage does not label org.opencontainers.image.version with $VERSION"
    )


def test_skaffold_passes_the_version_file_to_every_image_build() -> None:
    skaffold = ROOT / "skaffold.yaml"
    if not skaffold.exists():
        pytest.skip("skaffold.yaml is not in this tree yet")
    import yaml

    documents = [d for d in yaml.safe_load_all(skaffold.read_text(encoding="utf-8")) if d]
    artifacts = [a for d in documents for a in (d.get("build") or {}).get("artifacts", [])]
    assert artifacts, "skaffold.yaml builds no image"
    for artifact in artifacts:
        build_args = (artifact.get("docker") or {}).get("buildArgs") or {}
        assert "VERSION" in build_args, f"{artifact.get('image')}: no VERSION build argument"
