using System.Globalization;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>
/// ffmpeg input options (placed before <c>-i</c>) that pick where a camera's video is decoded.
/// <para>
/// Hardware decoders are asked for with <c>-hwaccel</c> alone, without <c>-hwaccel_output_format</c>: decoded frames
/// then come back to system memory by themselves, and the same CPU filter chain (select, scale, bgr24 conversion,
/// showinfo) works for every decoder kind. Keeping frames on the GPU would need scale_cuda/scale_vaapi/vpp_qsv and an
/// explicit hwdownload per kind, a different filter chain for each and only worth it when scaling big frames down; the
/// download of a sampled frame (a few per second at most) is cheap next to the decode it saves.
/// If the hardware cannot decode a stream, ffmpeg falls back to its software decoder (with a warning on stderr).
/// </para>
/// </summary>
public static class DecoderArguments
{
    /// <summary>The render node VA-API uses when none is configured (the first GPU).</summary>
    public const string DefaultVaapiDevice = "/dev/dri/renderD128";

    /// <param name="kind">Where to decode.</param>
    /// <param name="threads">Software decoder threads (<c>-threads</c>); 0 lets ffmpeg choose. Only given for
    /// <see cref="DecoderKind.Cpu"/>: a hardware decoder does not use them.</param>
    /// <param name="codec">The stream's codec if already known (e.g. "h264", "hevc" from a previous connection); QSV needs it
    /// to name its decoder, the others ignore it.</param>
    /// <param name="device">VA-API: the render node (default <see cref="DefaultVaapiDevice"/>); QSV: an optional
    /// <c>-qsv_device</c>; CUDA: an optional GPU index for <c>-hwaccel_device</c>.</param>
    public static IReadOnlyList<string> For(DecoderKind kind, int threads = 0, string? codec = null, string? device = null)
    {
        var device0 = string.IsNullOrWhiteSpace(device) ? null : device;
        switch (kind)
        {
            case DecoderKind.Cpu:
                return threads > 0 ? ["-threads", threads.ToString(CultureInfo.InvariantCulture)] : [];
            case DecoderKind.Cuda:
                return device0 is null ? ["-hwaccel", "cuda"] : ["-hwaccel", "cuda", "-hwaccel_device", device0];
            case DecoderKind.Vaapi:
                return ["-hwaccel", "vaapi", "-hwaccel_device", device0 ?? DefaultVaapiDevice];
            case DecoderKind.Qsv:
                var a = new List<string> { "-hwaccel", "qsv" };
                if (device0 is not null) a.AddRange(["-qsv_device", device0]);
                // QSV decodes through its own decoders (h264_qsv, hevc_qsv); with the native decoder named instead,
                // ffmpeg would decode in software. Unknown or other codecs: leave the choice to ffmpeg.
                if (QsvDecoder(codec) is { } decoder) a.AddRange(["-c:v", decoder]);
                return a;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown decoder kind");
        }
    }

    private static string? QsvDecoder(string? codec) => codec?.Trim().ToLowerInvariant() switch
    {
        "h264" => "h264_qsv",
        "hevc" or "h265" => "hevc_qsv",
        _ => null,
    };
}
