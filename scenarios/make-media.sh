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
#    with its foot (bottom centre) at about (0.50, 0.935) of the image, stays, and (where the scene says so) drives out;
#  - the stall and billboard scenes add people cut from bus.jpg along their silhouettes, a sign from the side of its
#    bus, and the bus of coco-sample-1.jpg, on the same frame.
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

# --- people and signs (street_stall, billboard) ---------------------------------------------------------------------
# Their own recipe version, so the files above are not rebuilt.
s=1
street="$assets/bus.jpg"            # the street photo: a bus and four people
for f in "$street" "$assets/coco-sample-1.jpg"; do
  [[ -s "$f" ]] || { echo "make-media: missing $f (set CITYSIGHT_ASSETS to the shared assets folder)" >&2; exit 2; }
done
# silhouette CX CY RX RY P ...: an alpha of the union of soft superellipses (centre, radii, power; crop pixels) laid
# over a person in a crop of a photo, so the street behind them in that photo is left out (a rectangle with feathered
# corners, as for the cars, would carry a slab of bus and pavement along).
silhouette() {
  local e="" t
  while (($#)); do
    t="(1-pow(abs(X-$1)/$3\,$5)-pow(abs(Y-$2)/$4\,$5))"; shift 5
    if [[ -z $e ]]; then e="$t"; else e="max($e\,$t)"; fi
  done
  echo "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(6*$e,0,1)'"
}
# person NAME CROP HEIGHT [EXTRA_FILTER] -- SILHOUETTE...: a person cut from bus.jpg (crop W:H:X:Y) along the
# silhouette (head, coat, legs, shoes), scaled to HEIGHT px.
person() {
  local name=$1 crop=$2 height=$3 extra=$4; shift 5
  make "$parts/$name.png" ff -i "$street" -vf "crop=$crop,$(silhouette "$@"),scale=-2:$height$extra" -frames:v 1 -update 1
}
# The man in the beige fleece coat, arms crossed (bus.jpg box 50,397–243,903; yolov8n: person 0.90) and the man in
# the black coat (221,408–343,856; 0.89). 52 px tall on the site road (yolov8n on the encoded videos: beige 0.75–0.85,
# black 0.59–0.64: a dark coat on dark asphalt).
beige=(72 42 29 37 2  72 190 68 118 4  38 385 22 85 2  115 385 24 85 2  26 482 26 20 2  148 480 32 20 2)
black=(63 37 22 34 2  63 76 16 14 2  60 185 56 115 4  45 365 22 68 2  82 340 25 55 2  50 437 22 16 2  67 400 12 18 2)
person "beige-s$s"      182:512:56:394  52 ""       -- "${beige[@]}"
person "beige-left-s$s" 182:512:56:394  52 ",hflip" -- "${beige[@]}"   # the same man walking the other way
person "black-s$s"      126:460:222:402 52 ""       -- "${black[@]}"
# The goods: the pallets and boards of the garbage scenes, scaled x1.15 (48x28: about 1.7 m beside a 52 px person).
make "$parts/goods-s$s.png" ff -i "$parts/background.png" -vf "crop=42:24:190:273,scale=48:28,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(6*(1-pow(abs(2*X/W-1),8)-pow(abs(2*Y/H-1),8)),0,1)'" -frames:v 1 -update 1
# The sign: the "cero emisiones" advertising panel on the side of the bus in bus.jpg (150x88 at 546,536), 60x35: a
# banner about 1.5 m wide tied to the fence over the hedge. A sign has hard edges: not feathered.
make "$parts/sign-s$s.png" ff -i "$street" -vf "crop=150:88:546:536,scale=60:35" -frames:v 1 -update 1
# The bus: the purple single-decker of coco-sample-1.jpg (548x336 at 44,84; yolov8n: bus 0.92), feathered like the
# cars and scaled to 130x80, its size at the foot of the hedge (a 3.4 m bus beside a 1.75 m person, 42 px there).
make "$parts/bus-s$s.png" ff -i "$assets/coco-sample-1.jpg" -vf "crop=548:336:44:84,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(6*(1-pow(abs(2*X/W-1),8)-pow(abs(2*Y/H-1),8)),0,1)',scale=130:80" -frames:v 1 -update 1
# The same car park after the camera's day/night switch: grey (IR), darker and harder (contrast up, gamma down).
make "$parts/background-ir-s$s.png" ff -i "$parts/background.png" -vf "hue=s=0,eq=brightness=-0.06:contrast=1.35:gamma=0.75" -frames:v 1 -update 1

# path T X Y  T X Y ...: overlay options moving a part's top-left corner in straight lines between the keyframes (time,
# x, y), shown from the first time to the last (a repeated point is a stop).
path() {
  local x="$2" y="$3" t=$1 px=$2 py=$3 enable_from=$1; shift 3
  while (($#)); do
    local f="clip((t-$t)/($1-$t+0.001)\,0\,1)"
    x+="+($2-($px))*$f"; y+="+($3-($py))*$f"
    t=$1 px=$2 py=$3; shift 3
  done
  echo "x=$x:y=$y:enable=between(t\,$enable_from\,$t)"
}
# A person walks along the site road at 35 px/s (about 1.2 m/s); the road rises 0.147 px per px to the right.
# Their foot (bottom centre) is 9 px right of and 52 px below the top-left corner given here.

# stall-vendor: 8 min at 1 fps. The man in the beige coat walks in from the left edge (14–20 s) and stands with his
# foot at (200, 457) = (0.3125, 0.952) to the end; at 20 s his goods are put down beside him: box 215–263 x 429–457,
# foot (239, 457); the box starts 15 px from his foot (the stall rule reaches his height, 52 px).
scene "stall-vendor-s$s.mp4" 480 1 "beige-s$s" "$(path 14 -20 436  20 191 405  480 191 405)" \
  "goods-s$s" "x=215:y=429:enable=gte(t\,20)"
# stall-waiting: 8 min at 1 fps. The same man, the same walk and the same spot, with nothing beside him: he waits at
# the kerb. At 40 s the goods are put down further along the road, foot (480, 425): 282 px (5 of his heights) away.
scene "stall-waiting-s$s.mp4" 480 1 "beige-s$s" "$(path 14 -20 436  20 191 405  480 191 405)" \
  "goods-s$s" "x=456:y=397:enable=gte(t\,40)"
# stall-passers-by: 8 min at 1 fps. The goods stand where the vendor's stood (215, 429) from 10 s to the end, with no
# one keeping them; four passers-by, each gone well before the next comes (more than the tracker's 30 s):
#  60–126 s  the beige man comes from the left, stops at the vendor's spot beside the goods for 60 s (66–126 s),
#            then walks on to the right in front of them (gone at ~140 s);
# 190–250 s  the same man from the right, stops just right of the goods, foot (282, 455), for 45 s (200–245 s);
# 300–320 s  the man in the black coat walks through from left to right without stopping;
# 390–440 s  the beige man from the right again, stops right of the goods for 30 s (400–430 s), walks out left.
scene "stall-passers-by-s$s.mp4" 480 1 "goods-s$s" "x=215:y=429:enable=gte(t\,10)" \
  "beige-s$s" "$(path 60 -20 436  66 191 405  126 191 405  140 660 336)" \
  "beige-left-s$s" "$(path 190 660 345  200 273 403  245 273 403  253 -20 446)" \
  "black-s$s" "$(path 300 -20 436  320 660 336)" \
  "beige-left-s$s" "$(path 390 660 345  400 273 403  430 273 403  438 -20 446)"

# The façade: the site fence above the hedge that runs along the top of the bays, with the footpath at its foot.
# billboard-new-sign: 5 min at 1 fps. At 20 s the sign is tied to the fence over the hedge, box 252–312 x 276–311,
# foot (282, 311) = (0.44, 0.648), and stays.
scene "billboard-new-sign-s$s.mp4" 300 1 "sign-s$s" "x=252:y=276:enable=gte(t\,20)"
# billboard-exposure: 6 min at 1 fps. Nothing changes in the car park; at 3 min the camera switches to its night
# (IR) picture and stays there.
scene "billboard-exposure-s$s.mp4" 360 1 "background-ir-s$s" "x=0:y=0:enable=gte(t\,180)"
# billboard-bus-in-front: 8 min at 1 fps. A bus drives in along the footpath from the left edge (14–20 s), stands
# at the foot of the hedge in front of the fence, box 235–365 x 244–326, foot (300, 326), for 7 minutes, and drives
# on to the right (440–450 s). Nothing is put up.
scene "billboard-bus-in-front-s$s.mp4" 480 1 "bus-s$s" "$(path 14 -130 262  20 235 244  440 235 244  450 660 223)"

# traffic: the real motorway clip as it is (only moving traffic).
make "$out/highway-traffic-v1.mp4" install -m 644 "$highway"
echo "$out"
