#!/usr/bin/env bash
# The whole job on embedded defaults: a camera simulator serving real street video over RTSP,
# the CitySight service (SQLite store under data/), and a console client printing each case from the gRPC stream.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec dotnet src/CitySight.Cli/bin/Release/net10.0/citysight.dll demo "$@"
