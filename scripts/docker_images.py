#!/usr/bin/env python3
"""Build tenki's images (weather, frontend, proxy) with Docker: the daemon, the pinned bases (or stand-ins).

    docker_images.py build --uv-version 0.13.8 --version 0.1.0   # make images
    docker_images.py with-daemon --timeout 1800 -- CMD...         # make test-images: CMD with a daemon

The Dockerfiles are built as they are. Their bases are read from their FROM lines. A base missing locally
is pulled; when that fails (no registry is reachable from tenki's CI machines) a stand-in is built from
Debian packages and tagged with the pinned name:

- python:3.11.*-slim-bookworm: Debian bookworm (debootstrap, minbase) with Debian's python3.11, linked
  as /usr/local/bin/python3.11, its trust store replaced by this machine's CA bundle, SSL_CERT_FILE
  pointing at it (so uv reaches the package index through an intercepting proxy). The debootstrap result
  is cached in build/images/cache.
- ghcr.io/astral-sh/uv:X: one layer holding only /uv, the static (musl) binary of the PyPI wheel uv==X,
  sha256-checked.

Every stand-in carries the label org.tenki.stand-in, which the images built on it inherit.
Builds use the classic builder (DOCKER_BUILDKIT=0 unless set): BuildKit would pull the
`# syntax=docker/dockerfile:1` frontend image from Docker Hub, which is exactly what cannot be reached.
Only the Python standard library is used: this runs before any virtualenv exists if need be.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Each builds from services/<name>/Dockerfile; all three on the same Python base (the proxy installs nginx).
SERVICES = ("weather", "frontend", "proxy")
BUILD = ROOT / "build" / "images"
CACHE = BUILD / "cache"
STANDIN_LABEL = "org.tenki.stand-in"
# The daemon is started like this when none answers: no bridge, no iptables rules, no forwarding, so a
# container has the host's network (--network host) or none.
DOCKERD = ["dockerd", "--bridge=none", "--iptables=false", "--ip-forward=false"]
# Debian for the Python stand-in: the machine's own mirror is not assumed; deb.debian.org is Debian's.
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("TENKI_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What python:3.11-slim ships that the Dockerfiles (and tenki) use: Python 3.11 with its whole standard
# library, CA certificates, and groupadd/useradd (passwd).
DEBIAN_PACKAGES = ("python3.11", "ca-certificates", "passwd", "netbase", "tzdata")
# What debian:bookworm-slim (the official image's own base) tells dpkg to leave out.
SLIM_DPKG = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
path-exclude /usr/share/lintian/*
"""
# sha256 of the uv wheels the uv stand-in is made from (measured from the wheel PyPI serves;
# a new UV_VERSION needs its line).
UV_WHEELS = {
    "0.13.8": ("musllinux_1_1_x86_64", "29451c60f5e8b07403e0a175d5229efc36b0289b34143ff4aaa499a5dd52553a"),
}


def log(message: str) -> None:
    print(f"docker_images: {message}", flush=True)


def ca_bundle() -> Path:
    """The machine's CA bundle (SSL_CERT_FILE when set): the stand-in trusts what this machine trusts."""
    path = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    if not path.is_file():
        sys.exit(f"docker_images: no CA bundle at {path} (set SSL_CERT_FILE)")
    return path


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        sys.exit(f"docker_images: docker {' '.join(args[:3])} ... failed:\n{proc.stdout}{proc.stderr}")
    return proc


