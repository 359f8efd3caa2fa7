using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using CitySight.Cases;
using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace CitySight.CommandCentre;

/// <summary>
/// The case feed as server-sent events, from the head (or from the browser's Last-Event-ID after a dropped
/// connection, so a reconnect loses nothing): a "ready" event, then opened / updated / state_changed with each case.
/// </summary>
internal static class CaseEvents
{
    public static IResult Stream(HttpContext context, ICaseFeed feed, IHostApplicationLifetime lifetime)
    {
        var after = feed.LastSequence;
        if (long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            && last <= after)
            after = last;
        // Proxies must pass each event on at once.
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(Follow(feed, after, context.RequestAborted, lifetime.ApplicationStopping));
    }

    public static string KindName(CaseFeedKind kind) => kind switch
    {
        CaseFeedKind.Opened => "opened",
        CaseFeedKind.Updated => "updated",
        CaseFeedKind.StateChanged => "state_changed",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static async IAsyncEnumerable<SseItem<ConsoleEvent>> Follow(ICaseFeed feed, long after, CancellationToken aborted,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken ct = default)
    {
        // The service stopping ends the stream too: a page left open must not hold the shutdown up.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping, ct);
        yield return new SseItem<ConsoleEvent>(new ConsoleEvent("ready", after, null), "ready") { EventId = Id(after) };
        var events = feed.EventsAsync(after, includeEvidence: false, cts.Token).GetAsyncEnumerator(cts.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await events.MoveNextAsync();
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                    more = false;   // the browser left, or the service (and its store) is stopping
                }
                if (!more) yield break;
                var next = events.Current;
                var kind = KindName(next.Kind);
                yield return new SseItem<ConsoleEvent>(new ConsoleEvent(kind, next.Sequence, ConsoleCase.Of(next.Case)), kind) { EventId = Id(next.Sequence) };
            }
        }
        finally
        {
            await events.DisposeAsync();
        }
    }

    private static string Id(long sequence) => sequence.ToString(CultureInfo.InvariantCulture);
}
