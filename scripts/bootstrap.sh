#!/usr/bin/env bash
# Sets up a working copy on a bare Debian/Ubuntu machine: the system libraries Qt
# needs (installed only when missing), a virtual environment .venv in the project
# root, and the project in editable mode. `bootstrap.sh test` adds the test and
# training extras (torch, onnx, pytest). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
qt_libs="libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3"
missing=""
for pkg in $qt_libs; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing system libraries for Qt:$missing" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$extras" = "test" ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q -e .
fi
