#!/usr/bin/env python3
"""Console load: does an open command-centre console cost the service frames? (issue 15: within 5 %)

Runs the service on looping file cameras played as fast as they decode (the detector saturated, so anything the
console takes from the service shows as fewer frames), and measures frames inferred per second in alternating phases:
with no browser, then with Debian's chromium (headless) showing the console's views, round after round. Prints each
phase, the medians and the ratio with/without, and the CPU seconds the service and the browser used.

The browser runs under `nice 19`: in a command centre it runs on the operator's PC, not on the service's box; what
must not cost frames is the service's side (the API, server-sent events, the cameras' pictures).

Usage: benchmarks/console/console_load.py [--cameras N] [--seconds S] [--rounds R] [--warmup S] [--view '#/cameras' ...]
Needs a Release build of src/CitySight.Cli (with its console page) and ../shared/assets beside the checkout."""
import argparse, json, os, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "soak"))
from soak import free_port, metric, repo, write_config  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return total


def tree(pid):
    """pid and every descendant (chromium's renderers and helpers)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def open_console(work, http, views):
    """Headless chromium (one target only on its command line) with each view in a tab of its own, opened through its
    DevTools endpoint; returns once every tab has loaded for a few seconds."""
    profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
    port = free_port()
    urls = [f"http://127.0.0.1:{http}/{v}" for v in views]
    browser = subprocess.Popen(["nice", "-n", "19", "/usr/bin/chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                f"--remote-debugging-port={port}", "--window-size=1920,1080", urls[0]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2).read()
            break
        except OSError:
            if browser.poll() is not None or time.time() > deadline:
                raise SystemExit(f"console_load: chromium did not start (exit {browser.poll()})")
            time.sleep(0.3)
    for url in urls[1:]:
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{url}", method="PUT"), timeout=10).read()
    pages = [t for t in json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5).read()) if t.get("type") == "page"]
    if len(pages) < len(urls):
        raise SystemExit(f"console_load: chromium shows {len(pages)} of {len(urls)} views")
    time.sleep(5)  # the pages load before the clock starts: a steady open console is what is measured
    return browser


def frames(http):
    text = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=5).read().decode()
    return metric(text, "citysight_frames_inferred_total") or 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=45, help="length of each phase")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=30, help="seconds before the first phase")
    ap.add_argument("--model", default="yolox-nano-coco")
    ap.add_argument("--view", action="append", help="console views to open, e.g. '#/' '#/cameras' (default: both)")
    ap.add_argument("--json")
    a = ap.parse_args()
    views = a.view or ["#/", "#/cameras"]

    work = tempfile.mkdtemp(prefix="citysight-console-load-")
    http = write_config(work, a.model, a.cameras, "load", "0.2s")
    cli = os.path.join(repo, "src", "CitySight.Cli", "bin", "Release", "net10.0", "citysight.dll")
    log = open(os.path.join(work, "service.log"), "w")
    service = subprocess.Popen(["dotnet", cli, "run", "-c", os.path.join(work, "citysight.yaml")], stdout=log, stderr=subprocess.STDOUT)
    phases = []
    try:
        deadline = time.time() + 120
        while True:
            try:
                frames(http)
                break
            except OSError:
                if service.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"console_load: the service did not start; see {log.name}")
                time.sleep(0.5)
        print(f"console_load: {a.cameras} looping file cameras as fast as they decode, {a.model}; views {' '.join(views)}; "
              f"{a.rounds} round(s) of {a.seconds:.0f} s without, then with the console open", flush=True)
        time.sleep(a.warmup)
        for r in range(1, a.rounds + 1):
            for kind in ("without", "with"):
                browser = None
                if kind == "with":
                    browser = open_console(work, http, views)
                f0, t0 = frames(http), time.time()
                s0 = cpu_seconds([service.pid])
                b0 = cpu_seconds(tree(browser.pid)) if browser else 0.0
                time.sleep(a.seconds)
                f1, t1 = frames(http), time.time()
                s1 = cpu_seconds([service.pid])
                b1 = cpu_seconds(tree(browser.pid)) if browser else 0.0
                if browser:
                    if browser.poll() is not None:
                        raise SystemExit(f"console_load: chromium exited ({browser.returncode}) during the phase: nothing was measured")
                    browser.send_signal(signal.SIGTERM)
                    try:
                        browser.wait(10)
                    except subprocess.TimeoutExpired:
                        browser.kill()
                fps = (f1 - f0) / (t1 - t0)
                phases.append({"round": r, "kind": kind, "fps": fps, "service_cpu_s": s1 - s0, "browser_cpu_s": b1 - b0})
                print(f"round {r} {kind:>7}: {fps:7.2f} frames/s, service CPU {s1 - s0:6.1f} s, browser CPU {b1 - b0:6.2f} s", flush=True)
    finally:
        service.send_signal(signal.SIGINT)
        try:
            service.wait(30)
        except subprocess.TimeoutExpired:
            service.kill()
        log.close()
    without = statistics.median(p["fps"] for p in phases if p["kind"] == "without")
    with_ = statistics.median(p["fps"] for p in phases if p["kind"] == "with")
    ratio = with_ / without if without else float("nan")
    print(f"median frames/s: without {without:.2f}, with the console open {with_:.2f}; ratio {ratio:.3f} "
          f"(goal >= 0.95: {'met' if ratio >= 0.95 else 'NOT met'})")
    if a.json:
        json.dump({"phases": phases, "without_fps": without, "with_fps": with_, "ratio": ratio}, open(a.json, "w"), indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
