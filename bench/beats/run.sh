#!/usr/bin/env bash
# Beat-tracking accuracy and speed benchmark: rendc against librosa on the same generated tracks with known beats.
#
#   bench/beats/run.sh              # generate tracks, build rendc (release), run both, print the table
#   RENDC=/path/to/rendc bench/beats/run.sh   # use an existing rendc binary
#   BEATS_BENCH_DIR=/some/dir ...   # where generated audio and results go (default: $TMPDIR/rendc-beats-bench)
#
# Needs: fluidsynth + fluid-soundfont-gm + ffmpeg (scripts/apt.d/beats.txt), python3, and PyPI for librosa
# (installed into bench/.venv from bench/beats/requirements.txt on first run).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${BEATS_BENCH_DIR:-${TMPDIR:-/tmp}/rendc-beats-bench}
venv=bench/.venv
mkdir -p "$out"

if [ ! -x "$venv/bin/python" ]; then
    echo "bench: creating $venv" >&2
    python3 -m venv "$venv"
    echo '*' > "$venv/.gitignore"
fi
"$venv/bin/python" -c "import librosa" 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check -r bench/beats/requirements.txt

echo "bench: generating tracks in $out" >&2
python3 bench/beats/make_tracks.py "$out" --long > /dev/null

rendc=${RENDC:-}
if [ -z "$rendc" ]; then
    echo "bench: building rendc (release)" >&2
    swift build -c release --product rendc >&2
    rendc=.build/release/rendc
fi

files=$(ls "$out"/*.wav "$out"/*.mp3 2>/dev/null)
echo "bench: rendc beats" >&2
# shellcheck disable=SC2086
"$rendc" beats --json $files > "$out/rendc.jsonl"
echo "bench: librosa" >&2
# shellcheck disable=SC2086
"$venv/bin/python" bench/beats/librosa_beats.py $files > "$out/librosa.jsonl"
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
python3 bench/beats/evaluate.py "$out" "$out/rendc.jsonl" "$out/librosa.jsonl"
