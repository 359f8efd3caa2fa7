#!/usr/bin/env bash
# Installs what CitySight needs on Debian 12 and builds it (Release). Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  ffmpeg                         # decodes RTSP and video files (driven through FFMpegCore)
  libgtk-3-0                     # OpenCvSharp's native library links against it
  gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi   # the RTSP camera simulator
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  fonts-noto-cjk                 # Chinese text on evidence pictures (EvidenceCaption loads it by path)
  mosquitto                      # MQTT broker for the delivery tests (each test runs its own; the system service is not used)
  chromium                       # the command-centre console's browser tests (Playwright drives it; no browser is downloaded)
  postgresql                     # the cluster's shared store (store.backend: postgres); tests start their own server as the postgres user
)
# Node.js and npm build the console's page (src/CitySight.CommandCentre/web); Debian's when the machine has none.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  # The package enables a broker on port 1883; the tests start their own on free ports, so keep the service off.
  if [[ " ${missing[*]} " == *" mosquitto "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
  # Likewise the package's own PostgreSQL cluster on 5432: the tests run theirs on free ports.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
fi

# The console's page: built into src/CitySight.CommandCentre/wwwroot, which the service embeds (so before dotnet build).
web=src/CitySight.CommandCentre/web
echo "setup: building the command-centre console's page (npm ci, npm run build in $web)"
(
  cd "$web"
  # npm ci (the exact versions of package-lock.json) only when node_modules is missing or older than the lock file.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  out=$(npm run build 2>&1) || { echo "$out" >&2; exit 1; }
)

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }
# cpu (default), gpu or openvino: which ONNX Runtime package is linked (models/README.md, "GPU builds").
flavour="${ONNXRUNTIME_FLAVOR:-cpu}"
echo "setup: building CitySight (Release, ONNX Runtime $flavour)"
dotnet build CitySight.sln -c Release -nologo -v quiet -clp:ErrorsOnly -p:OnnxRuntimeFlavor="$flavour"
