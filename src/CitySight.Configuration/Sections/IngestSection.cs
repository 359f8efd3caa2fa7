using CitySight.Ingest;

namespace CitySight.Configuration;

/// <summary>ingest: how many streams and patrol visits this machine holds, the largest frame it decodes, and whom rtsps cameras must prove to be.</summary>
internal static class IngestSection
{
    public static IngestOptions Read(Section top)
    {
        var i = new IngestOptions();
        if (top.Child("ingest") is not { } sec) return i;
        return i with
        {
            MaxStreams = sec.Int("max_streams") ?? i.MaxStreams,
            PatrolConcurrency = sec.Int("patrol_concurrency") ?? i.PatrolConcurrency,
            SnapshotTimeout = sec.Duration("snapshot_timeout") ?? i.SnapshotTimeout,
            MaxFrameWidth = sec.Int("max_frame_width") ?? i.MaxFrameWidth,
            MaxFrameHeight = sec.Int("max_frame_height") ?? i.MaxFrameHeight,
            MaxFramePixels = sec.Int("max_frame_pixels") ?? i.MaxFramePixels,
            RtspsCaFile = sec.ExistingFile("rtsps_ca_file") ?? i.RtspsCaFile,
        };
    }
}
