#!/usr/bin/env bash
# Installs Debian/Ubuntu packages that are missing, for a fresh machine that has only python3, make and git.
# Usage: scripts/apt-ensure.sh COMMAND=PACKAGE [COMMAND=PACKAGE ...]
#   COMMAND is a program (or, with a leading "py:", a Python module) whose absence means PACKAGE is needed.
# As root it runs apt-get; otherwise it uses sudo when it can, or stops with a one-line instruction.
set -euo pipefail

missing=()
for pair in "$@"; do
  probe=${pair%%=*}
  pkg=${pair#*=}
  case "$probe" in
    py:*) python3 -c "import ${probe#py:}" >/dev/null 2>&1 || missing+=("$pkg") ;;
    *) command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "tenki needs these system packages: ${missing[*]} -- run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tenki needs these system packages and this is not a Debian/Ubuntu machine: ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
