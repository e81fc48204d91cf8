#!/usr/bin/env bash
# Make the Solara app work offline: fill <venv>/share/solara/cdn/<package>@<version>/ with the
# JavaScript/CSS packages Solara (and the cityrisk app) would otherwise fetch from a public CDN
# at run time. Each package comes from the npm registry via `npm pack`; its tarball is unpacked
# with one folder level stripped (package/ -> <package>@<version>/).
#
# Usage: bash .ci/install_solara_assets.sh [PYTHON]   (default: .venv/bin/python of this repo)
# Idempotent: a package whose folder already holds its package.json is skipped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${1:-${PYTHON:-$here/.venv/bin/python}}"

# the same folder solara.server.settings.assets.proxy_cache_dir points to
cdn_dir="$("$py" -c 'from solara.server.settings import assets; print(assets.proxy_cache_dir)')"
solara_version="$("$py" -c 'import solara; print(solara.__version__)')"

# Packages solara 1.64.1 asks for (server/templates/solara.html.j2 and its components), plus
# echarts, which the cityrisk app's charts and map use (solara.FigureEcharts, echarts.vue).
packages=(
  "@widgetti/solara-vuetify-app@10.1.1"
  "@widgetti/solara-vuetify3-app@5.2.0"
  "requirejs@2.3.6"
  "font-awesome@4.5.0"
  "@widgetti/vue-grid-layout@2.3.13-alpha.2"
  "mermaid@10.8.0"
  "katex@0.16.9"
  "echarts@5.4.0"
)
case "$solara_version" in
  1.64.*) ;;
  *) echo "warning: asset list was made for solara 1.64.x, found $solara_version;" \
          "check server/templates/solara.html.j2 for the versions it asks for" >&2 ;;
esac

mkdir -p "$cdn_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for spec in "${packages[@]}"; do
  dest="$cdn_dir/$spec"
  if [[ -f "$dest/package.json" ]]; then
    echo "ok      $spec"
    continue
  fi
  echo "fetch   $spec"
  tgz="$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  tar -xzf "$tmp/$tgz" -C "$dest.partial" --strip-components=1
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -f "$tmp/$tgz"
done
echo "solara assets in $cdn_dir"
