#!/usr/bin/env bash
# Build the vSphere simulator launcher (tests/bed/vcsim/*.go) that the ESX
# and vCenter tests start: govmomi's simulator (Debian's
# golang-github-vmware-govmomi-dev) patched where libvirt's esx driver needs
# what a real ESX answers. Called by setup.sh (under its lock); also runs alone.
#
# Go's module proxy is not reachable here: GOPATH mode against the Go
# sources Debian installs under /usr/share/gocode (about 35 s the first
# time). Rebuilt only when the recipe hash changes: the launcher's sources,
# this script, and the versions of Go and govmomi.
# Environment: VIRTKIT_BED_CACHE (default /var/cache/virtkit-bed).
set -euo pipefail

BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VIRTKIT_BED_CACHE:-/var/cache/virtkit-bed}
OUT=$CACHE/vcsim
GOPATH_DEBIAN=/usr/share/gocode

# shellcheck source=tests/bed/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v go >/dev/null || die "go not found: apt-get install golang-go golang-github-vmware-govmomi-dev"
[ -d "$GOPATH_DEBIAN/src/github.com/vmware/govmomi/simulator" ] \
    || die "govmomi's simulator not found under $GOPATH_DEBIAN: apt-get install golang-github-vmware-govmomi-dev"

recipe_hash() {
    {
        echo "vcsim-v1"
        go version
        dpkg-query -W -f='${Version}\n' golang-github-vmware-govmomi-dev 2>/dev/null || true
        cat "$BED_DIR/vcsim.sh" "$BED_DIR"/vcsim/*.go
    } | sha256sum | cut -d' ' -f1
}

main() {
    local hash tmp
    hash=$(recipe_hash)
    if [ -x "$OUT/vcsim-virtkit" ] && [ "$(cat "$OUT/recipe.sha256" 2>/dev/null)" = "$hash" ]; then
        log "vcsim: launcher is current ($OUT/vcsim-virtkit)"
        return
    fi
    log "vcsim: building the vSphere simulator launcher (GOPATH mode, about 35 s the first time)"
    mkdir -p "$OUT"
    rm -f "$OUT/recipe.sha256"
    tmp=$(mktemp -d "$OUT/.build.XXXXXX")
    # The sources sit outside any GOPATH: GOPATH mode builds them as a
    # local package and finds govmomi and its dependencies in Debian's tree.
    cp "$BED_DIR"/vcsim/*.go "$tmp/"
    (cd "$tmp" && GOPATH=$GOPATH_DEBIAN GO111MODULE=off GOFLAGS="" GOCACHE="$OUT/gocache" \
        go build -o "$tmp/vcsim-virtkit" .) \
        || { rm -rf "$tmp"; die "go build of tests/bed/vcsim failed"; }
    mv -f "$tmp/vcsim-virtkit" "$OUT/vcsim-virtkit"
    rm -rf "$tmp"
    echo "$hash" > "$OUT/recipe.sha256"
    log "vcsim: built $OUT/vcsim-virtkit"
}

main "$@"
