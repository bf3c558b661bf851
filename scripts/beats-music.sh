#!/usr/bin/env bash
# Fetches the real-music beat benchmark (bench/beats/corpus.tsv): downloads the Debian music packages it names with
# `apt-get download` (no install, no root needed for that step), unpacks them with dpkg-deb and cuts each 30 s excerpt
# to a 44.1 kHz stereo WAV with the ffmpeg CLI. No audio is committed; everything goes under DIR.
#
#   scripts/beats-music.sh [DIR]      # default: $BEATS_MUSIC_DIR or $TMPDIR/rendc-beats-music
#   BEATS_CORPUS=bench/beats/training.tsv scripts/beats-music.sh DIR   # another list (the activation's training set)
#
# A file written 'archive.pk3!member' is a member of a zip archive inside the package (unpacked with unzip).
# Afterwards DIR/excerpts/<id>.wav exists for every corpus line. Safe to run again (skips what is there).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${BEATS_MUSIC_DIR:-${TMPDIR:-/tmp}/rendc-beats-music}}
corpus=${BEATS_CORPUS:-bench/beats/corpus.tsv}
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
    source="$dir/root/$file"
    if [[ "$file" == *'!'* ]]; then
        archive="$dir/root/${file%%!*}" member="${file#*!}"
        source="$dir/members/${file%%!*}/$member"
        mkdir -p "$dir/members/${file%%!*}"
        [ -s "$source" ] || unzip -q -o "$archive" "$member" -d "$dir/members/${file%%!*}"
    fi
    ffmpeg -nostdin -v error -y -ss "$start" -t 30 -i "$source" -ac 2 -ar 44100 "$out.tmp.wav"
    mv "$out.tmp.wav" "$out"
done
echo "$dir/excerpts"