def daemon_answers() -> bool:
    try:
        return docker("version", "--format", "{{.Server.Version}}", timeout=15, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def daemon(log_path: Path = BUILD / "dockerd.log") -> Iterator[None]:
    """A Docker daemon for the duration: the one that answers, else one started here and stopped after."""
    if shutil.which("docker") is None or shutil.which("dockerd") is None:
        sys.exit("docker_images: no docker/dockerd: scripts/apt-ensure.sh dockerd=docker.io installs them")
    if daemon_answers():
        yield
        return
    if os.geteuid() != 0:
        sys.exit("docker_images: no Docker daemon answers and starting one needs root")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(DOCKERD, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    log(f"started dockerd (pid {proc.pid}; log {log_path.relative_to(ROOT)})")
    try:
        deadline = time.monotonic() + 60
        while not daemon_answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"docker_images: dockerd did not come up; see {log_path}")
            time.sleep(0.5)
        if proc.poll() is not None:  # lost a race: another daemon came up meanwhile; it is not ours to stop
            log(f"dockerd pid {proc.pid} exited ({proc.returncode}); using the daemon that answers")
        yield
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
            log(f"stopped dockerd (pid {proc.pid}, exit {proc.returncode})")


def dockerfile(service: str) -> Path:
    return ROOT / "services" / service / "Dockerfile"


def bases() -> list[str]:
    """Every external base image of the Dockerfiles (FROM lines that do not name an earlier stage)."""
    found: list[str] = []
    for service in SERVICES:
        stages: set[str] = set()
        for line in dockerfile(service).read_text().splitlines():
            match = re.match(r"\s*FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
            if match:
                if match.group(1) not in stages and match.group(1) not in found:
                    found.append(match.group(1))
                if match.group(2):
                    stages.add(match.group(2))
    return found


def image_exists(ref: str) -> bool:
    return docker("image", "inspect", ref, timeout=30, check=False).returncode == 0


def is_standin(ref: str) -> bool:
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", ref).stdout) or {}
    return STANDIN_LABEL in labels


def ensure_bases(uv_version: str) -> dict[str, str]:
    """Each base -> "local", "pulled", "local stand-in" or "stand-in" (built now, as the pull failed).

    A real base found locally is used as it is. Otherwise the pull comes first, also over a stand-in left
    by an earlier run (the real image replaces it once a registry answers); TENKI_IMAGE_BASES=standin
    skips the pull attempt.
    """
    mode = os.environ.get("TENKI_IMAGE_BASES", "auto")
    result: dict[str, str] = {}
    for ref in bases():
        present = image_exists(ref)
        if present and not is_standin(ref):
            result[ref] = "local"
            continue
        if mode != "standin":
            pulled = docker("pull", "--quiet", ref, timeout=600, check=False)
            if pulled.returncode == 0:
                result[ref] = "pulled"
                continue
            why = (pulled.stderr.strip().splitlines() or ["?"])[-1]
            log(f"cannot pull {ref} ({why})" + ("" if present else ": building a stand-in"))
        if present:
            result[ref] = "local stand-in"
            continue
        if ref.startswith("ghcr.io/astral-sh/uv:"):
            tag = ref.rsplit(":", 1)[1]
            if tag != uv_version:
                sys.exit(f"docker_images: the Dockerfiles pin uv {tag}, the Makefile {uv_version}")
            standin_uv(ref, uv_version)
        elif re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", ref):
            standin_python(ref)
        else:
            sys.exit(f"docker_images: no stand-in for {ref}")
        result[ref] = "stand-in"
    return result


def standin_python(ref: str) -> None:
    """Debian bookworm + python3.11 as `ref`: debootstrap's rootfs (cached), the machine's CA bundle."""
    inputs = (DEBIAN_SUITE, DEBIAN_MIRROR, DEBIAN_PACKAGES, SLIM_DPKG, 3)
    key = hashlib.sha256(repr(inputs).encode()).hexdigest()[:12]
    rootfs_tar = CACHE / f"debian-{DEBIAN_SUITE}-python3.11-{key}.tar"
    if not rootfs_tar.is_file():
        debootstrap(rootfs_tar)
    else:
        log(f"debootstrap result cached: {rootfs_tar.relative_to(ROOT)}")
    bundle = ca_bundle().read_bytes()
    description = (
        f"Debian {DEBIAN_SUITE} (debootstrap) with Debian's python3.11 as /usr/local/bin/python3.11 "
        "and this machine's CA bundle; not the official image"
    )
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        f'LABEL {STANDIN_LABEL}="{description}"',
        'CMD ["python3"]',
    ]
    log(f"importing {ref} (stand-in) from {rootfs_tar.name} with {ca_bundle()}")
    args = ["docker", "import"]
    for change in changes:
        args += ["--change", change]
    proc = subprocess.Popen([*args, "-", ref], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stdin is not None
    # The cached tree, with this machine's bundle in place of Debian's (read at every import, never cached).
    with tarfile.open(rootfs_tar) as src, tarfile.open(fileobj=proc.stdin, mode="w|") as dst:
        for member in src:
            if member.name.lstrip("./") == "etc/ssl/certs/ca-certificates.crt":
                member.size = len(bundle)
                member.type = tarfile.REGTYPE
                member.linkname = ""
                dst.addfile(member, io.BytesIO(bundle))
            else:
                dst.addfile(member, src.extractfile(member) if member.isreg() else None)
    proc.stdin.close()
    if proc.wait(timeout=300) != 0:
        sys.exit(f"docker_images: docker import {ref} failed")


def debootstrap(out: Path) -> None:
    # Installed only when a stand-in is really needed (Debian's package, like docker.io).
    ensure = ROOT / "scripts" / "apt-ensure.sh"
    subprocess.run([str(ensure), "debootstrap=debootstrap"], check=True, timeout=600)
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"debootstrap {DEBIAN_SUITE} ({', '.join(DEBIAN_PACKAGES)}) from {DEBIAN_MIRROR}")
        started = time.monotonic()
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}", DEBIAN_SUITE,
             str(rootfs), DEBIAN_MIRROR],
            check=True, timeout=1200, stdout=subprocess.DEVNULL,
        )
        # What the official image has: python3.11 (and python3, python) in /usr/local/bin.
        for name in ("python3.11", "python3", "python"):
            (rootfs / "usr/local/bin" / name).symlink_to("/usr/bin/python3.11")
        # Slim as Debian's -slim images are: no package caches, logs, docs (copyright kept), man pages or
        # translations, and dpkg told to leave them out of later installs too.
        for junk in ("var/cache/apt", "var/lib/apt/lists", "var/log", "usr/share/man", "usr/share/info",
                     "usr/share/locale", "usr/share/lintian"):
            for child in (rootfs / junk).rglob("*"):
                if child.is_file() or child.is_symlink():
                    child.unlink()
        for doc in (rootfs / "usr/share/doc").rglob("*"):
            if (doc.is_file() or doc.is_symlink()) and doc.name != "copyright":
                doc.unlink()
        (rootfs / "etc/dpkg/dpkg.cfg.d/slim").write_text(SLIM_DPKG)
        partial = out.with_suffix(".partial")
        subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."],
                       check=True, timeout=600)
        partial.rename(out)
        for stale in CACHE.glob("debian-*.tar"):  # results of other inputs: never read again
            if stale != out:
                stale.unlink()
        log(f"debootstrap done in {time.monotonic() - started:.0f} s: {out.relative_to(ROOT)}")


