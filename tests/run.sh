#!/usr/bin/env bash
# The one command that runs every test, on a fresh Debian 12 machine as root:
# test bed (packages, libvirtd, guest) → Python requirements → build and
# install the collection tarball → unit tests, ansible-test sanity,
# integration tests against the real daemon (through the installed tarball).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

step "test bed"
bash tests/bed/setup.sh

step "Python requirements"
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt

WORK="$(mktemp -d /tmp/virtkit-tests.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

step "build and install the collection"
ansible-galaxy collection build --force --output-path "$WORK" "$ROOT" >/dev/null
ansible-galaxy collection install --force -p "$WORK/collections" "$WORK"/virtkit-virt-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
ansible-doc -t module virtkit.virt.host_info >/dev/null

step "ansible-test sanity"
bash tests/sanity/run.sh

step "ansible-lint (roles, playbooks, molecule scenarios, demo)"
ansible-lint --offline roles playbooks extensions demo

step "unit and integration tests"
python3 -m pytest -rs tests/unit tests/integration "$@"
