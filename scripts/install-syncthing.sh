#!/bin/sh
# Installs Debian's `syncthing` for the comparison in bench/syncthing.ts.
# Only Debian's own mirror is contacted (apt-get); exits non-zero with the reason when it cannot.
set -u

fail () {
  echo "install-syncthing: $*" >&2
  exit 1
}

if command -v syncthing >/dev/null 2>&1; then
  echo "install-syncthing: already installed: $(syncthing --version 2>/dev/null | head -n 1)"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not a Debian-like system)"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    fail "needs root (or password-less sudo) to run apt-get"
  fi
else
  SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive

# The package lists may be missing (slim images) or stale: update them when the package is unknown.
if ! apt-cache show syncthing >/dev/null 2>&1; then
  $SUDO apt-get update -q || fail "apt-get update failed"
  apt-cache show syncthing >/dev/null 2>&1 || fail "no syncthing package in the configured Debian sources"
fi
# --no-install-recommends: the daemon is all the benchmark needs.
$SUDO apt-get install -y -q --no-install-recommends syncthing \
  || fail "apt-get install syncthing failed"
command -v syncthing >/dev/null 2>&1 || fail "syncthing is not on PATH after installing it"
echo "install-syncthing: installed $(syncthing --version 2>/dev/null | head -n 1)"
