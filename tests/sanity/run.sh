#!/usr/bin/env bash
# ansible-test sanity on a copy of the working tree laid out as
# ansible_collections/virtkit/virt (ansible-test needs that path).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${VIRTKIT_SANITY_DIR:-$(mktemp -d /tmp/virtkit-sanity.XXXXXX)}"
DEST="$WORK/ansible_collections/virtkit/virt"
trap 'rm -rf "$WORK"' EXIT

# ansible-test fetches pip's bootstrap script from a host outside the package
# registries; give it our stand-in under the name it looks for.
PIP_VERSION="$(python3 - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)"
mkdir -p ~/.ansible/test/cache
cp "$ROOT/tests/sanity/get_pip_offline.py" ~/.ansible/test/cache/get_pip_"${PIP_VERSION//./_}".py

mkdir -p "$DEST"
# Tracked and untracked files as they are in the working tree (deleted ones left out).
(cd "$ROOT" && git ls-files -co --exclude-standard | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
    | tar -cf - -T - | tar -xf - -C "$DEST")
cd "$DEST"
ansible-test sanity --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --requirements "$@"
