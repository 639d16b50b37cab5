#!/usr/bin/env bash
# Trains the next image tokenizer (configs/image_tokenizer_next.json: 16-bit codes in two 8-bit
# factors, a perceptual term through the CLIP image tower and, after a warm-up, a patch
# discriminator) as one long run that continues across sessions:
#
#   scripts/train-tokenizer-next.sh            # start, or resume where the last session stopped
#   STEPS=20000 scripts/train-tokenizer-next.sh
#
# The data set and the run directory live outside the work tree, under
# ${XDG_CACHE_HOME:-~/.cache}/facestudio (FACESTUDIO_DATA and FACESTUDIO_RUNS move them), so a
# fresh checkout finds them. Where the run directory is gone but Models/next holds a staged copy
# of the run's weights, the run warm-starts from it (fresh optimiser and schedule).
# Checkpoints are written atomically every training.checkpoint_every steps and on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.build/release/facestudio}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/facestudio
DATA=${FACESTUDIO_DATA:-$CACHE/data/faces}
RUNS=${FACESTUDIO_RUNS:-$CACHE/runs}
RUN=$RUNS/tokenizer-next
CONFIG=${CONFIG:-configs/image_tokenizer_next.json}
COUNT=${COUNT:-52632}          # the shipped data set's size: 50 000 training images + 5% test
STAGED=${STAGED:-Models/next}  # where a run in progress stages its weights
PERCEPTUAL=${PERCEPTUAL:-Models}  # encoders directory whose CLIP image tower is the perceptual network
mkdir -p "$RUNS"

if [ ! -f "$DATA/.complete" ]; then
    echo "== data set: $COUNT faces in $DATA" >&2
    rm -rf "$DATA"
    "$BIN" dataset make --count "$COUNT" --out "$DATA" --quiet --json > "$RUNS/dataset.json"
    touch "$DATA/.complete"
fi

start=(--config "$CONFIG")
if [ -f "$RUN/checkpoint.safetensors" ]; then
    start=(--resume)
elif [ -f "$STAGED/image_tokenizer.safetensors" ]; then
    echo "== no run in $RUN: warm start from the staged weights in $STAGED" >&2
    start+=(--init "$STAGED")
fi
steps=()
[ -n "${STEPS-}" ] && steps=(--steps "$STEPS")
echo "== tokenizer run in $RUN (${start[*]})" >&2
# The run executes a copy of the binary, so a rebuild beside it cannot pull it from under the run.
mkdir -p "$RUN"
cp "$BIN" "$RUN/facestudio.tmp" && mv "$RUN/facestudio.tmp" "$RUN/facestudio"
exec "$RUN/facestudio" tokenizer train --data "$DATA" --out "$RUN" "${start[@]}" "${steps[@]}" --perceptual-from "$PERCEPTUAL" --eval-images 1000
