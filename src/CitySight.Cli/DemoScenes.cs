using System.Diagnostics;
using System.Globalization;

namespace CitySight.Cli;

/// <summary>
/// Scenes the demo's camera simulator serves on the mounts named after them (the path of the camera's URL, e.g.
/// rtsp://127.0.0.1:8554/garbage-left); every other mount serves the demo clip itself. A scene is composed from the
/// real parking-lot clip with the ffmpeg program the first time it is needed and kept in a cache folder.
/// </summary>
internal static class DemoScenes
{
    /// <summary>
    /// The car park with building materials put down on the site road: scenarios/make-media.sh's garbage recipe (g=1),
    /// shortened and looped. The real empty car park (frame 30 of the clip) for <see cref="PileFrom"/>, then the real
    /// stack of pallets from the same frame (box 42x24 at 190,273, scaled x2, feathered) on the road with its foot at
    /// (0.50, 0.935) until the end of the loop.
    /// </summary>
    public const string GarbageLeft = "garbage-left";

    // Bump when the recipe changes: the version is in the cached file's name.
    private const int Recipe = 1;

    // Empty for the first 10 s: the static-object pass learns the scene from the camera's first frame, which must not
    // show the pile even when the RTSP connection takes a few seconds. At the loop the pile vanishes for these 10 s and
    // comes back at the same place: the tracker keeps a stationary track for 2 minutes, so it is the same track, and
    // the same open case (sightings, never a second case).
    private static readonly TimeSpan PileFrom = TimeSpan.FromSeconds(10);

    // Long enough that the pile holds still for settle_time (30 s) + the demo's garbage dwell (20 s) + confirmation
    // within the first pass.
    private static readonly TimeSpan Loop = TimeSpan.FromSeconds(90);

    // 5 fps with a keyframe every second: the camera samples once a second and may decode keyframes only.
    private const int FrameRate = 5;

    private const string Feather =
        "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='255*clip(6*(1-pow(abs(2*X/W-1),8)-pow(abs(2*Y/H-1),8)),0,1)'";

    public static bool IsScene(string mount) => mount == GarbageLeft;

    /// <summary>
    /// The scene's video in <paramref name="cacheDir"/>, composed from <paramref name="clip"/> (the parking-lot CCTV
    /// clip: the recipe's boxes are in its pixels) when missing. Written under a temporary name and renamed.
    /// </summary>
    public static async Task<string> EnsureAsync(string mount, string clip, string cacheDir, string ffmpeg, CancellationToken ct)
    {
        if (!IsScene(mount)) throw new ArgumentException($"no demo scene is called '{mount}'", nameof(mount));
        var source = new FileInfo(clip);
        if (!source.Exists) throw new FileNotFoundException($"demo clip not found: {clip}", clip);
        // The clip's size in the name: another clip under the same name gets its own scene.
        var target = Path.Combine(cacheDir, string.Create(CultureInfo.InvariantCulture, $"{mount}-d{Recipe}-{source.Length}.mp4"));
        if (File.Exists(target)) return target;

        Directory.CreateDirectory(cacheDir);
        var work = Path.Combine(cacheDir, $".{mount}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var background = Path.Combine(work, "background.png");
            var pile = Path.Combine(work, "materials.png");
            var video = Path.Combine(work, "scene.mp4");
            await FfmpegAsync(ffmpeg, ["-i", clip, "-vf", @"select=eq(n\,30)", "-frames:v", "1", "-update", "1", background], ct);
            await FfmpegAsync(ffmpeg, ["-i", background, "-vf", "crop=42:24:190:273,scale=84:48," + Feather, "-frames:v", "1", "-update", "1", pile], ct);
            var rate = FrameRate.ToString(CultureInfo.InvariantCulture);
            var seconds = Loop.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            await FfmpegAsync(ffmpeg,
            [
                "-loop", "1", "-framerate", rate, "-t", seconds, "-i", background,
                "-loop", "1", "-framerate", rate, "-t", seconds, "-i", pile,
                "-filter_complex", string.Create(CultureInfo.InvariantCulture, $@"[0][1]overlay=x=278:y=401:enable=gte(t\,{PileFrom.TotalSeconds})"),
                "-t", seconds,
                // What the simulator passes through as it is: H.264 in MP4, no B-frames, a fixed GOP.
                "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt", "yuv420p",
                "-bf", "0", "-g", rate, "-keyint_min", rate, "-sc_threshold", "0", "-movflags", "+faststart", "-f", "mp4", video,
            ], ct);
            File.Move(video, target, overwrite: true);
            return target;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task FfmpegAsync(string ffmpeg, IEnumerable<string> arguments, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(ffmpeg) { RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in (string[])["-hide_banner", "-nostdin", "-loglevel", "error", "-y", .. arguments]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {ffmpeg}");
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(ffmpeg)} could not build a demo scene (exit {p.ExitCode}): {(await stderr).Trim()}");
    }
}
