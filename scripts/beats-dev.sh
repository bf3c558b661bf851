#!/usr/bin/env bash
# Runs the beat-tracking driver (bench/beats/driver) on the three excerpt sets and scores it against madmom with the
# failure kinds (bench/beats/evaluate_dev.py): the corpus (35), the validation set (14) and the development set, the
# sixth round's 251 training excerpts, held out only for models trained without them (the 108-excerpt TCN, the MLP, a
# TCN_HOLDOUT fold; the default TCN since the eighth round was trained on them: docs/beats.md), and on
# request the independent check (bench/beats/independent.tsv: frozen-bubble and hyperrogue, madmom's beats in
# independent.json).
#
#   scripts/beats-dev.sh TAG [SET...]          # SET: corpus validation dev independent (default: the first three)
#   LAM=150 scripts/beats-dev.sh lam150 dev    # driver knobs from the environment (bench/beats/driver/main.swift)
#   FEAT=1 scripts/beats-dev.sh feat           # the decisions' features instead (bench/beats/fit_decisions.py)
#
# Fetches and cuts the music with scripts/beats-music.sh (the corpus list; the development rows of training.tsv; the
# validation excerpts from validation.json's packages, files and starts), converts each excerpt once to 22050 Hz mono float PCM with the
# ffmpeg CLI, builds the driver (DRIVER=path to use a built one), and writes DIR/out/TAG-SET.jsonl.
# DIR: $BEATS_MUSIC_DIR or $TMPDIR/rendc-beats-music. One core: the sets run one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:?usage: beats-dev.sh TAG [corpus|validation|dev ...]}
shift
sets=${*:-corpus validation dev}
dir=${BEATS_MUSIC_DIR:-${TMPDIR:-/tmp}/rendc-beats-music}
venv=bench/.venv
mkdir -p "$dir/out" "$dir/pcm"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    echo '*' > "$venv/.gitignore"
fi
"$venv/bin/python" -c "import mir_eval" 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check mir_eval
# built from this tree's sources every run (they change between sweeps), unless DRIVER names one
driver=${DRIVER:-}
if [ -z "$driver" ]; then
    driver="$dir/driver"
    bench/beats/driver/build.sh "$driver" >&2
fi

pcm() {  # pcm SET EXCERPTS_DIR IDS...: converts the named excerpts, prints their PCM paths
    local set=$1 from=$2
    shift 2
    mkdir -p "$dir/pcm/$set"
    for id in "$@"; do
        out="$dir/pcm/$set/$id.f32"
        [ -s "$out" ] || ffmpeg -nostdin -loglevel error -i "$from/$id.wav" -ac 1 -ar 22050 -f f32le "$out"
        echo "$out"
    done
}

for set in $sets; do
    case $set in
    corpus)
        excerpts=$(scripts/beats-music.sh "$dir")
        mapfile -t ids < <(grep -v '^#' bench/beats/corpus.tsv | cut -f1 | grep -v '^id$')
        ;;
    validation)
        # validation.json names each excerpt's package, file and start like corpus.tsv does
        list="$dir/validation.tsv"
        "$venv/bin/python" - bench/beats/validation.json > "$list" <<'PY'
import json, sys
for k, v in sorted(json.load(open(sys.argv[1]))["tracks"].items()):
    print("\t".join([k, v["package"], v["file"], str(v["start"]), v.get("style", "")]))
PY
        excerpts=$(BEATS_CORPUS="$list" scripts/beats-music.sh "$dir")
        mapfile -t ids < <(cut -f1 "$list")
        ;;
    dev)
        # only the development rows of training.tsv (13 packages), not the 108 the weights were trained on
        mapfile -t ids < <("$venv/bin/python" bench/beats/evaluate_dev.py --dev-ids)
        list="$dir/dev.tsv"
        awk -F'\t' 'NR == FNR { keep[$1] = 1; next } !/^#/ && keep[$1]' <(printf '%s\n' "${ids[@]}") \
            bench/beats/training.tsv > "$list"
        excerpts=$(BEATS_CORPUS="$list" scripts/beats-music.sh "$dir")
        ;;
    independent)
        # frozen-bubble and hyperrogue: never tuned on; run it, report it, do not fit anything to it
        excerpts=$(BEATS_CORPUS=bench/beats/independent.tsv scripts/beats-music.sh "$dir")
        mapfile -t ids < <(grep -v '^#' bench/beats/independent.tsv | cut -f1)
        ;;
    *) echo "beats-dev: unknown set $set" >&2; exit 2 ;;
    esac
    mapfile -t files < <(pcm "$set" "$excerpts" "${ids[@]}")
    "$driver" "${files[@]}" > "$dir/out/$tag-$set.jsonl"
    [ -n "${FEAT:-}" ] || "$venv/bin/python" bench/beats/evaluate_dev.py "$dir/out/$tag-$set.jsonl"
done
