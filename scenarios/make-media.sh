#!/usr/bin/env bash
# Builds the videos the scenarios in this folder play, from the shared stills and clips, into a cache folder
# (never into the checkout: media is not committed). Usage: scenarios/make-media.sh [OUT_DIR]
# OUT_DIR defaults to ${CITYSIGHT_SCENARIO_MEDIA:-${TMPDIR:-/tmp}/citysight-scenario-media}. Existing files are kept.
# Then: citysight eval scenarios --media OUT_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
assets="${CITYSIGHT_ASSETS:-$here/../../shared/assets}/media"
out="${1:-${CITYSIGHT_SCENARIO_MEDIA:-${TMPDIR:-/tmp}/citysight-scenario-media}}"
mkdir -p "$out"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
make() { # make NAME CMD...: builds NAME atomically unless it exists
  local name="$1"; shift
  [[ -s "$out/$name" ]] && return 0
  "$@" "$out/.$name.tmp.mp4" && mv "$out/.$name.tmp.mp4" "$out/$name"
}
enc=(-c:v libx264 -preset veryfast -pix_fmt yuv420p -r 2)

# parked: a bus standing in the street, 40 s at 2 fps.
make parked-bus.mp4 ff -loop 1 -i "$assets/bus.jpg" -t 40 -vf "scale=640:-2" "${enc[@]}"
# short-stop: the bus for 8 s, then 30 s of a scene without vehicles.
make short-stop.mp4 ff -loop 1 -t 8 -i "$assets/bus.jpg" -loop 1 -t 30 -i "$assets/coco-sample-4.jpg" \
  -filter_complex "[0]scale=640:480,setsar=1,fps=2[a];[1]scale=640:480,setsar=1,fps=2[b];[a][b]concat=n=2:v=1[v]" -map "[v]" "${enc[@]}"
# traffic: the highway clip as it is.
make highway-traffic.mp4 cp "$assets/highway-traffic-640x360.mp4"
echo "$out"
