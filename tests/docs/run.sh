#!/usr/bin/env bash
# The docs site and the changelog checks, warnings as errors:
#   bash tests/docs/run.sh [OUTDIR]      (default: tests/output/docs)
# with the tools of requirements.txt on PATH (a venv's bin first). It
#  - lints the changelog fragments and changelogs/changelog.yaml, and checks
#    that CHANGELOG.rst is what changelogs/changelog.yaml generates;
#  - lints the modules', plugins' and roles' own documentation
#    (antsibull-docs lint-collection-docs --plugin-docs);
#  - builds the HTML site into OUTDIR/html: antsibull-docs writes the pages of
#    the modules, plugins and roles and the changelog's, the guides of
#    docs/*.md come in through their wrappers in docs/docsite/rst (MyST reads
#    the Markdown), and Sphinx renders it all with warnings as errors.
# It reads the collection as it is in this checkout and fetches nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/tests/docs"
OUT="$(realpath -m "${1:-$ROOT/tests/output/docs}")"
WORK="$(mktemp -d /tmp/virtkit-docs.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS
step() { printf -- '--- docs: %s (%ss)\n' "$*" "$((SECONDS - START))"; }

# The checkout is the collection ansible-doc finds, and the only one.
mkdir -p "$WORK/collections/ansible_collections/virtkit"
COLL="$WORK/collections/ansible_collections/virtkit/virt"
ln -s "$ROOT" "$COLL"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

step "changelog (antsibull-changelog lint)"
(cd "$ROOT" && antsibull-changelog lint)
antsibull-changelog lint-changelog-yaml --strict "$ROOT/changelogs/changelog.yaml"
# CHANGELOG.rst must be what changelogs/changelog.yaml generates (run
# `antsibull-changelog generate` after editing changelog.yaml).
cp -a "$ROOT/changelogs" "$ROOT/galaxy.yml" "$WORK/"
(cd "$WORK" && antsibull-changelog generate --output "$WORK/CHANGELOG.rst" >/dev/null)
if ! diff -u "$ROOT/CHANGELOG.rst" "$WORK/CHANGELOG.rst"; then
    echo "CHANGELOG.rst is not what changelogs/changelog.yaml generates: run antsibull-changelog generate" >&2
    exit 1
fi

step "guides"
# Every guide is in the site: docs/NAME.md has its wrapper docs/docsite/rst/NAME.rst
# (which extra-docs.yml lists; Sphinx fails on a wrapper left out of it).
for guide in "$ROOT"/docs/*.md; do
    name="$(basename "$guide" .md)"
    if [ ! -f "$ROOT/docs/docsite/rst/$name.rst" ]; then
        echo "docs/$name.md has no wrapper docs/docsite/rst/$name.rst (see docs/docsite/extra-docs.yml)" >&2
        exit 1
    fi
done

step "plugin and role docs (antsibull-docs lint-collection-docs)"
# The linter also parses the extra docs, with plain docutils, which cannot run
# the wrappers' MyST include: it lints a copy of the checkout's files without
# docs/ (the Sphinx build below checks the guides and their wrappers).
LINT="$WORK/lint/ansible_collections/virtkit/virt"
mkdir -p "$LINT"
(cd "$ROOT" && git ls-files -co --exclude-standard -- . ':!docs' \
    | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
    | tar -cf - -T - | tar -xf - -C "$LINT")
antsibull-docs lint-collection-docs --plugin-docs \
    --validate-collection-refs all --disallow-unknown-collection-refs "$LINT"

step "pages (antsibull-docs collection)"
REPOSITORY="$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["repository"])' "$ROOT/galaxy.yml")"
cat > "$WORK/antsibull-docs.cfg" <<EOF
breadcrumbs = true
indexes = true
use_html_blobs = false
add_antsibull_docs_version = true
# Not on Galaxy: the collection's repository, and the tarball built from it (README.md).
collection_url = {
  virtkit.virt = "$REPOSITORY"
}
collection_install = {
  virtkit.virt = "ansible-galaxy collection build && ansible-galaxy collection install virtkit-virt-*.tar.gz"
}
EOF
mkdir -m 700 "$WORK/rst"  # antsibull-docs wants its output directory writable by itself only
antsibull-docs --config-file "$WORK/antsibull-docs.cfg" collection --use-current --squash-hierarchy \
    --fail-on-error --dest-dir "$WORK/rst" virtkit.virt >/dev/null
# The guides beside their wrappers, which include them (conf.py reads only the wrappers).
cp "$ROOT"/docs/*.md "$WORK/rst/docsite/"
# ansible-core's pages that the pages link to, for intersphinx, instead of fetching it.
python3 "$HERE/ansible_core_inventory.py" "$WORK/ansible_devel.inv"

step "site (Sphinx, warnings as errors)"
rm -rf "$OUT/html"
mkdir -p "$OUT"
sphinx-build -q -b html -c "$HERE" -d "$WORK/doctrees" -W --keep-going "$WORK/rst" "$OUT/html"

step "done"
echo "docs site: $OUT/html/index.html"
