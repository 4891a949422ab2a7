#!/usr/bin/env bash
# The demo: prepare this machine (the same bed the tests use: packages,
# libvirtd, the small test guest), make the virtual environment .venv from
# the distribution's Python, install the collection from this tree, and run
# demo/site.yml against the local libvirtd.
#   bash demo/run.sh            run the demo (again: nothing changes)
#   bash demo/run.sh --cleanup  remove what the demo created
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tests/bed/setup.sh >/dev/null
bash tests/venv.sh .venv requirements.txt
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
DEST="${VIRTKIT_DEMO_COLLECTIONS:-/tmp/virtkit-demo-collections}"
ansible-galaxy collection build --force --output-path "$DEST" "$ROOT" >/dev/null
ansible-galaxy collection install --force -p "$DEST" "$DEST"/virtkit-virt-*.tar.gz >/dev/null
STATE=present
[ "${1:-}" = "--cleanup" ] && STATE=absent
# The modules run on this machine with the venv's Python (libvirt-python and
# lxml are in it); the inventory step's ansible-inventory is the venv's too.
ANSIBLE_COLLECTIONS_PATH="$DEST" ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
  ansible-playbook demo/site.yml -e "demo_state=$STATE" \
  -e "ansible_python_interpreter=$VIRTUAL_ENV/bin/python"
