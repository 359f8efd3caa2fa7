using System.Globalization;

namespace CitySight.Bench;

/// <summary>The summary lines of `bench-feed --idle-subscribers N` on stdout.</summary>
internal static class FeedBenchLoadReport
{
    public static IEnumerable<string> Lines(FeedLoadResult r)
    {
        yield return $"bench-feed --idle-subscribers: {r.Device} · {r.FileSystem} · {r.CasesPerPhase} cases per phase at {F(r.Rate, "F0")}/s, evidence {r.EvidenceBytes / 1024} KiB, " +
                     $"{r.Rounds} round(s) of quiet then loaded (latencies pooled over the rounds, memory from round 1); the store's writer thread " +
                     (r.StoreWriterPriorityRaised ? "at nice -20" : "at normal priority (the OS refused nice -20: see README, Security)");
        yield return $"  quiet (no subscriber):   commit p50 {L(r.QuietCommitMs?.P50)} ms, p99 {L(r.QuietCommitMs?.P99)} ms, max {L(r.QuietCommitMs?.Max)} ms, CPU {F(r.QuietCpuPercent, "F0")} %, GC pauses {F(r.QuietGcPauseMs, "F0")} ms in {r.QuietCollections} collections, {F(r.QuietAllocatedMib, "F0")} MiB allocated";
        yield return $"  loaded ({r.IdleSubscribers} idle on {r.Channels} channels" + (r.AckFloodClients > 0 ? $", ack flood from {r.AckFloodClients} clients × {r.AckFloodInFlightPerClient} in flight" : "") +
                     $"): commit p50 {L(r.LoadedCommitMs?.P50)} ms, p99 {L(r.LoadedCommitMs?.P99)} ms, max {L(r.LoadedCommitMs?.Max)} ms, CPU {F(r.LoadedCpuPercent, "F0")} %, GC pauses {F(r.LoadedGcPauseMs, "F0")} ms in {r.LoadedCollections} collections, {F(r.LoadedAllocatedMib, "F0")} MiB allocated";
        yield return $"  p99 loaded / p99 quiet = {(r.P99Ratio is { } x ? F(x, "F2") : "-")} (goal ≤ {F(r.GoalRatio, "F0")}: {(r.GoalMet switch { true => "met", false => "NOT met", null => "-" })})";
        if (r.AckFloodClients > 0)
            yield return $"  acks: {r.Acks} answered ({F(r.AcksPerSecond, "F0")}/s, p50 {L(r.AckMs?.P50)} ms, p99 {L(r.AckMs?.P99)} ms) in {r.AckCommits} cursor commits" +
                         (r.AckFloodError is null ? "" : $"; flood error: {r.AckFloodError}");
        var where = r.ClientProcessResidentMib is { } client
            ? $"server side; the clients ran in a child process of {F(client, "F0")} MiB resident"
            : "server and client, both in this process";
        yield return $"  memory per idle subscriber ({where}): managed {F(r.ManagedBytesPerSubscriber / 1024, "F1")} KiB, " +
                     $"resident {F(r.ResidentBytesPerSubscriber / 1024, "F1")} KiB (heap {F(r.ManagedMibBefore, "F0")} → {F(r.ManagedMibAfter, "F0")} MiB, " +
                     $"RSS {F(r.ResidentMibBefore, "F0")} → {F(r.ResidentMibAfter, "F0")} MiB); all open in {F(r.SubscribeSeconds, "F1")} s";
        yield return $"  lost {r.Lost}, duplicated or out of order {r.Duplicates}, subscribers failed {r.SubscribersFailed}" +
                     (r.FirstError is null ? "" : $" (first: {r.FirstError})") + $"; {F(r.TotalSeconds, "F0")} s in all";
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static string L(double? v) => v is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) : "-";
}
