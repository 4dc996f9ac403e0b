#!/usr/bin/env bash
# Installs everything the project needs on a Debian machine with Python 3.11:
# the system packages (git, MariaDB, the headers mysqlclient builds against,
# PostgreSQL and Redis for the distributed demo and its test),
# Chromium for the UI screenshot tests, uv, and the locked Python environment in
# .venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
APT_PACKAGES=(git mariadb-server mariadb-client libmariadb-dev pkg-config gcc python3-venv chromium poppler-utils postgresql redis-server)
export UV_PYTHON_DOWNLOADS=never

say() { printf '==> %s\n' "$*"; }

python_bin() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11); on Debian 12: apt-get install python3" >&2
  exit 1
}

apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: please install: ${missing[*]} (or your system's equivalents of MariaDB, git and the MariaDB client headers)" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

PY=$(python_bin)
apt_install "${APT_PACKAGES[@]}"
if ! "$PY" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  apt_install python3-dev   # mysqlclient compiles against the Python headers
fi

UV=$(command -v uv || true)
if [ -z "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  if [ ! -x .local/tools/bin/uv ]; then
    say "installing uv $UV_VERSION into .local/tools"
    "$PY" -m venv .local/tools
    .local/tools/bin/pip install -q "uv==$UV_VERSION"
  fi
  UV=.local/tools/bin/uv
fi

say "syncing the locked Python environment into .venv"
"$UV" sync --frozen --python "$PY" --quiet
say "ready: $(.venv/bin/python -c 'import airflow; print("apache-airflow", airflow.__version__)')"
