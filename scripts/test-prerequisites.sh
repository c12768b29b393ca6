#!/bin/sh
# Installs the Debian packages the test suite needs and npm cannot provide, so that
# `npm ci && npm test` works on a fresh Debian 12 machine with no other step (npm runs this as
# `pretest`). Nothing is installed when everything is present.
#   chromium        the browser tests drive it through playwright-core (no browser download)
#   docker-compose  validates docker-compose.yml without a Docker engine (`docker-compose config`)
#   faketime        `npm run test:future` runs the protocol and interop suites a year ahead
#   softhsm2        the PKCS#11 key store tests run against a SoftHSM2 token (test/protocol/vci/pkcs11.test.ts)
#   build-essential, python3
#                   node-gyp builds the optional pkcs11js binding; when `npm ci` skipped it (no compiler
#                   then), it is built here after the packages are in place
set -eu

# The PKCS#11 binding is an optional dependency: `npm ci` leaves it out where it cannot compile.
pkcs11js() {
  node -e "require('pkcs11js')" >/dev/null 2>&1 && return 0
  version=$(node -p "require('./package.json').optionalDependencies.pkcs11js")
  echo "test prerequisites: building pkcs11js $version (node-gyp)" >&2
  npm install --no-save --no-audit --no-fund "pkcs11js@$version" >/dev/null
}

missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing="$missing docker-compose"
command -v faketime >/dev/null 2>&1 || missing="$missing faketime"
[ -e /usr/lib/softhsm/libsofthsm2.so ] || missing="$missing softhsm2"
if ! node -e "require('pkcs11js')" >/dev/null 2>&1; then
  { command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1; } || missing="$missing build-essential"
  command -v python3 >/dev/null 2>&1 || missing="$missing python3"
fi
if [ -z "$missing" ]; then
  pkcs11js
  exit 0
fi

command_line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test prerequisites missing:$missing" >&2
  echo "install them with: sudo $command_line" >&2
  exit 1
fi

echo "test prerequisites: installing$missing (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  if apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; then
    pkcs11js
    exit 0
  fi
  echo "test prerequisites: apt-get failed (attempt $attempt of 3)" >&2
  sleep 5
done
echo "test prerequisites: could not install$missing; run: $command_line" >&2
exit 1
