#!/usr/bin/env bash
# The one command that runs every test, on a fresh Debian 12 machine as root
# with nothing but the distribution's Python:
#   test bed (packages, libvirtd, guest) → virtual environments (.venv, and
#   .venv-core/<release> for the other supported ansible-core releases) →
#   build and install the collection tarball → two lanes side by side:
#     static lane (background): ansible-test sanity, ansible-lint, the docs
#       site and changelog, unit tests and sanity on every other ansible-core;
#     daemon lane (foreground): unit and integration tests against the real
#       libvirtd (through the installed tarball), the demo's steps on every
#       supported ansible-core, and the reliability suite (faults against a
#       private libvirtd of its own; it writes docs/reliability.md).
# The static lane touches no daemon, so nothing it does can disturb the
# integration tests; it only competes for the CPU. No test restarts the
# host's libvirtd. See tests/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
STARTED=$SECONDS

step "test bed"
bash tests/bed/setup.sh

step "virtual environments"
bash tests/venv.sh .venv requirements.txt
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
# The other ansible-core releases the collection supports ("RELEASE=PYTHON ...").
VIRTKIT_CORE_VENVS=$(bash tests/matrix/venvs.sh)
export VIRTKIT_CORE_VENVS
echo "ansible-core $(python -c 'import ansible.release as r; print(r.__version__)') in .venv; others: $VIRTKIT_CORE_VENVS"

WORK="$(mktemp -d /tmp/virtkit-tests.XXXXXX)"
STATIC_PID=
cleanup() {
    [ -z "$STATIC_PID" ] || kill "$STATIC_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

step "build and install the collection"
ansible-galaxy collection build --force --output-path "$WORK" "$ROOT" >/dev/null
ansible-galaxy collection install --force -p "$WORK/collections" "$WORK"/virtkit-virt-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
ansible-doc -t module virtkit.virt.host_info >/dev/null

static_lane() {
    set -e
    step "ansible-test sanity (ansible-core in .venv)"
    bash tests/sanity/run.sh
    step "ansible-lint (roles, playbooks, molecule scenarios, demo)"
    ansible-lint --offline roles playbooks extensions demo
    step "docs site and changelog"
    bash tests/docs/run.sh "$WORK/docs"
    local release python
    for item in $VIRTKIT_CORE_VENVS; do
        release=${item%%=*} python=${item#*=}
        step "ansible-core $release: unit tests and ansible-test sanity"
        PATH="$(dirname "$python"):$PATH" "$python" -m pytest -q -p no:cacheprovider tests/unit
        PATH="$(dirname "$python"):$PATH" bash tests/sanity/run.sh
    done
    step "static lane done"
}

step "static lane starts in the background (log: shown when it ends)"
static_lane > "$WORK/static.log" 2>&1 &
STATIC_PID=$!

step "unit and integration tests"
set +e
python -m pytest -rs --durations=20 tests/unit tests/integration tests/reliability "$@"
DAEMON_RC=$?
set -e

step "waiting for the static lane"
set +e
wait "$STATIC_PID"
STATIC_RC=$?
STATIC_PID=
set -e
cat "$WORK/static.log"

step "done in $(( (SECONDS - STARTED) / 60 )) min $(( (SECONDS - STARTED) % 60 )) s: integration lane rc=$DAEMON_RC, static lane rc=$STATIC_RC"
[ "$DAEMON_RC" = 0 ] && [ "$STATIC_RC" = 0 ]
