#!/usr/bin/python3
"""A real RTSP camera simulator for CitySight's tests and demo.

Serves each `--mount NAME=/path/video.mp4` (an H.264 MP4) at rtsp://127.0.0.1:PORT/NAME as
H.264 over RTP, looping the clip forever with continuous, monotonic timestamps.

How the loop stays seamless: per mount one always-running decode pipeline of our own
(filesrc ! qtdemux ! h264parse ! avdec_h264 ! intervideosink) that is seeked back to 0 at the end
of each pass, and a shared RTSP media whose live intervideosrc re-encodes whatever picture is
current. The RTSP side never sees the seek, so its RTP timestamps only ever increase and the
encoder keeps a fixed GOP.

`--stall NAME` adds a mount that answers DESCRIBE/SETUP/PLAY but never sends a frame
(caps flow, buffers are dropped): a camera that hangs after connecting.

Prints `READY <port>` once listening. Exits on SIGTERM/SIGINT, and, when stdin is a pipe, when that pipe
reaches EOF: the program that started us holds its other end, so we cannot outlive it.
Run with Debian's /usr/bin/python3 (it has `gi`).
"""
import argparse
import os
import signal
import stat
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def encoder_chain(gop: int) -> str:
    # zerolatency + no B-frames: each frame goes out as soon as it is encoded. key-int-max with scene-cut
    # detection off gives a fixed GOP (the time-lapse clip changes scene every half second).
    return (
        f"videoconvert ! video/x-raw,format=I420 ! "
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bframes=0 threads=1 "
        f'option-string="scenecut=0"'
    )


class LoopingSource:
    """Decodes one file forever into an intervideo channel, seeking back to 0 at each end."""

    def __init__(self, name: str, path: str):
        self.name = path  # for messages
        self.channel = f"citysight-{name}"
        self.pipeline = Gst.parse_launch(
            f"filesrc name=file ! qtdemux ! h264parse ! avdec_h264 ! "
            f"videoconvert ! intervideosink channel={self.channel}"
        )
        # Set as a property rather than in the launch line: no quoting rules for odd paths.
        self.pipeline.get_by_name("file").set_property("location", path)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)
        self.loops = 0

    def start(self) -> None:
        if self.pipeline.set_state(Gst.State.PAUSED) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(f"{self.name}: cannot open the source")
        # Wait for preroll so that the first segment seek has something to act on.
        ret, _, _ = self.pipeline.get_state(10 * Gst.SECOND)
        if ret == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(f"{self.name}: the source does not preroll (not an H.264 MP4?)")
        # A segment seek ends with SEGMENT_DONE instead of EOS, so the next (non-flushing) seek
        # continues the running time without a flush: no gap, no timestamp reset.
        self._seek(Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)
        self.pipeline.set_state(Gst.State.PLAYING)

    def stop(self) -> None:
        self.pipeline.set_state(Gst.State.NULL)

    def _seek(self, flags) -> None:
        self.pipeline.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)

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
            print(f"{self.name}: decode error: {err.message} ({dbg})", file=sys.stderr, flush=True)


def parse_mount(text: str):
    name, sep, path = text.partition("=")
    name = name.strip().strip("/")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=/path/video.mp4, got {text!r}")
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"mount {name}: no such file {path!r}")
    return name, path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8554, help="TCP port; 0 picks a free one (printed on READY)")
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--mount", type=parse_mount, action="append", default=[], help="NAME=/path/video.mp4 (H.264 MP4)")
    ap.add_argument("--stall", action="append", default=[], help="NAME of a mount that connects but never sends a frame")
    ap.add_argument("--fps", type=int, default=20)
    ap.add_argument("--gop", type=int, default=20, help="frames between keyframes in the RTSP stream")
    args = ap.parse_args()
    if not args.mount and not args.stall:
        ap.error("give at least one --mount or --stall")

    Gst.init(None)
    loop = GLib.MainLoop()
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()

    sources = {}
    for name, path in args.mount:
        # Mounts of the same file share one decoder (a demo may serve one clip as many cameras).
        key = os.path.realpath(path)
        src = sources.get(key)
        if src is None:
            src = sources[key] = LoopingSource(f"src{len(sources)}", path)
        factory = GstRtspServer.RTSPMediaFactory()
        # intervideosrc is live and stamps frames from its own clock: RTP timestamps stay monotonic across loops.
        factory.set_launch(
            f"( intervideosrc channel={src.channel} ! video/x-raw,framerate={args.fps}/1 ! {encoder_chain(args.gop)} ! "
            f"rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        factory.set_shared(True)
        mounts.add_factory("/" + name, factory)

    for name in args.stall:
        name = name.strip("/")
        factory = GstRtspServer.RTSPMediaFactory()
        # Caps (and so the SDP) get through the valve; no buffer ever does.
        factory.set_launch(
            f"( videotestsrc is-live=true pattern=black ! video/x-raw,width=320,height=240,framerate={args.fps}/1 ! "
            f"{encoder_chain(args.gop)} ! valve drop=true drop-mode=forward-sticky-events ! "
            f"rtph264pay name=pay0 pt=96 )"
        )
        factory.set_shared(True)
        mounts.add_factory("/" + name, factory)

    for src in sources.values():
        src.start()

    if server.attach(None) == 0:
        print(f"cannot listen on {args.address}:{args.port}", file=sys.stderr, flush=True)
        return 2

    def quit_(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, quit_)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, quit_)

    def on_stdin(_fd, cond):
        # EOF/HUP on stdin: our parent is gone (or closed it on purpose).
        if cond & (GLib.IO_HUP | GLib.IO_ERR):
            return quit_()
        if not os.read(0, 4096):
            return quit_()
        return GLib.SOURCE_CONTINUE

    # Only a pipe is watched (what a parent process gives us); a terminal or /dev/null is left alone.
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)

    print(f"READY {server.get_bound_port()}", flush=True)
    try:
        loop.run()
    finally:
        for src in sources.values():
            src.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
