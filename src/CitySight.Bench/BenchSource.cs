using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Ingest;

namespace CitySight.Bench;

internal enum BenchSourceKind { Video, Images, Rtsp }

/// <summary>
/// What the bench feeds the pipeline: a video file (looped, decoded by ffmpeg as fast as the pipeline takes frames), an
/// RTSP URL (live, newest frame wins), or a folder of images (decoded once, copied into fresh frames in a loop). Also holds
/// a few real frames for the bare baseline's input tensors.
/// </summary>
internal sealed class BenchSource : IDisposable
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];

    /// <summary>Images of a folder that are used at most (each stream cycles through them).</summary>
    private const int MaxImages = 64;

    private BenchSource(string location, BenchSourceKind kind, Frame[] samples)
    {
        Location = location;
        Kind = kind;
        Samples = samples;
    }

    /// <summary>The path or URL as given (may hold a password: print <see cref="Display"/>).</summary>
    public string Location { get; }

    public string Display => Secrets.RedactUrl(Location);
    public BenchSourceKind Kind { get; }

    /// <summary>Real frames: every image of a folder, or the first frames of a video or stream.</summary>
    public Frame[] Samples { get; }

    /// <summary>
    /// Checks the source and reads its sample frames. <paramref name="samples"/>: frames wanted from a video or stream
    /// (the largest batch measured). <paramref name="maxWidth"/>: the service's decoder scaling (0 = none).
    /// </summary>
    /// <exception cref="BenchException">Missing, empty or unreadable.</exception>
    public static async Task<BenchSource> OpenAsync(string location, int samples, int maxWidth, int maxHeight, CancellationToken ct)
    {
        if (VideoReader.IsNetworkUrl(location))
            return new BenchSource(location, BenchSourceKind.Rtsp,
                await ReadSamplesAsync(StreamUrl(location, 0), live: true, samples, maxWidth, maxHeight, ct).ConfigureAwait(false));

        var full = Path.GetFullPath(location);
        var isImage = File.Exists(full) && ImageExtensions.Contains(Path.GetExtension(full).ToLowerInvariant());
        if (Directory.Exists(full) || isImage)
        {
            var files = isImage
                ? [full]
                : Directory.EnumerateFiles(full)
                    .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .Order(StringComparer.Ordinal)
                    .Take(MaxImages)
                    .ToList();
            if (files.Count == 0)
                throw new BenchException($"no *.jpg or *.png images in the folder {location}");
            var frames = new List<Frame>(files.Count);
            try
            {
                foreach (var f in files)
                {
                    try
                    {
                        frames.Add(EvidenceImage.LoadFrame(f, "bench"));
                    }
                    catch (Exception ex) when (ex is InvalidDataException or IOException)
                    {
                        throw new BenchException($"cannot read the image {f}: {ex.Message}");
                    }
                }
            }
            catch
            {
                foreach (var f in frames) f.Dispose();
                throw;
            }
            return new BenchSource(full, BenchSourceKind.Images, [.. frames]);
        }

        if (!File.Exists(full))
            throw new BenchException($"no such file or folder: {location}");
        return new BenchSource(full, BenchSourceKind.Video,
            await ReadSamplesAsync(full, live: false, samples, maxWidth, maxHeight, ct).ConfigureAwait(false));
    }

    /// <summary>The URL of stream <paramref name="index"/>: "{i}" in an RTSP URL becomes the stream number (0, 1, …).</summary>
    public static string StreamUrl(string location, int index) =>
        location.Replace("{i}", index.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static async Task<Frame[]> ReadSamplesAsync(string url, bool live, int count, int maxWidth, int maxHeight, CancellationToken ct)
    {
        var frames = new List<Frame>(count);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var options = new VideoReadOptions
        {
            SampleInterval = TimeSpan.Zero,
            RealTime = false,
            Loop = !live,
            Decode = DecodeMode.AllFrames,
            DecoderThreads = 1,
            MaxFrameWidth = maxWidth,
            MaxFrameHeight = maxHeight,
        };
        try
        {
            await foreach (var f in VideoReader.ReadAsync("bench", url, options, timeout.Token).ConfigureAwait(false))
            {
                frames.Add(f);
                if (frames.Count >= count) break;
            }
        }
        catch (StreamException ex)
        {
            foreach (var f in frames) f.Dispose();
            throw new BenchException($"cannot read {Secrets.RedactUrl(url)}: {StreamException.Describe(ex.Kind)}: {ex.Reason}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            foreach (var f in frames) f.Dispose();
            throw new BenchException($"no frame from {Secrets.RedactUrl(url)} within 30 s");
        }
        catch
        {
            foreach (var f in frames) f.Dispose();
            throw;
        }
        if (frames.Count == 0) throw new BenchException($"{Secrets.RedactUrl(url)} has no decodable video frame");
        return [.. frames];
    }

    public void Dispose()
    {
        foreach (var f in Samples) f.Dispose();
    }
}
