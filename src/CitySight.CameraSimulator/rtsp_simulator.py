#!/usr/bin/python3
"""A real RTSP camera simulator for CitySight's tests, demo and ingest benchmarks.

Serves H.264 MP4 files as looping RTSP cameras at rtsp://ADDRESS:PORT/NAME, one process for 1000+ mounts.

Design (why it scales):
  * Per distinct file ONE source pipeline of our own: filesrc ! qtdemux ! h264parse ! appsink, synced to
    the clock (native frame rate), looped with segment seeks. Nothing is decoded or encoded: the file's
    H.264 access units are passed through. h264parse config-interval=-1 puts SPS/PPS in front of every
    IDR, so a client that joins mid-stream can decode from the next keyframe.
  * Per mount a shared RTSPMediaFactory whose media is `appsrc ! rtph264pay`. A media exists only while
    a client uses the mount (created on DESCRIBE, unprepared when the last client leaves); the source
    fans its access units out only to the medias that exist, so idle mounts cost nothing; a file none of
    whose mounts is in use is paused, so an idle server costs nothing at all.
  * Each access unit is stamped with the mount's own running time as it is pushed: the RTSP side never
    sees the seek back to 0 and each mount's RTP timestamps only ever increase. Sources must have no
    B-frames (timestamps are given in decode order); the C# side (H264Cache) makes sure of that.
  * A feed starts on a keyframe; when a feed falls behind (its appsrc queue fills up) it drops frames
    up to the next keyframe instead of sending a broken GOP.

`--stall NAME` adds a mount that answers DESCRIBE/SETUP/PLAY but never sends a frame (caps flow,
buffers are dropped): a camera that hangs after connecting.
`--auth USER:PASSWORD` requires HTTP basic authentication on every mount (401 without it).

Mounts: `--mount NAME=FILE`, `--mounts-per-file PREFIX:COUNT=FILE` (PREFIX000..PREFIX999 for COUNT=1000:
the index is zero-padded to the width of COUNT-1), and/or `--config FILE` (or `--config -`: the first
line of stdin), a JSON object {"mounts": [{"name", "file"}], "mount_groups": [{"prefix", "count", "file"}],
"stall": [NAME], "auth": {"user", "password"}}.

Prints `READY <port>` once listening. A line `stats [ID]` on stdin is answered with `STATS {json}` on stdout
(id, mounts, sources, sources_playing, feeds = mounts in use, active_mounts, pushed, dropped, source_frames, loops).
Exits on SIGTERM/SIGINT, and, when stdin is a pipe, when that pipe reaches EOF: the program that started
us holds its other end, so we cannot outlive it. Run with Debian's /usr/bin/python3 (it has `gi`).
"""
import argparse
import json
import os
import signal
import stat
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# A feed whose appsrc holds this many access units (about a second) is not being drained (its client is slow
# or stuck): stop feeding it until it drains, and restart on a keyframe.
MAX_QUEUED = 30


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Feed:
    """One existing media of one mount: the appsrc we push access units into."""

    __slots__ = ("mount", "appsrc", "pipeline", "caps_gen", "need_key", "active")

    def __init__(self, mount: str, appsrc):
        self.mount = mount
        self.appsrc = appsrc
        self.pipeline = appsrc
        while self.pipeline.get_parent() is not None:
            self.pipeline = self.pipeline.get_parent()
        self.caps_gen = -1
        self.need_key = True
        # A new media is fed at once: a live media's pipeline is PLAYING while it prepares and needs a
        # first buffer (its caps, for the SDP) before DESCRIBE can be answered.
        self.active = True

    def offer(self, caps, caps_gen: int, buf, key: bool) -> int:
        """Pushes one access unit; 1 if pushed, 0 if skipped (waiting for a keyframe), -1 if dropped."""
        if self.need_key:
            if not key:
                return 0
            self.need_key = False
        if self.appsrc.get_property("current-level-buffers") >= MAX_QUEUED:
            self.need_key = True
            return -1
        if caps_gen != self.caps_gen:
            # Queued in order with the buffers: a resolution change reaches the payloader where it happens.
            self.appsrc.set_property("caps", caps)
            self.caps_gen = caps_gen
        out = buf.copy()  # shares the memory; only the metadata is new
        out.pts = out.dts = self._running_time()
        if self.appsrc.emit("push-buffer", out) == Gst.FlowReturn.OK:
            return 1
        # Not started yet or shutting down (FLUSHING): start again on a keyframe.
        self.need_key = True
        return 0

    def _running_time(self) -> int:
        """The media pipeline's running time now: the timestamp of an access unit pushed now.

        Not appsrc's do-timestamp: racing the live pipeline's first start, that sometimes stamped the first
        buffer with base time 0 (running time = the clock's absolute time, hours ahead), and the RTP sink then
        waited for it forever. A stamp from here is never ahead of the pipeline's running time.
        """
        if self.pipeline.get_state(0)[1] == Gst.State.PLAYING:
            clock = self.pipeline.get_clock()
            base = self.pipeline.get_base_time()
            if clock is not None and base != 0:
                return max(0, clock.get_time() - base)
        # Not playing: a new media (about to start at 0) or a prepared one waiting PAUSED for its client's
        # PLAY (a few ms). Its running time stands at its start time; what is queued meanwhile goes out at
        # once when it plays, so a client starts on the keyframe that prepared the media, not a GOP later.
        start = self.pipeline.get_start_time()
        return 0 if start == Gst.CLOCK_TIME_NONE else start


