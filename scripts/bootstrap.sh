#!/usr/bin/env bash
# Sets up a working copy on a bare Debian/Ubuntu machine: the system libraries Qt
# needs (installed only when missing), a virtual environment .venv in the project
# root, and the project in editable mode. `bootstrap.sh test` adds the test and
# training extras (torch, onnx, pytest), strace (a test watches for network calls)
# and OpenCV's sample videos for the hardening tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
system_packages="libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3"
# Qt's X11 platform plugin (the window on a Linux desktop): without these it stops with "could not load the Qt
# platform plugin xcb" (libxcb-icccm4 and libxcb-keysyms1 were missing on a fresh machine here).
system_packages="$system_packages libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1"
system_packages="$system_packages libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1"
system_packages="$system_packages libxkbcommon-x11-0"
[ "$extras" = "test" ] && system_packages="$system_packages strace"
missing=""
for pkg in $system_packages; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing system packages:$missing" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$extras" = "test" ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
    ./scripts/ci_fetch_test_media.sh
else
    .venv/bin/python -m pip install -q -e .
fi
