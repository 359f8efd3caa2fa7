using Microsoft.Extensions.Logging;
using Npgsql;

namespace CitySight.Cases.Postgres;

/// <summary>
/// How one node hears the other nodes' commits: one dedicated connection LISTENing on the feed's channel (each commit
/// NOTIFYs its sequence from inside its transaction, so the notice comes once it is committed), reconnected when it
/// drops; and, as a safety net for the time it is down, a read of the committed head every <see cref="PollInterval"/>.
/// Either hands the sequence to <c>seen</c>, which moves the node's head forward and wakes its followers.
/// </summary>
internal sealed class PostgresFeedListener(PostgresDatabase db, Action<long> seen, ILogger? logger) : IAsyncDisposable
{
    /// <summary>How often the committed head is read whatever NOTIFY says: the longest a commit waits when LISTEN is down.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stop = new();
    private Task _listening = Task.CompletedTask;
    private Task _polling = Task.CompletedTask;
    private long _sessions;

    /// <summary>Times the LISTEN connection was established (1 once started; more after each reconnect).</summary>
    public long Sessions => Interlocked.Read(ref _sessions);

    public void Start()
    {
        _listening = Task.Run(ListenAsync);
        _polling = Task.Run(PollAsync);
    }

    private async Task ListenAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(db.ListenConnectionString);
                conn.Notification += (_, e) =>
                {
                    if (long.TryParse(e.Payload, out var sequence)) seen(sequence);
                };
                await conn.OpenAsync(ct).ConfigureAwait(false);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresCaseFeed.Channel};", conn))
                    await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                // Listening from here on: a read of the head now covers whatever was committed while it was down.
                seen(await ReadHeadAsync(conn, ct).ConfigureAwait(false));
                Interlocked.Increment(ref _sessions);
                while (true) await conn.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The poll keeps followers moving meanwhile. The message names the store, never its connection string.
                logger?.LogWarning("{Store}: the feed's LISTEN connection dropped ({Error}); reconnecting, the head is polled every {Poll} s meanwhile",
                    db.Name, ex.Message, PollInterval.TotalSeconds);
                try { await Task.Delay(PollInterval, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task PollAsync()
    {
        var ct = _stop.Token;
        using var tick = new PeriodicTimer(PollInterval);
        try
        {
            while (await tick.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await using var conn = await db.OpenAsync(ct).ConfigureAwait(false);
                    seen(await ReadHeadAsync(conn, ct).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is not OperationCanceledException && ex is not ObjectDisposedException)
                {
                    logger?.LogDebug("{Store}: polling the feed's head failed: {Error}", db.Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>The committed head: with gapless appends, every sequence up to it is committed.</summary>
    public static async Task<long> ReadHeadAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT last FROM feed_head WHERE id = 1;", conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await Task.WhenAll(_listening, _polling).ConfigureAwait(false); }
        catch (Exception) { /* both end on the stop; nothing they hold outlives them */ }
    }
}
