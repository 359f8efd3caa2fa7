#!/usr/bin/env bash
# False cases on the shared street clips with every zone asking for every type (README.md here).
# Usage: benchmarks/false-cases/run.sh [MEDIA_DIR]   (needs a Release build of src/CitySight.Cli and ffmpeg)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$here/../.."
assets="${CITYSIGHT_ASSETS:-$repo/../shared/assets}/media"
media="${1:-${TMPDIR:-/tmp}/citysight-false-cases-media}"
mkdir -p "$media"
for f in parking-lot-cctv-640x480.mp4 highway-traffic-640x360.mp4; do ln -sf "$assets/$f" "$media/$f"; done
loop() { [[ -s "$media/$2" ]] || ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop -1 -i "$assets/$1" -t 900 -an \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p "$media/$2"; }
loop parking-lot-cctv-640x480.mp4 parking-lot-looped-15m.mp4
loop highway-traffic-640x360.mp4 highway-looped-15m.mp4
cli="$repo/src/CitySight.Cli/bin/Release/net10.0/citysight.dll"
status=0
for s in "$here"/*/; do
  echo "== $(basename "$s")"
  dotnet "$cli" eval "$s" --media "$media" --json "$media/$(basename "$s").json" || status=$?
done
exit 0   # a measurement: cases raised are reported above, not a failure
