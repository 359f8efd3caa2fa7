#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit and integration, with the real RTSP server, ffmpeg and ONNX model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
log=$(mktemp)
set +e
dotnet test CitySight.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One closing line over all test projects.
awk '/(Passed|Failed)! +- +Failed: /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}} END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
rm -f "$log"
exit "$rc"
