#!/usr/bin/env bash
# Reproduces the shipped model in Models/ from nothing: data set → image tokenizer → the two
# encoders → unified model → eval → Models/ + Models/MODEL_CARD.md. Every phase resumes where it
# stopped (checkpoints under $RUNS), and a finished phase is skipped, so `make model` can be run
# again after an interruption, also in a later session.
#
#   DATA=… RUNS=… COUNT=52632 EVAL_LIMIT= UNIFIED_STEPS= ABLATION_STEPS=300 scripts/make-model.sh
#
# The data set and the runs live outside the work tree, under ${XDG_CACHE_HOME:-~/.cache}/facestudio
# (FACESTUDIO_DATA and FACESTUDIO_RUNS, or DATA and RUNS, move them), so a fresh checkout
# continues what an earlier one started.
# The two background-friendly phases (tokenizer and encoders) run side by side, one core each.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.build/release/facestudio}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/facestudio
DATA=${DATA:-${FACESTUDIO_DATA:-$CACHE/data/faces}}
RUNS=${RUNS:-${FACESTUDIO_RUNS:-$CACHE/runs}}
COUNT=${COUNT:-52632}          # 50 000 training images + 5% test
EVAL_LIMIT=${EVAL_LIMIT-}  # test images for the generation and understanding figures (empty: the whole test split)
CONFIG=${CONFIG:-configs/unified.json}
# Later stages, in order, each a warm start from the one before (empty: stop after the first).
CONTINUE_CONFIGS=${CONTINUE_CONFIGS-configs/unified-continue.json configs/unified-stage3.json configs/unified-stage4.json configs/unified-stage5.json configs/unified-stage6.json configs/unified-stage7.json configs/unified-stage8.json configs/unified-stage9.json configs/unified-stage10.json configs/unified-stage11.json configs/unified-stage12.json configs/unified-stage13.json configs/unified-stage14.json configs/unified-stage15.json configs/unified-stage16.json configs/unified-stage17.json configs/unified-stage18.json configs/unified-stage19.json configs/unified-stage20.json configs/unified-stage21.json configs/unified-stage22.json configs/unified-stage23.json configs/unified-stage24.json configs/unified-stage25.json}
TOKENIZER_CONFIG=${TOKENIZER_CONFIG:-configs/image_tokenizer.json}
DECODER_CONFIG=${DECODER_CONFIG:-configs/image_tokenizer_decoder.json}  # empty: keep the first decoder
DECODER_STEPS=${DECODER_STEPS-9600}  # then resume the decoder to this many steps (empty: do not)
ANNEAL_CONFIG=${ANNEAL_CONFIG-configs/image_tokenizer_decoder_anneal.json}  # then a low-rate warm start (empty: none)
FACE_STEPS=${FACE_STEPS:-4500}
FACE_FT_STEPS=${FACE_FT_STEPS-1000}  # then a fine-tune weighting rare attributes (empty: none)
# Then longer fine-tunes, each from the one before, as STEPS:STAGE: the unified model reads the
# k-th (encoders-ft<k+1>) from stage STAGE on (empty: none).
FACE_LATER_FTS=${FACE_LATER_FTS-6000:23 8000:25}
ABLATION_STEPS=${ABLATION_STEPS-300}  # training steps per ablation row; empty: no ablations
ABLATION_LIMIT=${ABLATION_LIMIT:-50}  # test faces each row is measured on
STAGE=$RUNS/stage              # image tokenizer + encoders, what `train` reads
TIMES=$RUNS/timings.tsv
mkdir -p "$RUNS"

phase() { echo "== $1 ($(date -u +%H:%M:%S))" >&2; }
timed() {  # timed NAME command…: runs it and appends its wall time to $TIMES
    local name=$1; shift
    local start=$SECONDS
    "$@"
    printf '%s\t%d\n' "$name" $((SECONDS - start)) >> "$TIMES"
}

