#!/bin/sh
# CPU of the loudness passes of a 60 s video whose music loops a short track (each pass runs the audio graph, which
# has one input per loop piece), for two rendc binaries in one run. Per binary and track, with one fresh cache: a
# first plan with `loop: false` analyses the beats and the level profile (cached, the same for both plans), then
# the plan with `loop: true` runs only the loudness passes of the looped graph (its own cache key); that second plan
# is timed. The template is a 160x288 colour and picture, so the video costs nothing.
# Usage: bench/audio/loop-cpu.sh BEFORE_RENDC AFTER_RENDC
set -eu
before=$1 after=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q="-hide_banner -loglevel error -y"
ffmpeg $q -f lavfi -i "color=c=red:s=64x64" -frames:v 1 "$work/red.png"
template() { # name, timing.audio
    printf 'name: %s\ncanvas: { width: 160, height: 288, fps: 30 }\ntiming:\n  audio: { %s }\nlayers:\n  - type: color\n    color: "#202020"\n  - type: media\n' \
        "$1" "$2" >"$work/$1.yaml"
}
template loop-true "loop: true"
template loop-false "loop: false"
template late-true "loop: true, start: 290"
template late-false "loop: false, start: 290"
run() { # binary label track loop: prints the CPU seconds (user + sys)
    /usr/bin/time -f "%U %S %M" -o "$work/time" env RENDC_SPECS_DIR="$root/specs" RENDC_CACHE_DIR="$work/cache-$2-$3" \
        "$1" plan -t "$work/$4.yaml" --image "$work/red.png" --audio "$work/$3" --duration 60 --summary >"$work/out" 2>&1 \
        || { cat "$work/out" >&2; exit 1; }
    read -r user sys rss <"$work/time"
    echo "  $2, $3, $4: user $user s, sys $sys s, peak RSS $((rss / 1024)) MB" >&2
    echo "$user $sys" | awk '{ print $1 + $2 }'
}
# A kick every 0.5 s (120 BPM) over a 220 Hz tone, 44.1 kHz stereo MP3: 4 s and 20 s looped from 0, and 300 s
# started at 290 s (10 s of it loop: every piece decoded the 290 s before its start).
for s in 4 20 300; do
    ffmpeg $q -f lavfi -i "aevalsrc='0.3*sin(2*PI*220*t)+0.6*sin(2*PI*60*t)*exp(-25*mod(t,0.5))':d=$s:s=44100" -ac 2 -c:a libmp3lame \
        -b:a 192k "$work/track-$s.mp3"
    t=loop; [ "$s" = 300 ] && t=late
    run "$before" before "track-$s.mp3" $t-false >/dev/null; b=$(run "$before" before "track-$s.mp3" $t-true)
    run "$after" after "track-$s.mp3" $t-false >/dev/null; a=$(run "$after" after "track-$s.mp3" $t-true)
    echo "$b $a" | awk -v s="$s" '{ printf "%s s track looped under 60 s, loudness passes (warm beats): before %.2f s CPU, after %.2f s: %.2fx less\n", s, $1, $2, $1 / $2 }'
done
