#!/usr/bin/env bash
# Builds the videos the scenarios in this folder play, from the shared real media, into a cache folder (never into the
# checkout: media is not committed). Only Debian's ffmpeg is needed. Usage: scenarios/make-media.sh [OUT_DIR]
# OUT_DIR defaults to ${CITYSIGHT_SCENARIO_MEDIA:-${TMPDIR:-/tmp}/citysight-scenario-media}; the media is read from
# ${CITYSIGHT_ASSETS:-<repo>/../shared/assets}/media. Existing outputs are kept (delete OUT_DIR to rebuild); the
# recipe version is in every name, so a changed recipe writes new files beside the old ones.
# Then: citysight eval scenarios --media OUT_DIR
#
# How the scenes are made (see README.md here):
#  - the background is one real frame of the parking-lot CCTV clip (frame 30, t = 1.5 s: daylight, empty bays, no
#    vehicle the detector sees at 0.25);
#  - the vehicles are real cars cut from other frames of the same clip (same camera, so scale, angle and light match),
#    with feathered edges so no hard rectangle is left around them;
#  - ffmpeg's overlay moves a car along the site road in front of the bays: it drives in from the left edge, stops
#    with its foot (bottom centre) at about (0.50, 0.935) of the image, stays, and (where the scene says so) drives out.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
assets="${CITYSIGHT_ASSETS:-$here/../../shared/assets}/media"
out="${1:-${CITYSIGHT_SCENARIO_MEDIA:-${TMPDIR:-/tmp}/citysight-scenario-media}}"
v=3                                   # recipe version: bump it when a recipe below changes
clip="$assets/parking-lot-cctv-640x480.mp4"
highway="$assets/highway-traffic-640x360.mp4"
for f in "$clip" "$highway"; do
  [[ -s "$f" ]] || { echo "make-media: missing $f (set CITYSIGHT_ASSETS to the shared assets folder)" >&2; exit 2; }
