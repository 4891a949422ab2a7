#!/usr/bin/env bash
# One virtual environment per supported ansible-core release besides the one
# in .venv (requirements.txt), each with the modules' target requirements and
# pytest (tests/matrix/requirements.txt). Prints "RELEASE=PYTHON ..." for
# tests/run.sh; progress goes to stderr.
#   releases on the distribution's Python: VIRTKIT_CORE_RELEASES (default 2.17 2.18)
#   releases that need Python >= 3.12:    VIRTKIT_CORE_NEWER_RELEASES (default 2.20 2.21),
#     made only when VIRTKIT_PYTHON_NEWER names such a Python (Debian 12 has none)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
made=()
make_venv() {  # RELEASE PYTHON
    VIRTKIT_PYTHON=$2 bash tests/venv.sh ".venv-core/$1" tests/matrix/requirements.txt -- "ansible-core~=$1.0" >&2
    made+=("$1=$ROOT/.venv-core/$1/bin/python")
}
for release in ${VIRTKIT_CORE_RELEASES-2.17 2.18}; do
    make_venv "$release" "${VIRTKIT_PYTHON:-/usr/bin/python3}"
done
if [ -n "${VIRTKIT_PYTHON_NEWER:-}" ]; then
    for release in ${VIRTKIT_CORE_NEWER_RELEASES-2.20 2.21}; do
        make_venv "$release" "$VIRTKIT_PYTHON_NEWER"
    done
else
    echo "[matrix] ansible-core ${VIRTKIT_CORE_NEWER_RELEASES-2.20 2.21} not tested: they need Python >= 3.12," \
        "which Debian 12 does not have (set VIRTKIT_PYTHON_NEWER to one to test them)" >&2
fi
echo "${made[*]}"
