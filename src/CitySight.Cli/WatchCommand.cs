using System.CommandLine;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using Grpc.Core;

namespace CitySight.Cli;

/// <summary>A console consumer of the CaseFeed: prints each case as it arrives.</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "CaseFeed address", DefaultValueFactory = _ => "http://127.0.0.1:50051" };
        var consumer = new Option<string>("--consumer") { Description = "Name of this consumer", DefaultValueFactory = _ => "console" };
        var after = new Option<ulong>("--after") { Description = "Resume after this feed sequence (0 = from the start)" };
        var evidence = new Option<string?>("--evidence-dir") { Description = "Save each case's evidence JPEG into this folder" };
        var cmd = new Command("watch", "Subscribe to the case stream over gRPC and print each case.") { server, consumer, after, evidence };
        cmd.SetAction(async (parse, ct) =>
        {
            try
            {
                await WatchAsync(parse.GetValue(server)!, parse.GetValue(consumer)!, parse.GetValue(after), parse.GetValue(evidence), Console.Out, null, ct);
                return 0;
            }
            catch (OperationCanceledException) { return 0; }
            catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
            {
                Console.Error.WriteLine($"watch: {ex.Status.StatusCode}: {ex.Status.Detail}");
                return 1;
            }
        });
        return cmd;
    }

    public static async Task WatchAsync(string server, string consumer, ulong after, string? evidenceDir, TextWriter output, Action? onCase, CancellationToken ct)
    {
        if (evidenceDir is not null) Directory.CreateDirectory(evidenceDir);
        await foreach (var e in CaseFeedClient.SubscribeAsync(server, consumer, after, includeEvidence: true, ct))
        {
            string? saved = null;
            if (evidenceDir is not null && e.Case.EvidenceJpeg.Length > 0)
            {
                saved = Path.Combine(evidenceDir, e.Case.Id + ".jpg");
                await File.WriteAllBytesAsync(saved, e.Case.EvidenceJpeg.ToByteArray(), ct);
            }
            await output.WriteLineAsync(Format(e, saved));
            await output.FlushAsync(ct);
            // Only a new case counts as one; updates and state changes are about a case already shown.
            if (e.Kind == CaseEventKind.Opened) onCase?.Invoke();
        }
    }

    public static string Format(CaseEvent e, string? savedEvidence)
    {
        var c = e.Case;
        // Later events about a case are one line each: what changed, not the whole case again.
        if (e.Kind == CaseEventKind.Updated)
            return $"   #{e.Sequence} update   {c.Id}: seen until {c.LastSeen.ToDateTimeOffset():u}, {c.ClassName} {c.Confidence:F2}" +
                   (savedEvidence is null ? "" : $", evidence → {savedEvidence}");
        if (e.Kind == CaseEventKind.StateChanged)
            return $"   #{e.Sequence} {c.State.ToString().ToLowerInvariant(),-8} {c.Id}{(c.StateNote.Length > 0 ? ": " + c.StateNote : "")}";
        var where = string.Join(", ", new[] { c.Street, c.Grid.Length > 0 ? "grid " + c.Grid : "", c.ResponsibleUnit }.Where(s => s.Length > 0));
        return $"""
            ── case #{e.Sequence} {e.Kind}  {c.Id}
               type      {c.CaseType.Id} [{c.CaseType.Code}] {c.CaseType.NameZh} / {c.CaseType.NameEn}
               camera    {c.CameraId} (group {c.GroupId}{(where.Length > 0 ? "; " + where : "")})  zone {(c.Zone.Length > 0 ? c.Zone : "(whole frame)")}
               location  {c.Latitude:F6}, {c.Longitude:F6} (WGS84)
               seen      {c.FirstSeen.ToDateTimeOffset():u} .. {c.LastSeen.ToDateTimeOffset():u}
               object    {c.ClassName} {c.Confidence:F2} at [{c.Box.X1:F0},{c.Box.Y1:F0},{c.Box.X2:F0},{c.Box.Y2:F0}] of {c.Box.ImageWidth}x{c.Box.ImageHeight}
               evidence  {c.EvidenceJpeg.Length / 1024.0:F1} KiB JPEG{(savedEvidence is null ? "" : " → " + savedEvidence)}
            """;
    }
}
