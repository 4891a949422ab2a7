#!/usr/bin/env bash
# Make (or bring up to date) a virtual environment from the distribution's
# Python, with the given requirements files:
#   bash tests/venv.sh DIR REQUIREMENTS... [-- EXTRA PIP SPECS...]
# Debian 12's /usr/bin/python3 refuses pip outside a virtual environment
# (PEP 668), so every Python tool the demo and the tests run lives in one.
# The environment is reused while its requirements are unchanged (a stamp
# holds their hash); a change re-runs pip in it, a broken one is remade.
# VIRTKIT_PYTHON picks another interpreter (default /usr/bin/python3: other
# Pythons on PATH, such as pyenv's, are not what a user has).
set -euo pipefail

die() { echo "[venv] ERROR: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: tests/venv.sh DIR REQUIREMENTS... [-- SPECS...]"
DIR=$1; shift
REQS=() SPECS=()
while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; SPECS=("$@"); break; fi
    REQS+=("$1"); shift
done
PYTHON=${VIRTKIT_PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || die "$PYTHON not found (install python3, or set VIRTKIT_PYTHON)"

stamp() {
    { "$PYTHON" -c 'import sys; print(sys.version)'; cat "${REQS[@]}"; printf '%s\n' "${SPECS[@]}"; } \
        | sha256sum | cut -d' ' -f1
}
WANT=$(stamp)
if [ -x "$DIR/bin/python" ] && "$DIR/bin/python" -c 'import sys' 2>/dev/null \
    && [ "$(cat "$DIR/.virtkit-stamp" 2>/dev/null)" = "$WANT" ]; then
    echo "[venv] $DIR is current"
    exit 0
fi
if [ ! -x "$DIR/bin/python" ] || ! "$DIR/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$DIR"
    echo "[venv] creating $DIR from $PYTHON ($("$PYTHON" --version))"
    "$PYTHON" -m venv "$DIR" || die "'$PYTHON -m venv' failed: on Debian, apt-get install python3-venv"
fi
rm -f "$DIR/.virtkit-stamp"
ARGS=()
for req in "${REQS[@]}"; do ARGS+=(-r "$req"); done
echo "[venv] installing ${REQS[*]} ${SPECS[*]} into $DIR"
"$DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${ARGS[@]}" "${SPECS[@]}"
echo "$WANT" > "$DIR/.virtkit-stamp"
