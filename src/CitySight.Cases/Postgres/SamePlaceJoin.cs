using CitySight.Domain;
using Npgsql;
using NpgsqlTypes;

namespace CitySight.Cases.Postgres;

/// <summary>
/// Inside the transaction that would open a case: locks the case type's grid cells around the place (transaction-scoped
/// advisory locks, taken in one order so two openers never deadlock) and looks for another camera's open case of that
/// type within the radius. Two nodes opening at one place at once meet on a shared cell: the second waits for the first
/// to commit, then finds its case. The cells are as large as the radius, so any two places within it share one of
/// their 3 x 3 neighbourhoods' cells.
/// </summary>
internal static class SamePlaceJoin
{
    private const double MetresPerDegree = 6_371_000 * Math.PI / 180;

    /// <summary>The id of the case <paramref name="c"/> joins, or null: then open it (the locks are held until commit).</summary>
    public static async Task<string?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Case c, SamePlace rule)
    {
        if (rule.RadiusMetres <= 0 || double.IsNaN(c.Latitude) || double.IsNaN(c.Longitude)) return null;
        var dLat = rule.RadiusMetres / MetresPerDegree;
        var dLon = rule.RadiusMetres / (MetresPerDegree * Math.Max(Math.Cos(c.Latitude * Math.PI / 180), 0.01));
        var row = (long)Math.Floor(c.Latitude / dLat);
        var col = (long)Math.Floor(c.Longitude / dLon);
        var keys = new List<long>(9);
        for (var i = -1; i <= 1; i++)
            for (var j = -1; j <= 1; j++)
                keys.Add(CellKey(c.CaseType, row + i, col + j));
        keys.Sort();
        await using (var lockCells = new NpgsqlCommand("SELECT pg_advisory_xact_lock(k) FROM unnest(@keys) AS k ORDER BY k;", conn, tx))
        {
            lockCells.Parameters.AddWithValue("keys", NpgsqlDbType.Array | NpgsqlDbType.Bigint, keys.ToArray());
            await lockCells.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await using var near = new NpgsqlCommand("""
            SELECT id, latitude, longitude FROM cases
            WHERE case_type = @type AND state IN (@reported, @acknowledged) AND camera_id <> @camera
              AND latitude BETWEEN @lat0 AND @lat1 AND longitude BETWEEN @lon0 AND @lon1
              AND last_seen_ticks >= @since;
            """, conn, tx);
        var p = near.Parameters;
        p.AddWithValue("type", NpgsqlDbType.Text, c.CaseType);
        p.AddWithValue("reported", (int)CaseState.Reported);
        p.AddWithValue("acknowledged", (int)CaseState.Acknowledged);
        p.AddWithValue("camera", NpgsqlDbType.Text, c.CameraId);
        p.AddWithValue("lat0", c.Latitude - dLat);
        p.AddWithValue("lat1", c.Latitude + dLat);
        p.AddWithValue("lon0", c.Longitude - dLon);
        p.AddWithValue("lon1", c.Longitude + dLon);
        p.AddWithValue("since", (c.FirstSeen - rule.Window).UtcTicks);
        string? best = null;
        var bestMetres = double.PositiveInfinity;
        await using var r = await near.ExecuteReaderAsync().ConfigureAwait(false);
        while (await r.ReadAsync().ConfigureAwait(false))
        {
            var metres = Metres(c.Latitude, c.Longitude, r.GetDouble(1), r.GetDouble(2));
            if (metres <= rule.RadiusMetres && metres < bestMetres) (best, bestMetres) = (r.GetString(0), metres);
        }
        return best;
    }

    private static long CellKey(string caseType, long row, long col)
    {
        // A stable 64-bit key (string.GetHashCode differs between processes, and every node must agree).
        var h = 14695981039346656037UL;
        foreach (var ch in $"citysight-place|{caseType}|{row}|{col}")
        {
            h ^= ch;
            h *= 1099511628211UL;
        }
        return unchecked((long)h);
    }

    private static double Metres(double lat1, double lon1, double lat2, double lon2)
    {
        var dy = (lat2 - lat1) * MetresPerDegree;
        var dx = (lon2 - lon1) * MetresPerDegree * Math.Cos((lat1 + lat2) / 2 * Math.PI / 180);
        return Math.Sqrt(dx * dx + dy * dy);
    }
}
