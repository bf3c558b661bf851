#!/usr/bin/env bash
# Fetches the real-music beat benchmark (bench/beats/corpus.tsv): downloads the Debian music packages it names with
# `apt-get download` (no install, no root needed for that step), unpacks them with dpkg-deb and cuts each 30 s excerpt
# to a 44.1 kHz stereo WAV with the ffmpeg CLI. No audio is committed; everything goes under DIR.
#
#   scripts/beats-music.sh [DIR]      # default: $BEATS_MUSIC_DIR or $TMPDIR/rendc-beats-music
#
# Afterwards DIR/excerpts/<id>.wav exists for every corpus line. Safe to run again (skips what is there).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${BEATS_MUSIC_DIR:-${TMPDIR:-/tmp}/rendc-beats-music}}
corpus=bench/beats/corpus.tsv
mkdir -p "$dir/debs" "$dir/root" "$dir/excerpts"

packages=$(grep -v '^#' "$corpus" | cut -f2 | sort -u)
for p in $packages; do
    if ! ls "$dir/debs/${p}_"*.deb >/dev/null 2>&1; then
        echo "beats-music: downloading $p" >&2
        (cd "$dir/debs" && apt-get download -q "$p" >/dev/null) || {
            echo "beats-music: cannot download $p (run 'apt-get update' first?)" >&2
            exit 1
        }
    fi
    stamp="$dir/root/.$p"
    if [ ! -e "$stamp" ]; then
        dpkg-deb -x "$dir/debs/${p}_"*.deb "$dir/root"
        touch "$stamp"
    fi
done

grep -v '^#' "$corpus" | while IFS=$'\t' read -r id package file start style; do
    out="$dir/excerpts/$id.wav"
    [ -s "$out" ] && continue
    ffmpeg -nostdin -v error -y -ss "$start" -t 30 -i "$dir/root/$file" -ac 2 -ar 44100 "$out.tmp.wav"
    mv "$out.tmp.wav" "$out"
done
echo "$dir/excerpts"
