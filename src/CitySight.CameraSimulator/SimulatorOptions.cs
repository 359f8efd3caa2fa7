namespace CitySight.CameraSimulator;

/// <summary>One simulated camera: served at rtsp://127.0.0.1:PORT/{Name}, looping the video forever.</summary>
public sealed record SimulatorMount(string Name, string VideoPath);

/// <summary>What an <see cref="RtspSimulator"/> serves and where.</summary>
public sealed record SimulatorOptions
{
    /// <summary>TCP port to listen on; 0 lets the server pick a free one (see <see cref="RtspSimulator.Port"/>).</summary>
    public int Port { get; init; }

    /// <summary>What to serve. Any format ffmpeg reads; non-H.264 sources are transcoded once into <see cref="CacheDir"/>.</summary>
    public IReadOnlyList<SimulatorMount> Mounts { get; init; } = [];

    /// <summary>Mounts that accept a connection (DESCRIBE/SETUP/PLAY) but never send a frame.</summary>
    public IReadOnlyList<string> StallMounts { get; init; } = [];

    /// <summary>Where H.264 transcodes are kept, keyed by source file name, size and modification time.</summary>
    public string CacheDir { get; init; } = Path.Combine(Path.GetTempPath(), "citysight-simulator-cache");

    /// <summary>Frame rate of the RTSP streams.</summary>
    public int FrameRate { get; init; } = 20;

    /// <summary>Frames between keyframes in the RTSP streams (and in the transcodes).</summary>
    public int KeyframeInterval { get; init; } = 20;

    /// <summary>How long to wait for the server's READY line.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>An interpreter with GStreamer's introspection (`gi`): Debian's python3.</summary>
    public string PythonPath { get; init; } = "/usr/bin/python3";

    /// <summary>The server script; defaults to rtsp_simulator.py beside this assembly.</summary>
    public string? ScriptPath { get; init; }

    /// <summary>The ffmpeg program used for transcodes.</summary>
    public string FfmpegPath { get; init; } = "ffmpeg";
}
