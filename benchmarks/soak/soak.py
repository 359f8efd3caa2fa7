#!/usr/bin/env python3
"""Soak: the real pipeline (ffmpeg ingest, ONNX detector, tracker, rules, SQLite store) run for a long time on looping
file cameras, sampling the service's memory against the frames it has inferred. Prints resident, managed and native
(resident minus managed) memory every sample and their slopes per 1,000 frames after warm-up (least squares).

Usage: benchmarks/soak/soak.py [--cameras N] [--minutes M] [--warmup-frames F] [--model NAME] [--json OUT] [--wrap CMD] [--env N=V]
Needs a Release build of src/CitySight.Cli and ../shared/assets beside the checkout (or CITYSIGHT_ASSETS)."""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
assets = os.environ.get("CITYSIGHT_ASSETS", os.path.join(repo, "..", "shared", "assets"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_pid(launched, work):
    """The service's own process: the one launched, or under --wrap the process whose command line names this soak's config."""
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                argv = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if b"dotnet" in os.path.basename(argv[0]) and os.path.join(work, "citysight.yaml").encode() in argv:
                return int(d)
    return launched


def metric(text, name):
    total = None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total = (total or 0.0) + float(line.rsplit(" ", 1)[1])
    return total


def write_config(work, model, cameras, group, sample_interval):
    """citysight.yaml and one camera group of looping file cameras (the parking-lot clip, every case type asked: the
    static-object pass, the stall cues and the before views all run) in `work`; returns the HTTP port."""
    cams = os.path.join(work, "cameras")
    os.makedirs(cams, exist_ok=True)
    clip = os.path.join(assets, "media", "parking-lot-cctv-640x480.mp4")
    http = free_port()
    with open(os.path.join(work, "citysight.yaml"), "w") as f:
        f.write(f"""service: {{grpc_port: {free_port()}, http_port: {http}, data_dir: {work}/data}}
models:
  manifest: {repo}/models/manifest.yaml
  search_paths: [{repo}/models, {assets}/models]
  run: [{{model: {model}, provider: cpu, threads: 0, max_batch: 1, max_wait: 0ms}}]
cameras: cameras
""")
    with open(os.path.join(cams, f"{group}.yaml"), "w") as f:
        f.write(f"group: {{id: {group}, name: {group.title()}, street: 测试街道}}\ncameras:\n")
        for i in range(cameras):
            f.write(f"""  - id: {group}-{i}
    name: {group.title()} camera {i}
    url: {clip}
    latitude: {31.2 + i * 0.001:.4f}
    longitude: 121.4
    sample_interval: {sample_interval}
    real_time: false
    loop: true
    detectors: [illegal_parking, garbage, street_stall, billboard]
""")
    return http


def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return float("nan") if sxx == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--warmup-frames", type=int, default=1000)
    ap.add_argument("--every", type=float, default=15, help="seconds between samples")
    ap.add_argument("--model", default="yolov8n-coco-int8")
    ap.add_argument("--json")
    ap.add_argument("--wrap", default="", help="command the service runs under, e.g. 'heaptrack -o /tmp/ht' (split on spaces)")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the service (repeatable), e.g. MALLOC_ARENA_MAX=2")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="citysight-soak-")
    http = write_config(work, a.model, a.cameras, "soak", "0.5s")
    cli = os.path.join(repo, "src", "CitySight.Cli", "bin", "Release", "net10.0", "citysight.dll")
    log = open(os.path.join(work, "service.log"), "w")
    env = dict(os.environ, **dict(e.split("=", 1) for e in a.env))
    proc = subprocess.Popen(a.wrap.split() + ["dotnet", cli, "run", "-c", os.path.join(work, "citysight.yaml")],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    samples = []
    try:
        end = time.time() + a.minutes * 60
        print(f"soak: {a.cameras} looping file cameras, {a.model}, {a.minutes} min; service log {log.name}")
        print(f"{'s':>6} {'frames':>8} {'RSS MiB':>9} {'managed MiB':>12} {'native MiB':>11} {'GC commit':>10} {'anon-GC':>8} {'file':>7} {'threads':>8}")
        t0 = time.time()
        while time.time() < end and proc.poll() is None:
            time.sleep(a.every)
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=5).read().decode()
            except OSError:
                continue
            status = open(f"/proc/{service_pid(proc.pid, work)}/status").read()
            kb = lambda key: int(re.search(key + r":\s+(\d+)", status).group(1))
            rss = kb("VmRSS") / 1024
            managed = (metric(text, "dotnet_total_memory_bytes") or 0) / 2**20
            # What the GC holds (live objects, garbage not yet collected, free space kept): resident, but not native.
            committed = (metric(text, "system_runtime_dotnet_gc_last_collection_memory_committed_size") or 0) / 2**20
            frames = metric(text, "citysight_frames_inferred_total") or 0
            samples.append({"s": round(time.time() - t0), "frames": frames, "rss": rss, "managed": managed, "native": rss - managed,
                            "gc_committed": committed, "anon_minus_gc": kb("RssAnon") / 1024 - committed,
                            "file": kb("RssFile") / 1024, "threads": kb("Threads")})
            x = samples[-1]
            print(f"{x['s']:>6} {int(frames):>8} {rss:>9.1f} {managed:>12.1f} {x['native']:>11.1f} {committed:>10.1f} "
                  f"{x['anon_minus_gc']:>8.1f} {x['file']:>7.1f} {x['threads']:>8}", flush=True)
    finally:
        # Under --wrap the wrapper may not pass the signal on: the service gets it itself.
        service = service_pid(proc.pid, work)
        if service != proc.pid:
            try:
                os.kill(service, signal.SIGINT)
            except OSError:
                pass
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.close()
    if proc.returncode not in (0, None, -signal.SIGINT) and not samples:
        print(open(log.name).read()[-3000:], file=sys.stderr)
        print(f"soak: the service stopped (exit {proc.returncode}); its files are in {work}", file=sys.stderr)
        return 1
    warm = [x for x in samples if x["frames"] >= a.warmup_frames]
    xs = [x["frames"] / 1000 for x in warm]
    result = {k: slope(xs, [x[k] * 1024 for x in warm]) for k in ("rss", "managed", "native", "gc_committed", "anon_minus_gc", "file")}
    frames = (warm[-1]["frames"] - warm[0]["frames"]) if len(warm) > 1 else 0
    print(f"after warm-up ({a.warmup_frames} frames): {int(frames)} frames over {len(warm)} samples; "
          f"slope per 1,000 frames: resident {result['rss']:.0f} KiB, managed {result['managed']:.0f} KiB, native {result['native']:.0f} KiB; "
          f"GC committed {result['gc_committed']:.0f} KiB, anonymous minus GC committed {result['anon_minus_gc']:.0f} KiB, "
          f"file-backed {result['file']:.0f} KiB")
    if a.json:
        json.dump({"samples": samples, "slope_kib_per_1000_frames": result}, open(a.json, "w"), indent=1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
