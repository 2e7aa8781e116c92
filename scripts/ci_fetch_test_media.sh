#!/usr/bin/env bash
# Fetches the real sample videos that some hardening tests use, into a cache outside
# the repository (never committed): OpenCV's examples shipped in Debian's opencv-doc
# package (96 MB .deb, unpacked with dpkg-deb, not installed):
#   vtest.avi          PETS 2009 pedestrians, several walkers at once (multi-person case)
#   Megamind_bugy.avi  a deliberately damaged AVI (bad-input case)
# Tests that need them skip with a reason when they are absent.
# Destination: $GAITANON_TEST_MEDIA, else ~/.cache/gaitanon/test-media. Safe to run again.
set -euo pipefail

dest="${GAITANON_TEST_MEDIA:-${XDG_CACHE_HOME:-$HOME/.cache}/gaitanon/test-media}"
files="vtest.avi Megamind_bugy.avi"

have_all=1
for name in $files; do
    [ -s "$dest/$name" ] || have_all=0
done
[ "$have_all" = 1 ] && exit 0

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt's download user must be able to write there
cd "$work"
if ! apt-get download opencv-doc >/dev/null 2>&1; then
    $sudo_cmd apt-get update -qq
    apt-get download opencv-doc >/dev/null
fi
dpkg-deb --fsys-tarfile opencv-doc_*.deb \
    | tar -x --wildcards $(for name in $files; do echo "*/examples/data/$name"; done)
mkdir -p "$dest"
for name in $files; do
    cp "$(find . -name "$name" -print -quit)" "$dest/$name"
done
echo "ci_fetch_test_media: $files -> $dest" >&2