class LoopingSource:
    """Reads one H.264 MP4 forever at its native rate and fans its access units out to the feeds.

    It plays only while at least one mount of its file has a client: an unwatched file costs nothing either
    (it resumes where it paused; clients start on the next keyframe anyway)."""

    def __init__(self, index: int, path: str):
        self.path = path
        self.pipeline = Gst.parse_launch(
            "filesrc name=file ! qtdemux ! h264parse config-interval=-1 ! "
            "video/x-h264,stream-format=byte-stream,alignment=au ! "
            "appsink name=sink sync=true emit-signals=true max-buffers=4"
        )
        self.pipeline.set_name(f"source{index}")
        # Set as a property rather than in the launch line: no quoting rules for odd paths.
        self.pipeline.get_by_name("file").set_property("location", path)
        self.pipeline.get_by_name("sink").connect("new-sample", self._on_sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)
        self.lock = threading.Lock()
        self.feeds = ()  # replaced, never changed in place: the streaming thread iterates it without the lock
        self.caps = None
        self.caps_gen = 0
        self.loops = 0
        self.frames = 0
        self.pushed = 0
        self.dropped = 0
        self.playing = False

    def start(self) -> None:
        if self.pipeline.set_state(Gst.State.PAUSED) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(f"{self.path}: cannot open the source")
        # Wait for preroll so that the first segment seek has something to act on.
        ret, _, _ = self.pipeline.get_state(10 * Gst.SECOND)
        if ret == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(f"{self.path}: the source does not preroll (not an H.264 MP4?)")
        # A segment seek ends with SEGMENT_DONE instead of EOS, so the next (non-flushing) seek
        # continues the running time without a flush: no gap, no timestamp reset.
        self._seek(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)
        # Left prerolled (PAUSED) until a client comes.

    def stop(self) -> None:
        self.pipeline.set_state(Gst.State.NULL)

    def add(self, feed: Feed) -> None:
        with self.lock:
            self.feeds = self.feeds + (feed,)
            self._play(True)

    def remove(self, feed: Feed) -> None:
        with self.lock:
            self.feeds = tuple(f for f in self.feeds if f is not feed)
            self._play(len(self.feeds) > 0)

    def _play(self, play: bool) -> None:
        # Under self.lock, so that a client arriving as the last one leaves cannot leave the source paused.
        if play != self.playing:
            self.playing = play
            self.pipeline.set_state(Gst.State.PLAYING if play else Gst.State.PAUSED)

    def _seek(self, flags) -> None:
        self.pipeline.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)

    def _on_sample(self, sink):
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.FLUSHING
        buf = sample.get_buffer()
        caps = sample.get_caps()
        key = not buf.has_flags(Gst.BufferFlags.DELTA_UNIT)
        if self.caps is None or not caps.is_equal(self.caps):
            self.caps = caps
            self.caps_gen += 1
        self.frames += 1
        for feed in self.feeds:  # a snapshot: feeds come and go on other threads
            if feed.active:
                r = feed.offer(caps, self.caps_gen, buf, key)
                if r > 0:
                    self.pushed += 1
                elif r < 0:
                    self.dropped += 1
        return Gst.FlowReturn.OK

    def _on_message(self, _bus, msg) -> None:
        if msg.type == Gst.MessageType.SEGMENT_DONE:
            self.loops += 1
            self._seek(Gst.SeekFlags.SEGMENT)
        elif msg.type == Gst.MessageType.EOS:
            # Fallback if a segment seek was not honoured: a flushing seek still loops the clip.
            self.loops += 1
            self._seek(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            log(f"{self.path}: source error: {err.message} ({dbg})")


class Simulator:
    def __init__(self, fps: int, gop: int, auth):
        self.fps = fps
        self.gop = gop
        self.server = GstRtspServer.RTSPServer()
        # Many clients may connect at once (a benchmark starting 1000 readers): a deep listen queue.
        self.server.set_backlog(1024)
        # A thread per client connection (the default is ONE thread for all): DESCRIBE blocks its client until
        # the media has a first keyframe, and must not hold up every other camera's requests meanwhile.
        pool = GstRtspServer.RTSPThreadPool()
        pool.set_max_threads(-1)
        self.server.set_thread_pool(pool)
        self.mount_points = self.server.get_mount_points()
        self.sources = {}
        self.mounts = 0
        self.role = None
        if auth is not None:
            user, password = auth
            self.role = "camera-user"
            rtsp_auth = GstRtspServer.RTSPAuth()
            token = GstRtspServer.RTSPToken()
            token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, self.role)
            rtsp_auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            # No default token: an anonymous client has no role, so every mount answers 401.
            self.server.set_auth(rtsp_auth)

    def _factory(self, launch: str):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        if self.role is not None:
            factory.add_role_from_structure(Gst.Structure.from_string(
                f"{self.role}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")[0])
        return factory

    def add_mount(self, name: str, path: str) -> None:
        key = os.path.realpath(path)
        src = self.sources.get(key)
        if src is None:
            src = self.sources[key] = LoopingSource(len(self.sources), path)
        factory = self._factory(
            "( appsrc name=src is-live=true format=time max-bytes=0 "
            "! rtph264pay name=pay0 pt=96 )"
        )
        factory.connect("media-configure", self._on_media_configure, src, name)
        self.mount_points.add_factory("/" + name, factory)
        self.mounts += 1

    def add_stall(self, name: str) -> None:
        # A real stream up to the payloader, so that the media prepares (a live media needs one buffer there)
        # and DESCRIBE/SETUP/PLAY succeed; past the payloader every buffer is dropped. The encoder only runs
        # while a client holds the mount.
        factory = self._factory(
            f"( videotestsrc is-live=true pattern=black ! video/x-raw,width=320,height=240,framerate={self.fps}/1 ! "
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={self.gop} bframes=0 threads=1 ! "
            f"rtph264pay name=pay0 pt=96 )"
        )
        factory.connect("media-configure", self._on_stall_configure)
        self.mount_points.add_factory("/" + name, factory)
        self.mounts += 1

    @staticmethod
    def _on_stall_configure(_factory, media) -> None:
        def on_prepared(m):
            # Dropped where the payloader hands packets to the RTP session (its peer exists once prepared):
            # after the buffer that prepared the media, so not even that one reaches a client.
            peer = m.get_element().get_by_name("pay0").get_static_pad("src").get_peer()
            peer.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, lambda *_: Gst.PadProbeReturn.DROP)

        media.connect("prepared", on_prepared)

    @staticmethod
    def _on_media_configure(_factory, media, src: LoopingSource, name: str) -> None:
        feed = Feed(name, media.get_element().get_by_name("src"))

        def on_state(_media, state):
            # A media pauses when all its clients pause: stop feeding it and restart on a keyframe.
            feed.active = state == Gst.State.PLAYING
            if not feed.active:
                feed.need_key = True

        media.connect("new-state", on_state)
        # The last client has gone: the media is torn down and this mount costs nothing again.
        media.connect("unprepared", lambda _m: src.remove(feed))
        src.add(feed)

    def stats(self) -> dict:
        feeds = [f for s in self.sources.values() for f in s.feeds]
        return {
            "mounts": self.mounts,
            "sources": len(self.sources),
            "sources_playing": sum(1 for s in self.sources.values() if s.playing),
            "feeds": len(feeds),
            "active_mounts": sorted({f.mount for f in feeds}),
            "pushed": sum(s.pushed for s in self.sources.values()),
            "dropped": sum(s.dropped for s in self.sources.values()),
            "source_frames": sum(s.frames for s in self.sources.values()),
            "loops": sum(s.loops for s in self.sources.values()),
        }


