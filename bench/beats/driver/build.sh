#!/usr/bin/env bash
# Builds the beat-tracking driver: the BeatTracking sources (without the libav* decoder and the cache) compiled with
# `swiftc -O` together with main.swift, features.swift and a stub decoder, so sweeps run without SwiftPM, FFmpeg or
# the test suite (docs/beats.md, "Seventh round"). The driver reads raw 32-bit float mono PCM at 22050 Hz (make it with
# `ffmpeg -i in.wav -ac 1 -ar 22050 -f f32le out.f32`) and prints one JSON line per file.
#
#   bench/beats/driver/build.sh [OUT]          # default: $TMPDIR/rendc-beats-driver/driver
#   BEATS_SOURCES=/other/worktree/Sources/BeatTracking bench/beats/driver/build.sh OUT   # another version's sources
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sources=${BEATS_SOURCES:-$here/../../../Sources/BeatTracking}
out=${1:-${TMPDIR:-/tmp}/rendc-beats-driver/driver}
mkdir -p "$(dirname "$out")"
files=()
for f in "$sources"/*.swift; do
    case $(basename "$f") in AudioDecoder.swift | BeatCache.swift) ;; *) files+=("$f") ;; esac
done
swiftc -O -module-name BeatTracking -parse-as-library -package-name rendc -suppress-warnings -o "$out" \
    "${files[@]}" "$here/stub.swift" "$here/main.swift" "$here/features.swift"
echo "$out"