def standin_uv(ref: str, version: str) -> None:
    """`ref` = one layer with /uv: the static musl binary from the PyPI wheel uv==version (sha256-checked)."""
    if version not in UV_WHEELS:
        sys.exit(f"docker_images: no sha256 of the uv {version} wheel in UV_WHEELS")
    platform, sha256 = UV_WHEELS[version]
    dest = CACHE / "uv"
    dest.mkdir(parents=True, exist_ok=True)
    wheels = sorted(dest.glob(f"uv-{version}-*{platform}*.whl"))
    if not wheels:
        pip = ROOT / ".tools" / "bin" / "pip"
        subprocess.run(
            [str(pip) if pip.exists() else sys.executable, *([] if pip.exists() else ["-m", "pip"]),
             "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
             "--platform", platform, "--dest", str(dest), f"uv=={version}"],
            check=True, timeout=300,
        )
        wheels = sorted(dest.glob(f"uv-{version}-*{platform}*.whl"))
    data = wheels[0].read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        sys.exit(f"docker_images: {wheels[0].name}: sha256 {got}, expected {sha256}")
    binary = zipfile.ZipFile(io.BytesIO(data)).read(f"uv-{version}.data/scripts/uv")
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("uv")
        info.size, info.mode, info.mtime = len(binary), 0o755, 0
        tar.addfile(info, io.BytesIO(binary))
    description = f"/uv from the PyPI wheel {wheels[0].name}; not the official image"
    log(f"importing {ref} (stand-in) from {wheels[0].name}")
    subprocess.run(
        ["docker", "import", "--change", 'ENTRYPOINT ["/uv"]',
         "--change", f'LABEL {STANDIN_LABEL}="{description}"', "-", ref],
        input=layer.getvalue(), check=True, timeout=120, stdout=subprocess.DEVNULL,
    )


