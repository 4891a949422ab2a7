#!/usr/bin/env bash
# The demo: prepare this machine (the same bed the tests use: packages,
# libvirtd, the Debian 12 cloud image and the small test guest), make the
# virtual environment .venv from the distribution's Python, install the
# collection from this tree, run demo/site.yml against the local libvirtd
# (it makes a VM from the image, seeded by cloud-init, and an inventory file
# for it), then demo/guest.yml through that inventory (it logs in to the VM
# over SSH and shows what cloud-init did).
#   bash demo/run.sh            run the demo (again: nothing changes)
#   bash demo/run.sh --cleanup  remove what the demo created
# Env: VIRTKIT_DEMO_DIR (default /var/lib/virtkit-demo), VIRTKIT_BED_CACHE.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
STARTED=$SECONDS
bash tests/bed/setup.sh >/dev/null
bash tests/venv.sh .venv requirements.txt
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
DEST="${VIRTKIT_DEMO_COLLECTIONS:-/tmp/virtkit-demo-collections}"
DEMO_DIR="${VIRTKIT_DEMO_DIR:-/var/lib/virtkit-demo}"
BED="${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}"
ansible-galaxy collection build --force --output-path "$DEST" "$ROOT" >/dev/null
ansible-galaxy collection install --force -p "$DEST" "$DEST"/virtkit-virt-*.tar.gz >/dev/null
STATE=present
[ "${1:-}" = "--cleanup" ] && STATE=absent
export ANSIBLE_COLLECTIONS_PATH="$DEST" ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
# The modules run on this machine with the venv's Python (libvirt-python and
# lxml are in it); the inventory step's ansible-inventory is the venv's too.
ansible-playbook demo/site.yml -e "demo_state=$STATE" -e "demo_dir=$DEMO_DIR" -e "demo_bed=$BED" \
  -e "ansible_python_interpreter=$VIRTUAL_ENV/bin/python"
if [ "$STATE" = present ]; then
  # Through the inventory: the plugin lists the guests with the controller's
  # libvirt-python, Ansible logs in to the VM with the guest's own Python.
  ANSIBLE_PIPELINING=1 ansible-playbook -i "$DEMO_DIR/guests.virt.yml" demo/guest.yml
fi
echo "demo: done in $((SECONDS - STARTED)) s"