phase "data set: $COUNT faces in $DATA"
# A data set made by an older build (another schema.json, whose version also counts changes
# to the written text) is made again; images are a pure function of the index, so the caches
# of image codes and embeddings stay valid.
probe=$(mktemp -d)
"$BIN" dataset make --count 1 --out "$probe" --quiet > /dev/null
if [ -f "$DATA/.complete" ] && ! cmp -s "$probe/schema.json" "$DATA/schema.json"; then
    echo "$DATA was made by an older build: making it again"
    rm -f "$DATA/.complete"
fi
rm -rf "$probe"
if [ ! -f "$DATA/.complete" ]; then
    rm -rf "$DATA"
    timed dataset "$BIN" dataset make --count "$COUNT" --out "$DATA" --quiet --json > "$RUNS/dataset.json"
    touch "$DATA/.complete"
fi

resume_flag() { [ -e "$1" ] && echo --resume || true; }

phase "image tokenizer and encoders (one core each)"
tokenizer_job() {
    [ -f "$RUNS/tokenizer/model/image_tokenizer.safetensors" ] ||
        FACESTUDIO_THREADS=1 timed tokenizer "$BIN" tokenizer train --data "$DATA" --out "$RUNS/tokenizer" \
            --config "$TOKENIZER_CONFIG" $(resume_flag "$RUNS/tokenizer/checkpoint.safetensors") --json > "$RUNS/tokenizer.json"
    # Then a wider decoder without GroupNorm on the frozen encoder: the codes do not change.
    [ -z "$DECODER_CONFIG" ] || [ -f "$RUNS/tokenizer-decoder/model/image_tokenizer.safetensors" ] ||
        FACESTUDIO_THREADS=1 timed tokenizer-decoder "$BIN" tokenizer train --data "$DATA" --out "$RUNS/tokenizer-decoder" \
            --config "$DECODER_CONFIG" --encoder-from "$RUNS/tokenizer/model" \
            $(resume_flag "$RUNS/tokenizer-decoder/checkpoint.safetensors") --json > "$RUNS/tokenizer-decoder.json"
    # And longer: its finished run resumed with a longer schedule (the cosine restarts from the
    # peak rate at its end), in a copy so the first decoder stays as it was.
    local long=$RUNS/tokenizer-decoder-2
    [ -z "$DECODER_CONFIG" ] || [ -z "$DECODER_STEPS" ] || [ -f "$long/model/image_tokenizer.safetensors" ] || {
        [ -f "$long/checkpoint.safetensors" ] || { cp -r "$RUNS/tokenizer-decoder" "$long" && rm -rf "$long/model"; }
        FACESTUDIO_THREADS=1 timed tokenizer-decoder-2 "$BIN" tokenizer train --data "$DATA" --out "$long" --resume \
            --steps "$DECODER_STEPS" --json > "$RUNS/tokenizer-decoder-2.json"
    }
    # Last, a short warm start of that decoder at a quarter of its peak rate.
    [ -z "$DECODER_CONFIG" ] || [ -z "$DECODER_STEPS" ] || [ -z "$ANNEAL_CONFIG" ] ||
        [ -f "$RUNS/tokenizer-decoder-3/model/image_tokenizer.safetensors" ] || {
        local start=(--init "$long/model" --encoder-from "$long/model")
        [ -f "$RUNS/tokenizer-decoder-3/checkpoint.safetensors" ] && start=(--resume)
        FACESTUDIO_THREADS=1 timed tokenizer-decoder-3 "$BIN" tokenizer train --data "$DATA" --out "$RUNS/tokenizer-decoder-3" \
            --config "$ANNEAL_CONFIG" "${start[@]}" --json > "$RUNS/tokenizer-decoder-3.json"
    }
}
encoders_job() {
    [ -f "$RUNS/encoders/encoder_clip.safetensors" ] && [ -f "$RUNS/encoders/encoder_face.safetensors" ] && return 0
    # The face encoder first (it also starts the CLIP image trunk), then CLIP.
    [ -f "$RUNS/encoders/encoder_face.safetensors" ] ||
        FACESTUDIO_THREADS=1 timed encoders "$BIN" encoders train --data "$DATA" --out "$RUNS/encoders" --only face \
            --steps "$FACE_STEPS" $(resume_flag "$RUNS/encoders/checkpoint_face.safetensors") --json > "$RUNS/encoders-face.json"
    FACESTUDIO_THREADS=1 timed encoders "$BIN" encoders train --data "$DATA" --out "$RUNS/encoders" --only clip \
        $(resume_flag "$RUNS/encoders/checkpoint_clip.safetensors") --json > "$RUNS/encoders-clip.json"
}
tokenizer_job & tokenizer_pid=$!
encoders_job & encoders_pid=$!
wait $tokenizer_pid
wait $encoders_pid

