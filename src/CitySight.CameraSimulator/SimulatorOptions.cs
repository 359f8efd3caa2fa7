using System.Globalization;

namespace CitySight.CameraSimulator;

/// <summary>One simulated camera: served at rtsp://127.0.0.1:PORT/{Name}, looping the video forever.</summary>
public sealed record SimulatorMount(string Name, string VideoPath);

/// <summary>A user name and password every mount asks for (RTSP basic authentication).</summary>
public sealed record SimulatorCredentials(string User, string Password)
{
    // Keeps the password out of logs and test output that print the options.
    public override string ToString() => $"{User}:***";
}

/// <summary>What an <see cref="RtspSimulator"/> serves and where.</summary>
public sealed record SimulatorOptions
{
    /// <summary>TCP port to listen on; 0 lets the server pick a free one (see <see cref="RtspSimulator.Port"/>).</summary>
    public int Port { get; init; }

    /// <summary>
    /// What to serve. Any format ffmpeg reads; H.264 MP4s without B-frames are served as they are (their own frame
    /// rate and GOP), anything else is transcoded once into <see cref="CacheDir"/>. Many mounts may share a file:
    /// it is read once for all of them (see <see cref="MountsFromFile"/>).
    /// </summary>
    public IReadOnlyList<SimulatorMount> Mounts { get; init; } = [];

    /// <summary>Mounts that accept a connection (DESCRIBE/SETUP/PLAY) but never send a frame.</summary>
    public IReadOnlyList<string> StallMounts { get; init; } = [];

    /// <summary>When set, every mount requires these credentials (401 Unauthorized without them).</summary>
    public SimulatorCredentials? Credentials { get; init; }

    /// <summary>Where H.264 transcodes are kept, keyed by source file name, size and modification time.</summary>
    public string CacheDir { get; init; } = Path.Combine(Path.GetTempPath(), "citysight-simulator-cache");

    /// <summary>Frame rate of the stall mounts (file mounts run at their file's native rate).</summary>
    public int FrameRate { get; init; } = 20;

    /// <summary>Frames between keyframes in transcodes (and in the stall mounts' streams).</summary>
    public int KeyframeInterval { get; init; } = 20;

    /// <summary>How long to wait for the server's READY line.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>An interpreter with GStreamer's introspection (`gi`): Debian's python3.</summary>
    public string PythonPath { get; init; } = "/usr/bin/python3";

    /// <summary>The server script; defaults to rtsp_simulator.py beside this assembly.</summary>
    public string? ScriptPath { get; init; }

    /// <summary>The ffmpeg program used for transcodes (ffprobe is taken from beside it).</summary>
    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>
    /// <paramref name="count"/> mounts serving one file, named <paramref name="prefix"/> plus an index zero-padded to
    /// the width of count-1 (cam000 … cam999 for 1000): cameras for scale tests and benchmarks. The file is read
    /// once however many mounts serve it. Same names as the script's <c>--mounts-per-file PREFIX:COUNT=FILE</c>.
    /// </summary>
    public static IReadOnlyList<SimulatorMount> MountsFromFile(string prefix, int count, string videoPath)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(videoPath);
        var width = (count - 1).ToString(CultureInfo.InvariantCulture).Length;
        var mounts = new SimulatorMount[count];
        for (var i = 0; i < count; i++)
            mounts[i] = new SimulatorMount(prefix + i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0'), videoPath);
        return mounts;
    }
}

/// <summary>A snapshot of the server (<see cref="RtspSimulator.GetStatsAsync"/>).</summary>
/// <param name="Mounts">Mounts declared (stall mounts included).</param>
/// <param name="Sources">Distinct files read (one pipeline each, shared by all their mounts).</param>
/// <param name="SourcesPlaying">Files playing now: those with at least one mount in use (the others are paused).</param>
/// <param name="Feeds">Mounts' media that exist now, i.e. mounts with at least one client.</param>
/// <param name="ActiveMounts">Names of those mounts.</param>
/// <param name="Pushed">Access units handed to mounts since the start.</param>
/// <param name="Dropped">Access units dropped because a mount's client did not keep up.</param>
/// <param name="SourceFrames">Access units read from the files since the start.</param>
/// <param name="Loops">Times the files were rewound.</param>
public sealed record SimulatorStats(int Mounts, int Sources, int SourcesPlaying, int Feeds, IReadOnlyList<string> ActiveMounts,
    long Pushed, long Dropped, long SourceFrames, long Loops);
