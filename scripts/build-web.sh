#!/usr/bin/env bash
# Builds the three web bundles into dist/ (member app at /, staff app at /staff/, points
# mall at /mall/).
# Usage: scripts/build-web.sh [--debug]     (release by default)
# The commands are the ones documented at the top of Trunk.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

release=(--release)
if [[ "${1:-}" == "--debug" ]]; then
  release=()
fi

# The tool versions Trunk.toml pins; Trunk itself refuses others when offline, but says so
# less clearly.
opt_pin=$(sed -n 's/^wasm_opt *= *"version_\([0-9]*\)".*/\1/p' Trunk.toml | head -n 1)
wbg_pin=$(sed -n 's/^wasm_bindgen *= *"\([0-9.]*\)".*/\1/p' Trunk.toml | head -n 1)
need() {
  echo "build-web: $1" >&2
  echo "  (scripts/install-tools.sh installs them) or by hand:" >&2
  echo "  trunk:        cargo install trunk --locked --version '~0.21'" >&2
  echo "  wasm-bindgen: cargo install wasm-bindgen-cli --locked --version '=$wbg_pin'" >&2
  echo "  wasm-opt:     cargo install wasm-opt --locked --version '~0.$opt_pin'" >&2
  exit 1
}
for tool in trunk wasm-bindgen wasm-opt; do
  command -v "$tool" >/dev/null 2>&1 || need "'$tool' not found on PATH"
done
# Debian's binaryen 108 breaks wasm-bindgen's externref table (see Trunk.toml): check the
# pinned version here rather than ship an app that cannot start.
wasm-opt --version | grep -Eq "version $opt_pin( |\$)" ||
  need "wasm-opt $opt_pin required, found: $(wasm-opt --version) ($(command -v wasm-opt))"
wasm-bindgen --version | grep -qx "wasm-bindgen $wbg_pin" ||
  need "wasm-bindgen $wbg_pin required, found: $(wasm-bindgen --version)"

# `erase_components` makes Leptos type-erase component views: about 2 KB less compressed
# wasm for the member bundle (budget: 120 KB brotli for the first load). It only applies
# to the wasm32 target, not to build scripts or proc macros.
export RUSTFLAGS="${RUSTFLAGS:-} --cfg erase_components"

# Order matters: the member build empties dist/ first.
trunk build "${release[@]}" --offline=true
trunk build "${release[@]}" --offline=true staff.html --dist dist/staff --public-url /staff/
trunk build "${release[@]}" --offline=true mall.html --dist dist/mall --public-url /mall/

# Precompressed copies for the server's ServeDir (it prefers .br, then .gz). Brotli at
# quality 11 is what the member budget is measured with; compressing on the fly uses a
# fast setting that makes the first load ~20 KB bigger.
while IFS= read -r -d '' f; do
  gzip -9 -k -f -n "$f"
  if command -v brotli >/dev/null 2>&1; then
    brotli -q 11 -k -f "$f"
  fi
done < <(find dist -type f \( -name '*.html' -o -name '*.js' -o -name '*.wasm' -o -name '*.css' \
  -o -name '*.svg' -o -name '*.webmanifest' \) -print0)
command -v brotli >/dev/null 2>&1 ||
  echo "build-web: warning: no brotli CLI (apt-get install brotli): only .gz precompressed" >&2

echo "build-web: dist/index.html (member), dist/staff/index.html (staff) and dist/mall/index.html (mall) ready"
