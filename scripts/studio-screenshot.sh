#!/usr/bin/env bash
# Screenshot of the studio with real sixel graphics: xterm in VT340 mode under a virtual X
# server, a prompt typed and generated, the screen grabbed to a PNG. Needs xvfb, xterm and
# imagemagick and xdotool (apt). Usage: scripts/studio-screenshot.sh OUT.png [MODEL_DIR] ["prompt"]
set -euo pipefail
out=${1:?usage: studio-screenshot.sh OUT.png [MODEL_DIR] [PROMPT]}
model=${2:-Models}
prompt=${3:-a smiling young woman with long wavy blond hair, green eyes and round eyeglasses}
bin=${BIN:-$(dirname "$0")/../.build/release/facestudio}
display=:${DISPLAY_NUMBER:-91}
for tool in Xvfb xterm import xdotool; do
    command -v $tool > /dev/null || { echo "studio-screenshot: $tool is missing (apt install xvfb xterm imagemagick xdotool)" >&2; exit 1; }
done

Xvfb "$display" -screen 0 1920x1080x24 > /dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2> /dev/null || true' EXIT
sleep 1
DISPLAY=$display xterm -ti vt340 -tn xterm-256color -geometry 150x46 -fa Monospace -fs 10 -bg black -fg white \
    -xrm 'XTerm*decTerminalID: vt340' -xrm 'XTerm*numColorRegisters: 256' -xrm 'XTerm*sixelScrolling: true' \
    -e "$bin" studio --model "$model" &
term=$!
sleep 4
DISPLAY=$display xdotool type --delay 5 "$prompt"
DISPLAY=$display xdotool key ctrl+g
sleep "${WAIT_SECONDS:-20}"
DISPLAY=$display import -window root "$out"
DISPLAY=$display xdotool key ctrl+q
sleep 1
kill $term 2> /dev/null || true
echo "wrote $out"