# face_finetune NAME FROM RATE STEPS: a weighted fine-tune of FROM's face encoder into $RUNS/NAME
# (resumable), with its figures in $RUNS/NAME.json.
face_finetune() {
    local name=$1 from=$2 rate=$3 steps=$4 out=$RUNS/$1
    phase "face encoder: $name, weighted fine-tune ($steps steps at $rate)"
    [ -f "$out/encoder_face.safetensors" ] && return 0
    local start=(--init-from "$from")
    [ -f "$out/checkpoint_face.safetensors" ] && start=(--resume)
    timed "$name" "$BIN" encoders train --data "$DATA" --out "$out" --only face "${start[@]}" \
        --positive-weight-power 0.5 --learning-rate "$rate" --steps "$steps" --json > "$out.json"
}

# Plain BCE leaves the face encoder nearly blind to rare attributes (winks, most emotions and
# actions: it learns "absent"), and the unified model can state only what its embedding carries.
# A fine-tune from it with each attribute's positive term weighted by its rarity fixes much of
# that; it is the face encoder the unified model reads (and eval's judge). CLIP keeps the trunk
# it started from.
FACE_ENCODER_DIR=$RUNS/encoders
if [ -n "$FACE_FT_STEPS" ]; then
    face_finetune encoders-ft "$FACE_ENCODER_DIR" 5e-4 "$FACE_FT_STEPS"
    FACE_ENCODER_DIR=$RUNS/encoders-ft
fi

# The weighted fine-tune still underfits (its balanced accuracy on the train split is the test
# one: happy 0.67, neutral 0.64), and so did the next, so longer runs from it, each from the one
# before (FACE_LATER_FTS).
LATER_FACE_ENCODERS=()  # "STAGE DIR" of each later fine-tune
if [ -n "$FACE_FT_STEPS" ]; then
    previous=$FACE_ENCODER_DIR k=1
    for entry in $FACE_LATER_FTS; do
        k=$((k + 1))
        face_finetune "encoders-ft$k" "$previous" 1e-3 "${entry%%:*}"
        previous=$RUNS/encoders-ft$k
        LATER_FACE_ENCODERS+=("${entry##*:} $previous")
    done
fi

mkdir -p "$STAGE"
TOKENIZER_MODEL=$RUNS/tokenizer/model
[ -n "$DECODER_CONFIG" ] && TOKENIZER_MODEL=$RUNS/tokenizer-decoder/model
[ -n "$DECODER_CONFIG" ] && [ -n "$DECODER_STEPS" ] && TOKENIZER_MODEL=$RUNS/tokenizer-decoder-2/model
[ -n "$DECODER_CONFIG" ] && [ -n "$DECODER_STEPS" ] && [ -n "$ANNEAL_CONFIG" ] && TOKENIZER_MODEL=$RUNS/tokenizer-decoder-3/model
cp "$TOKENIZER_MODEL"/image_tokenizer* "$STAGE"/
cp "$RUNS"/encoders/encoder_config.json "$RUNS"/encoders/encoder_tokenizer.json \
   "$RUNS"/encoders/encoder_clip.safetensors "$FACE_ENCODER_DIR"/encoder_face.safetensors "$STAGE"/
