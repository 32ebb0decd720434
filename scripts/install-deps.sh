#!/usr/bin/env bash
# Installs what sunbridge needs to build, test and run on Debian 12, and nothing twice.
# Idempotent: packages already present are not touched; `apt-get update` runs at most once,
# and only when something is missing. Then the browser test's npm packages (pinned in
# tests/browser/package-lock.json), when they are not there yet.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev zlib1g-dev libsqlite3-dev sqlite3 libpq-dev postgresql-15 libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhowardhinnant-date-dev tzdata ca-certificates curl openssl
  prometheus libmosquitto-dev mosquitto
  chromium
  dpkg-dev lintian
  clang-19 libfuzzer-19-dev libclang-rt-19-dev
  lld
)
# Node may come from elsewhere than Debian (a nodesource nodejs carries its own npm and
# conflicts with Debian's): only when the commands are missing are Debian's installed.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages of the browser test (playwright-core) and of the conformance tests (an
# OpenAPI response validator), each pinned by its package-lock.json.
for dir in "$root/tests/browser" "$root/tests/conformance"; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in ${dir#$root/} (pinned)"
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  fi
done