def build(version: str, uv_version: str) -> dict[str, object]:
    """Every image, tenki-<service>:<version>, from the Dockerfiles as they are; returns what was used."""
    used = ensure_bases(uv_version)
    env = {**os.environ, "DOCKER_BUILDKIT": os.environ.get("DOCKER_BUILDKIT", "0")}
    images: dict[str, dict[str, object]] = {}
    for service in SERVICES:
        # The classic builder leaves each builder stage behind as an untagged image: ours are the new ones.
        before = set(docker("images", "-q", "--no-trunc", "--filter", "dangling=true").stdout.split())
        tag = f"tenki-{service}:{version}"
        log(f"building {tag}")
        started = time.monotonic()
        proc = subprocess.run(
            ["docker", "build", "--network", "host", "--build-arg", f"VERSION={version}",
             "-f", str(dockerfile(service).relative_to(ROOT)), "-t", tag, "."],
            cwd=ROOT, env=env, timeout=1200, capture_output=True, text=True,
        )
        build_log = BUILD / f"build-{service}.log"
        build_log.parent.mkdir(parents=True, exist_ok=True)
        build_log.write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            sys.exit(f"docker_images: building {tag} failed (all of it: {build_log}):\n{proc.stdout[-6000:]}"
                     f"{proc.stderr[-3000:]}")
        after = set(docker("images", "-q", "--no-trunc", "--filter", "dangling=true").stdout.split())
        images[service] = {
            "tag": tag,
            "build_seconds": round(time.monotonic() - started, 1),
            "intermediate": sorted(after - before),
        }
        log(f"built {tag} in {images[service]['build_seconds']} s")
    standins = [ref for ref, how in used.items() if "stand-in" in how]
    if standins:
        log(f"built on stand-in bases (see README, 'Images'): {', '.join(standins)}")
    return {"bases": used, "images": images}


def with_daemon(command: list[str], timeout: float) -> int:
    """Run `command` with a daemon answering; afterwards remove the containers labelled with this run."""
    run_id = f"{os.getpid()}-{int(time.time())}"
    with daemon():
        env = {**os.environ, "TENKI_IMAGES_RUN": run_id}
        proc = subprocess.Popen(command, env=env)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{command[0]} ran out of its {timeout:.0f} s: stopping it")
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            code = 124
        # What a killed run could not clean up itself: only the containers of this run (by label).
        left = docker("ps", "-aq", "--filter", f"label=tenki.images-run={run_id}", check=False).stdout.split()
        if left:
            log(f"removing {len(left)} container(s) left by the run")
            docker("rm", "-f", *left, check=False)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the images (starting and stopping a daemon if none answers)")
    b.add_argument("--version", required=True)
    b.add_argument("--uv-version", required=True)
    w = sub.add_parser("with-daemon", help="run a command while a daemon answers")
    w.add_argument("--timeout", type=float, default=1800)
    w.add_argument("command", nargs="+")
    args = parser.parse_args()
    if args.cmd == "build":
        with daemon():
            result = build(args.version, args.uv_version)
        print(json.dumps(result, indent=2))
        return 0
    return with_daemon(args.command, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
