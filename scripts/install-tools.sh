#!/usr/bin/env bash
# Installs what `make run` / `make test` need and skips whatever is already there, so it
# is cheap to call before every build. Everything comes from the Rust toolchain's own
# channels (rustup, cargo install), Debian's packages or npm: no prebuilt binaries from
# anywhere else, because this machine cannot fetch them.
#
#   scripts/install-tools.sh          web build tools (wasm32 target, trunk, wasm-bindgen, wasm-opt)
#   scripts/install-tools.sh --test   the above plus Chromium, ChromeDriver, brotli and axe-core
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

want_test=false
for arg in "$@"; do
  case "$arg" in
    --test) want_test=true ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
  esac
done

say() { printf '[install-tools] %s\n' "$*"; }

sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
fi
apt_updated=false
apt_update_once() {
  $apt_updated && return 0
  "${sudo[@]}" apt-get update -qq
  apt_updated=true
}

# --- Rust side -------------------------------------------------------------------------

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Trunk 0.21.x: Trunk.toml is written for it.
if ! trunk --version 2>/dev/null | grep -Eq '^trunk 0\.21\.'; then
  say "installing trunk 0.21.x"
  cargo install trunk --locked --version "~0.21"
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock, or the
# generated JS glue does not match the compiled wasm.
wbg_version=$(awk '
  $0 == "name = \"wasm-bindgen\"" { hit = 1; next }
  hit && /^version = / { gsub(/"/, "", $3); print $3; exit }
' Cargo.lock 2>/dev/null || true)
if [ -z "$wbg_version" ]; then
  say "no wasm-bindgen in Cargo.lock yet: not installing wasm-bindgen-cli"
elif ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wbg_version"; then
  say "installing wasm-bindgen-cli $wbg_version (matches Cargo.lock)"
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

if ! command -v cargo-nextest >/dev/null 2>&1 && $want_test; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

# --- Debian packages -------------------------------------------------------------------

# wasm-opt: the version Trunk.toml pins (`wasm_opt = "version_N"`). Debian's binaryen
# when that is the version Debian ships, else the `wasm-opt` crate, which builds the same
# binaryen release from source (0.N.x carries binaryen N).
wasm_opt_pin=$(sed -n 's/^wasm_opt *= *"version_\([0-9]*\)".*/\1/p' Trunk.toml 2>/dev/null | head -n 1)
have_wasm_opt() {
  if [ -n "$wasm_opt_pin" ]; then
    wasm-opt --version 2>/dev/null | grep -Eq "version $wasm_opt_pin( |\$)"
  else
    command -v wasm-opt >/dev/null 2>&1
  fi
}

# command -> package that provides it
declare -A debs=()
if ! have_wasm_opt; then
  debian_binaryen() { apt-cache policy binaryen 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p'; }
  debian_binaryen=$(debian_binaryen)
  if [ -z "$debian_binaryen" ]; then
    apt_update_once
    debian_binaryen=$(debian_binaryen)
  fi
  if [ -z "$wasm_opt_pin" ] || [ "$debian_binaryen" = "$wasm_opt_pin" ]; then
    debs[wasm-opt]=binaryen
  else
    say "installing wasm-opt $wasm_opt_pin (Trunk.toml) from source: Debian has ${debian_binaryen:-none}"
    cargo install wasm-opt --locked --version "~0.$wasm_opt_pin"
  fi
fi
if $want_test; then
  debs[chromium]=chromium
  debs[chromedriver]=chromium-driver
  debs[brotli]=brotli
fi

missing=()
for cmd in "${!debs[@]}"; do
  [ "$cmd" = wasm-opt ] || ! command -v "$cmd" >/dev/null 2>&1 || continue
  missing+=("${debs[$cmd]}")
done
# Without a CJK font the zh-CN screens render as empty boxes in test screenshots.
if $want_test && ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  missing+=(fonts-wqy-microhei)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ ${#sudo[@]} -eq 0 ]; then
    echo "need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# axe-core, the accessibility engine the browser tests inject into every screen
# (tests/e2e_screens.rs reads target/axe-core/node_modules/axe-core/axe.min.js). An exact
# version so a new release's rules cannot turn a run red by themselves; under target/ so
# neither node_modules nor a lockfile lands in the tree.
AXE_CORE_VERSION=4.10.3
axe_dir=target/axe-core
if $want_test && ! grep -qs "\"version\": \"$AXE_CORE_VERSION\"" "$axe_dir/node_modules/axe-core/package.json"; then
  if ! command -v npm >/dev/null 2>&1; then
    missing_npm=(nodejs npm)
    say "installing Debian packages: ${missing_npm[*]}"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing_npm[@]}"
  fi
  say "installing axe-core $AXE_CORE_VERSION into $axe_dir"
  mkdir -p "$axe_dir"
  npm install --prefix "$axe_dir" --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts "axe-core@$AXE_CORE_VERSION" >/dev/null
fi

say "ok: $(trunk --version), $(wasm-bindgen --version 2>/dev/null || echo 'wasm-bindgen n/a'), $(wasm-opt --version)"