def mount_name(text: str) -> str:
    name = text.strip().strip("/")
    if not name:
        raise ValueError("empty mount name")
    return name


def existing_file(name: str, path: str) -> str:
    if not os.path.isfile(path):
        raise ValueError(f"mount {name}: no such file {path!r}")
    return path


def group_names(prefix: str, count: int):
    if count < 1:
        raise ValueError(f"mount group {prefix}: count must be at least 1")
    width = len(str(count - 1))
    return [f"{prefix}{i:0{width}d}" for i in range(count)]


def parse_mount(text: str):
    name, sep, path = text.partition("=")
    try:
        if not sep or not path:
            raise ValueError(f"expected NAME=/path/video.mp4, got {text!r}")
        name = mount_name(name)
        return [(name, existing_file(name, path))]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_group(text: str):
    head, sep, path = text.partition("=")
    prefix, colon, count = head.rpartition(":")
    try:
        if not sep or not colon or not path:
            raise ValueError(f"expected PREFIX:COUNT=/path/video.mp4, got {text!r}")
        existing_file(prefix, path)
        return [(n, path) for n in group_names(prefix.strip("/"), int(count))]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_auth(text: str):
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError("expected USER:PASSWORD")
    return user, password


# stdin bytes read past the configuration line: the start of the commands that follow it.
STDIN_PENDING = bytearray()


