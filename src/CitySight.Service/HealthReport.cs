using System.Text.RegularExpressions;
using CitySight.Domain;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;

namespace CitySight.Service;

/// <summary>
/// What /healthz says. The port answers anyone who reaches it, so cameras appear by id only: a camera's URL (its host,
/// path, user, password or query token) never does, not even inside a failure's reason.
/// </summary>
public static partial class HealthReport
{
    /// <summary>
    /// The /healthz document; <paramref name="warning"/> is the start-up security warning, if any;
    /// <paramref name="storeProblem"/> why the case store cannot be written now (cases wait in memory), if so.
    /// </summary>
    /// <param name="node">This node's id (cluster.node_id): the cameras listed are those it runs now.</param>
    public static object Of(IngestWorker ingest, PatrolWorker patrol, Func<string, Camera?> camera, string? warning,
        string? storeProblem = null, int casesWaitingForStore = 0, string? node = null) => new
    {
        status = storeProblem is null ? "serving" : "not_serving",
        node,
        store_problem = storeProblem,
        cases_waiting_for_store = casesWaitingForStore,
        warnings = warning is null ? Array.Empty<string>() : [warning],
        cameras = ingest.Sources.Select(src => new
        {
            id = src.Camera.Id,
            group = src.Camera.GroupId,
            mode = "continuous",
            state = src.Status.State.ToString(),
            reason = WithoutUrl(src.Status.Reason, src.Camera),
            last_frame = src.Status.LastFrameCaptureTime,
            frames = src.Status.FramesDecoded,
            reconnects = src.Status.Reconnects,
        }),
        patrol = new
        {
            worst_gap_s = patrol.WorstGap.TotalSeconds,
            cameras = patrol.Status().Select(p => new
            {
                id = p.CameraId,
                visiting = p.Visiting,
                last_visit = p.LastVisit,
                due = p.DueAt,
                last_gap_s = p.LastGap?.TotalSeconds,
                failures = p.ConsecutiveFailures,
                reason = WithoutUrl(p.Reason, camera(p.CameraId)),
            }),
        },
    };

    /// <summary>
    /// A failure reason with every URL replaced and the camera's own address parts (ffmpeg names the host or path on
    /// their own, e.g. "Failed to resolve hostname …") masked.
    /// </summary>
    public static string? WithoutUrl(string? reason, Camera? camera)
    {
        if (string.IsNullOrEmpty(reason)) return reason;
        var text = AnyUrl().Replace(reason, "(camera address)");
        if (camera is null) return text;
        foreach (var part in AddressParts(camera.Url).Where(p => p.Length >= 3).OrderByDescending(p => p.Length))
            text = text.Replace(part, "***", StringComparison.OrdinalIgnoreCase);
        return text;
    }

    private static IEnumerable<string> AddressParts(string url)
    {
        yield return url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) yield break;
        yield return uri.Host;
        foreach (var p in uri.UserInfo.Split(':')) yield return p;
        foreach (var p in uri.UserInfo.Split(':')) yield return Uri.UnescapeDataString(p);
        yield return uri.AbsolutePath.TrimEnd('/');
        foreach (var pair in uri.Query.TrimStart('?').Split('&'))
            foreach (var p in pair.Split('=')) yield return p;
    }

    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.-]*://\S+", RegexOptions.CultureInvariant)]
    private static partial Regex AnyUrl();
}