# stage_for_encoder DIR: a copy of $STAGE with DIR's face encoder, as `train --image-tokenizer` reads it.
stage_for_encoder() {
    local dir=$RUNS/stage-${1##*encoders-}
    mkdir -p "$dir"
    cp "$STAGE"/* "$dir"/
    cp "$1"/encoder_face.safetensors "$dir"/
    echo "$dir"
}
STAGE_DIRS=()  # "STAGE DIR": from stage STAGE on, train reads DIR
for entry in "${LATER_FACE_ENCODERS[@]}"; do
    STAGE_DIRS+=("${entry%% *} $(stage_for_encoder "${entry#* }")")
done

phase "unified model ($CONFIG)"
if [ ! -f "$RUNS/unified/model/model.safetensors" ]; then
    timed unified "$BIN" train --data "$DATA" --config "$CONFIG" --out "$RUNS/unified" --image-tokenizer "$STAGE" \
        $(resume_flag "$RUNS/unified/checkpoint.safetensors") ${UNIFIED_STEPS:+--steps "$UNIFIED_STEPS"}
fi

FINAL=$RUNS/unified
stage=1
for continue_config in $CONTINUE_CONFIGS; do
    # Stage k+1: a warm restart from stage k's weights with a fresh optimiser and schedule,
    # another data order and more conversation examples per step.
    stage=$((stage + 1))
    PREVIOUS=$FINAL
    FINAL=$RUNS/unified-$stage
    phase "unified model, stage $stage ($continue_config)"
    if [ ! -f "$FINAL/model/model.safetensors" ]; then
        mkdir -p "$FINAL"
        # The image codes and embeddings are the first stage's: link them instead of recomputing.
        for cache in image_codes.bin image_embeddings.safetensors; do
            [ -e "$FINAL/$cache" ] || ln -f "$RUNS/unified/$cache" "$FINAL/$cache"
        done
        if [ -e "$FINAL/checkpoint.safetensors" ]; then start=(--resume); else start=(--init "$PREVIOUS/checkpoint.safetensors"); fi
        encoders=$STAGE
        for entry in "${STAGE_DIRS[@]}"; do [ "$stage" -ge "${entry%% *}" ] && encoders=${entry#* }; done
        timed "unified-$stage" "$BIN" train --data "$DATA" --config "$continue_config" --out "$FINAL" --image-tokenizer "$encoders" "${start[@]}"
    fi
done

phase "eval on ${EVAL_LIMIT:-all the} test faces"
timed eval "$BIN" eval --data "$DATA" --model "$FINAL/model" ${EVAL_LIMIT:+--limit "$EVAL_LIMIT"} --out "$RUNS/eval" --json > /dev/null

if [ -n "$ABLATION_STEPS" ]; then
    # The paper's ablation rows (Tab. 3 and 4), each trained from scratch for a short budget;
    # the model card includes their tables. Finished rows are skipped on a rerun.
    phase "ablations ($ABLATION_STEPS steps per row)"
    mkdir -p "$RUNS/ablation/cache"
    for cache in image_codes.bin image_embeddings.safetensors; do
        [ -e "$RUNS/ablation/cache/$cache" ] || ln -f "$RUNS/unified/$cache" "$RUNS/ablation/cache/$cache"
    done
    timed ablation "$BIN" eval --ablation --data "$DATA" --model "$FINAL/model" --out "$RUNS/ablation" \
        --ablation-steps "$ABLATION_STEPS" --limit "$ABLATION_LIMIT" > /dev/null
fi

phase "Models/"
mkdir -p Models
cp "$FINAL"/model/* Models/
cp "$RUNS/eval/expert_activation.png" "$RUNS/eval/samples.png" Models/
"$BIN" model card --model Models --eval "$RUNS/eval/eval.json" --config "$CONFIG" $(for c in $CONTINUE_CONFIGS; do printf -- '--config %s ' "$c"; done) --runs "$RUNS" --out Models/MODEL_CARD.md
du -sh Models