done
command -v ffmpeg >/dev/null || { echo "make-media: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 2; }
parts="$out/.parts-v$v"
mkdir -p "$out" "$parts"

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
# make PATH CMD...: runs CMD with a temporary output path (same extension) and moves it to PATH, unless PATH exists.
make() {
  local path="$1"; shift
  [[ -s "$path" ]] && return 0
  local tmp; tmp="$(dirname "$path")/.tmp.$$.$(basename "$path")"
  if "$@" "$tmp"; then mv -f "$tmp" "$path"; else rm -f "$tmp"; return 1; fi
}
enc() { echo -c:v libx264 -preset veryfast -tune stillimage -pix_fmt yuv420p -r "$1"; }

# --- stills ---------------------------------------------------------------------------------------------------------
# The empty car park (frame 30 = 1.5 s of the clip).
make "$parts/background.png" ff -i "$clip" -vf "select=eq(n\,30)" -frames:v 1 -update 1
# car NAME FRAME X Y W H OUT_W OUT_H: the car in the box (X,Y,W,H) of that frame, scaled, its outermost few pixels
# feathered to transparent (a wider feather eats into the car: the detector's confidence fell from 0.8 to 0.3).
car() {
  local feather="format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(6*(1-pow(abs(2*X/W-1),8)-pow(abs(2*Y/H-1),8)),0,1)'"
  make "$parts/$1.png" ff -i "$clip" -vf "select=eq(n\,$2),crop=$5:$6:$3:$4,scale=$7:$8,$feather" -frames:v 1 -update 1
}
car silver 110 386 290 50 47 60 56   # silver hatchback from a bay at 5.5 s (yolov8n on the encoded video: car 0.78-0.80)
car dark    92 355 296 47 48 56 58   # dark blue estate from a bay at 4.6 s (car 0.74-0.75)
car grey    90 207 322 39 60 39 60   # grey hatchback from a bay at 4.5 s, put back in that bay: legally parked (car 0.46)

# --- paths ----------------------------------------------------------------------------------------------------------
# drive T_STOP T_GO X Y: overlay options for a car that drives in from the left edge along the site road (which rises
# 0.147 px per px to the right), arrives at (X, Y) (its top-left corner) at T_STOP, stands there, and from T_GO drives
# back out to the left (T_GO "never": it stays). 60 px/s; it is off-screen 6 s before T_STOP and 6 s after T_GO.
drive() {
  local stop=$1 go=$2 x=$3 y=$4
  local away="60*(max(0\,$stop-t)"
  if [[ $go == never ]]; then away+=")"; local until=1e9; else away+="+max(0\,t-$go))"; local until=$((go + 6)); fi
  echo "x=$x-$away:y=$y+0.147*$away:enable=between(t\,$((stop - 6))\,$until)"
}
# scene OUT SECONDS FPS [PART OVERLAY_OPTIONS]...: the background for SECONDS at FPS with each part overlaid as given.
scene() {
  local name=$1 secs=$2 fps=$3; shift 3
  local inputs=(-loop 1 -framerate "$fps" -t "$secs" -i "$parts/background.png") graph="" last="0" i=1
  while (($#)); do
    inputs+=(-loop 1 -framerate "$fps" -t "$secs" -i "$parts/$1.png")
    graph+="[$last][$i]overlay=$2:eof_action=pass[o$i];"
    last="o$i"; i=$((i + 1)); shift 2
  done
  make "$out/$name" ff "${inputs[@]}" -filter_complex "${graph%;}" -map "[$last]" -t "$secs" $(enc "$fps")
}
# The foot (bottom centre) of a parked car: silver at (290,393) → (320,449) px = (0.50, 0.935); dark at (293,391) → same.

# parked: 12 min at 1 fps. A grey car stands in a marked bay the whole time (legal: outside the no-parking zone); the
# silver car drives in at 10–16 s and stays on the site road (in the zone) until the end.
scene "parked-v$v.mp4" 720 1 grey "x=207:y=322" silver "$(drive 16 never 290 393)"
# short-stop: 76 s at 2 fps. The silver car stops on the site road at 10 s, leaves at 50 s (gone by 56 s).
scene "short-stop-v$v.mp4" 76 2 silver "$(drive 10 50 290 393)"
# arrive-and-stay: 60 s at 2 fps. The silver car stops on the site road at 8 s and stays (two-cameras cam-a, schedule-*).
scene "arrive-and-stay-v$v.mp4" 60 2 silver "$(drive 8 never 290 393)"
# The same scene seen by a second camera across the road: a zoomed (crop 512x384 at 65,90, x1.25), mirrored and
# slightly brighter view of it. The car's foot stays at (0.50, 0.935) of this view too.
make "$out/arrive-and-stay-cam-b-v$v.mp4" ff -i "$out/arrive-and-stay-v$v.mp4" \
  -vf "crop=512:384:65:90,scale=640:480,hflip,eq=brightness=0.03:saturation=0.9" $(enc 2)
# leave-and-return: 260 s at 2 fps. Silver car A stands 8–70 s (gone by 76 s); dark car B arrives at the same place
# at 210 s and stays until the end.
scene "leave-and-return-v$v.mp4" 260 2 silver "$(drive 8 70 290 393)" dark "$(drive 210 never 293 391)"

# --- static objects (garbage) ---------------------------------------------------------------------------------------
# Their own recipe version, so the parking scenes' files above are not rebuilt.
g=1
# The materials: the stack of pallets and boards lying by the fence in the middle of this same frame (box 42x24 at
# 190,273), scaled x2 for its place in the foreground and feathered like the cars. Nothing the COCO model knows.
make "$parts/materials-g$g.png" ff -i "$parts/background.png" -vf "crop=42:24:190:273,scale=84:48,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(6*(1-pow(abs(2*X/W-1),8)-pow(abs(2*Y/H-1),8)),0,1)'" -frames:v 1 -update 1
# garbage-left: 12 min at 1 fps. The materials are put down on the site road at 20 s, their foot (bottom centre) at
# (320, 449) px = (0.50, 0.935), and left there to the end.
scene "garbage-left-g$g.mp4" 720 1 "materials-g$g" "x=278:y=401:enable=gte(t\,20)"
# garbage-dusk: the empty car park for 12 min at 1 fps, its light falling steadily to 40% (luma and colour scaled
# together) by the end: dusk, and nothing left anywhere.
make "$out/garbage-dusk-g$g.mp4" ff -loop 1 -framerate 1 -t 720 -i "$parts/background.png" \
  -vf "format=yuv444p,geq=lum='lum(X\,Y)*(1-0.6*T/720)':cb='128+(cb(X\,Y)-128)*(1-0.6*T/720)':cr='128+(cr(X\,Y)-128)*(1-0.6*T/720)'" \
  -t 720 $(enc 1)
# traffic: the real motorway clip as it is (only moving traffic).
make "$out/highway-traffic-v1.mp4" install -m 644 "$highway"
echo "$out"
