using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cluster;

/// <summary>
/// The SQL of camera ownership: the two tables, one node's tick (heartbeat, renew, claim) and its releases. Every
/// lease is compared with the database's clock (<c>now()</c>, the transaction's start), never a node's.
/// </summary>
internal sealed class LeaseStore(NpgsqlDataSource dataSource, string nodeId, ClusterOptions options)
{
    // This process's claim on its node id: a second process started with the same id (two hosts of one name) is
    // refused until the first has been silent for a lease, instead of both running the same cameras.
    private readonly Guid _instance = Guid.NewGuid();

    // Serialises schema creation and the camera list's upkeep across nodes ("CityClus").
    private const long AdvisoryKey = 0x43697479436C7573;

    private long _roundTrips;

    /// <summary>Round trips to the server so far (a batch or a commit is one).</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    public sealed record TickResult(IReadOnlyList<string> Renewed, IReadOnlyList<string> Claimed, IReadOnlyList<string> Surplus, int Share, int LiveNodes);

    public async Task EnsureSchemaAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // CREATE TABLE IF NOT EXISTS races with itself on the catalogue: one node at a time.
        await ExecuteAsync(conn, tx, $"""
            SELECT pg_advisory_xact_lock({AdvisoryKey});
            CREATE TABLE IF NOT EXISTS cluster_nodes (
                node_id text PRIMARY KEY,
                heartbeat timestamptz NOT NULL,
                capacity double precision NOT NULL,
                instance uuid NOT NULL,
                joined timestamptz NOT NULL DEFAULT now());
            CREATE TABLE IF NOT EXISTS camera_leases (
                camera_id text PRIMARY KEY,
                node_id text NULL,
                lease_until timestamptz NOT NULL DEFAULT '-infinity',
                claimed_at timestamptz NULL);
            CREATE INDEX IF NOT EXISTS camera_leases_node ON camera_leases (node_id);
            """, ct);
        await CommitAsync(tx, ct);
    }

    /// <summary>
    /// Gives every configured camera its row (unowned) and, when <paramref name="removeOthers"/>, deletes the rows of
    /// cameras no longer configured. Under the advisory lock, so two nodes never insert the same rows in two orders.
    /// </summary>
    public async Task SyncCamerasAsync(string[] cameras, bool removeOthers, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var batch = new NpgsqlBatch(conn, tx);
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({AdvisoryKey})"));
        batch.BatchCommands.Add(Command("INSERT INTO camera_leases (camera_id) SELECT id FROM unnest($1) AS c(id) ORDER BY id ON CONFLICT (camera_id) DO NOTHING", Ids(cameras)));
        if (removeOthers)
            batch.BatchCommands.Add(Command("DELETE FROM camera_leases WHERE NOT (camera_id = ANY($1))", Ids(cameras)));
        // Nodes gone for a hundred leases leave the table (the admin list shows the living and the recently dead).
        batch.BatchCommands.Add(Command("DELETE FROM cluster_nodes WHERE heartbeat < now() - $1 * 100", Interval()));
        Interlocked.Increment(ref _roundTrips);
        await batch.ExecuteNonQueryAsync(ct);
        await CommitAsync(tx, ct);
    }

    /// <summary>
    /// One tick in one transaction: heartbeat, renew this node's leases, read the live nodes, claim free or expired
    /// cameras up to this node's share (SKIP LOCKED: claimers never wait on each other). Returns what to give up, not
    /// yet released: the caller stops those cameras first (<see cref="ReleaseAsync"/>).
    /// </summary>
    public async Task<TickResult> TickAsync(string[] cameras, bool mayClaim, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var renewed = new List<string>();
        var live = new List<(string Node, double Capacity)>();
        var mine = false;
        await using (var batch = new NpgsqlBatch(conn, tx))
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO cluster_nodes (node_id, heartbeat, capacity, instance) VALUES ($1, now(), $2, $3)
                ON CONFLICT (node_id) DO UPDATE SET heartbeat = now(), capacity = EXCLUDED.capacity, instance = EXCLUDED.instance
                WHERE cluster_nodes.instance = EXCLUDED.instance OR cluster_nodes.heartbeat <= now() - $4
                RETURNING node_id
                """, Text(nodeId), new NpgsqlParameter { Value = options.Capacity, NpgsqlDbType = NpgsqlDbType.Double }, Instance(), Interval()));
            // Leases on cameras this node no longer has configured end now (they were stopped when the list changed).
            batch.BatchCommands.Add(Command($"UPDATE camera_leases SET node_id = NULL, lease_until = '-infinity' WHERE node_id = $1 AND NOT (camera_id = ANY($2)) AND {ThisInstance("$3")}", Text(nodeId), Ids(cameras), Instance()));
            batch.BatchCommands.Add(Command($"UPDATE camera_leases SET lease_until = now() + $3 WHERE node_id = $1 AND camera_id = ANY($2) AND {ThisInstance("$4")} RETURNING camera_id", Text(nodeId), Ids(cameras), Interval(), Instance()));
            batch.BatchCommands.Add(Command("SELECT node_id, capacity FROM cluster_nodes WHERE heartbeat > now() - $1 ORDER BY node_id", Interval()));
            Interlocked.Increment(ref _roundTrips);
            await using var reader = await batch.ExecuteReaderAsync(ct);
            mine = await reader.ReadAsync(ct);
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct)) renewed.Add(reader.GetString(0));
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct)) live.Add((reader.GetString(0), reader.GetDouble(1)));
        }
        if (!mine)
            throw new InvalidOperationException($"node id {nodeId} is taken by another process that is still alive: this one runs no camera until that one has been silent for a lease");
        var share = Shares.Of(nodeId, live, cameras.Length);
        var claimed = new List<string>();
        if (mayClaim && renewed.Count < share)
        {
            // Each node walks the free cameras in its own order, so simultaneous claimers rarely meet on a row.
            await using var claim = new NpgsqlCommand("""
                UPDATE camera_leases SET node_id = $1, lease_until = now() + $3, claimed_at = now()
                WHERE camera_id IN (
                    SELECT camera_id FROM camera_leases
                    WHERE camera_id = ANY($2) AND (node_id IS NULL OR lease_until < now())
                    ORDER BY md5(camera_id || $1) LIMIT $4
                    FOR UPDATE SKIP LOCKED)
                  AND (node_id IS NULL OR lease_until < now())
                RETURNING camera_id
                """, conn, tx);
            claim.Parameters.Add(Text(nodeId));
            claim.Parameters.Add(Ids(cameras));
            claim.Parameters.Add(Interval());
            claim.Parameters.Add(new NpgsqlParameter { Value = share - renewed.Count, NpgsqlDbType = NpgsqlDbType.Integer });
            Interlocked.Increment(ref _roundTrips);
            await using var reader = await claim.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) claimed.Add(reader.GetString(0));
        }
        await CommitAsync(tx, ct);
        var surplus = renewed.Count > share
            ? renewed.Order(StringComparer.Ordinal).Reverse().Take(Math.Min(renewed.Count - share, ReleasesPerTick(cameras.Length))).ToList()
            : [];
        return new TickResult(renewed, claimed, surplus, share, live.Count);
    }

    /// <summary>Ends this node's leases on <paramref name="cameras"/> (null: all of them) so another node may claim them at once.</summary>
    public async Task ReleaseAsync(IReadOnlyCollection<string>? cameras, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = cameras is null
            ? new NpgsqlCommand("UPDATE camera_leases SET node_id = NULL, lease_until = '-infinity' WHERE node_id = $1", conn)
            : new NpgsqlCommand("UPDATE camera_leases SET node_id = NULL, lease_until = '-infinity' WHERE node_id = $1 AND camera_id = ANY($2)", conn);
        cmd.Parameters.Add(Text(nodeId));
        if (cameras is not null) cmd.Parameters.Add(Ids([.. cameras]));
        Interlocked.Increment(ref _roundTrips);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Says this node is gone (its heartbeat ends), so the others rebalance on their next tick.</summary>
    public async Task LeaveAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("UPDATE cluster_nodes SET heartbeat = '-infinity' WHERE node_id = $1", conn);
        cmd.Parameters.Add(Text(nodeId));
        Interlocked.Increment(ref _roundTrips);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Every configured camera and the node whose lease on it runs now (null: nobody).</summary>
    public async Task<IReadOnlyList<(string Camera, string? Node)>> AssignmentsAsync(string[] cameras, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT c.id, CASE WHEN l.lease_until > now() THEN l.node_id END
            FROM unnest($1) AS c(id) LEFT JOIN camera_leases l ON l.camera_id = c.id
            ORDER BY c.id
            """, conn);
        cmd.Parameters.Add(Ids(cameras));
        var rows = new List<(string, string?)>(cameras.Length);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        return rows;
    }

    private int ReleasesPerTick(int cameras) =>
        options.MaxReleasesPerTick > 0 ? options.MaxReleasesPerTick : Math.Max(2, (cameras + 49) / 50);

    private async Task CommitAsync(NpgsqlTransaction tx, CancellationToken ct)
    {
        Interlocked.Increment(ref _roundTrips);
        await tx.CommitAsync(ct);
    }

    private async Task ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        Interlocked.Increment(ref _roundTrips);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Text(string value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Ids(string[] ids) => new() { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    // Leases are touched only once this process's heartbeat has gone in (not refused for another live process).
    private static string ThisInstance(string parameter) => $"EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = $1 AND n.instance = {parameter})";

    private NpgsqlParameter Instance() => new() { Value = _instance, NpgsqlDbType = NpgsqlDbType.Uuid };

    private NpgsqlParameter Interval() => new() { Value = options.Lease, NpgsqlDbType = NpgsqlDbType.Interval };
}