def read_stdin_line() -> str:
    # Raw reads, not sys.stdin: a buffered reader would swallow what follows (commands, the EOF watch).
    while b"\n" not in STDIN_PENDING:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        STDIN_PENDING.extend(chunk)
    line, _, rest = bytes(STDIN_PENDING).partition(b"\n")
    STDIN_PENDING[:] = rest
    return line.decode("utf-8")


def load_config(source: str, mounts: list, stalls: list):
    text = read_stdin_line() if source == "-" else open(source, encoding="utf-8").read()
    cfg = json.loads(text)
    for m in cfg.get("mounts", []):
        name = mount_name(m["name"])
        mounts.append((name, existing_file(name, m["file"])))
    for g in cfg.get("mount_groups", []):
        existing_file(g["prefix"], g["file"])
        mounts.extend((n, g["file"]) for n in group_names(g["prefix"].strip("/"), int(g["count"])))
    stalls.extend(cfg.get("stall", []))
    auth = cfg.get("auth")
    return (auth["user"], auth["password"]) if auth else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8554, help="TCP port; 0 picks a free one (printed on READY)")
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--mount", type=parse_mount, action="append", default=[], help="NAME=/path/video.mp4 (H.264 MP4)")
    ap.add_argument("--mounts-per-file", type=parse_group, action="append", default=[],
                    help="PREFIX:COUNT=/path/video.mp4: COUNT mounts PREFIX0..PREFIX(COUNT-1), zero-padded")
    ap.add_argument("--stall", action="append", default=[], help="NAME of a mount that connects but never sends a frame")
    ap.add_argument("--auth", type=parse_auth, help="USER:PASSWORD required on every mount (basic auth)")
    ap.add_argument("--config", help="JSON file with mounts/mount_groups/stall/auth; '-' reads one line of stdin")
    ap.add_argument("--fps", type=int, default=20, help="frame rate of --stall mounts (file mounts run at their native rate)")
    ap.add_argument("--gop", type=int, default=20, help="frames between keyframes of --stall mounts")
    args = ap.parse_args()

    mounts = [m for group in args.mount + args.mounts_per_file for m in group]
    stalls = list(args.stall)
    auth = args.auth
    if args.config:
        try:
            auth = load_config(args.config, mounts, stalls) or auth
        except (OSError, ValueError, KeyError, TypeError) as e:
            ap.error(f"--config {args.config}: {e}")
    if not mounts and not stalls:
        ap.error("give at least one --mount, --mounts-per-file, --stall or --config")
    names = [n for n, _ in mounts] + [mount_name(s) for s in stalls]
    if len(set(names)) != len(names):
        ap.error("duplicate mount names")

    Gst.init(None)
    loop = GLib.MainLoop()
    sim = Simulator(args.fps, args.gop, auth)
    sim.server.set_address(args.address)
    sim.server.set_service(str(args.port))
    for name, path in mounts:
        sim.add_mount(name, path)
    for name in stalls:
        sim.add_stall(mount_name(name))

    try:
        for src in sim.sources.values():
            src.start()
    except RuntimeError as e:
        log(str(e))
        return 3

    if sim.server.attach(None) == 0:
        log(f"cannot listen on {args.address}:{args.port}")
        return 2

    def quit_(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, quit_)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, quit_)

    pending = STDIN_PENDING

    def run_commands():
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            words = line.decode("utf-8", "replace").split()
            if words[:1] == ["stats"]:
                # An optional request id is echoed, so that a late answer cannot be taken for a newer one.
                reply = sim.stats()
                if len(words) > 1:
                    reply["id"] = words[1]
                print("STATS " + json.dumps(reply), flush=True)

    def on_stdin(_fd, cond):
        # EOF/HUP on stdin: our parent is gone (or closed it on purpose).
        data = os.read(0, 65536) if cond & GLib.IO_IN else b""
        if not data:
            return quit_()
        pending.extend(data)
        run_commands()
        return GLib.SOURCE_CONTINUE

    # Only a pipe is watched (what a parent process gives us); a terminal or /dev/null is left alone.
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)

    print(f"READY {sim.server.get_bound_port()}", flush=True)
    run_commands()  # any sent along with the configuration
    try:
        loop.run()
    finally:
        for src in sim.sources.values():
            src.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
