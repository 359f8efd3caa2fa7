using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Domain;
using Microsoft.Data.Sqlite;

namespace CitySight.Benchmarks;

/// <summary>
/// The console's reads on a store of 10,000 cases over 30 days (8 groups, 4 types, one in five still open): the newest open cases
/// and the overview's figures, from the indexes (schema 6) against the path before them (every case read, then
/// filtered and counted in memory; baseline). The store is built once under the temp folder and reused.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CaseQueryBenchmarks
{
    private const int Cases = 10_000;
    private static readonly string[] Types = ["illegal_parking", "garbage", "street_stall", "billboard"];
    private SqliteCaseStore _store = null!;
    private DateTimeOffset _midnight;

    [GlobalSetup]
    public void Setup()
    {
        var folder = Path.Combine(Path.GetTempPath(), "citysight-bench", $"cases-{Cases}-v6r-30days");
        var ready = Path.Combine(folder, "ready");
        if (!File.Exists(ready))
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            using var build = new SqliteCaseStore(folder, minFreeBytes: 0);
            for (var n = 0; n < Cases; n++)
            {
                var c = build.OpenAsync(Sample(n))
                    .GetAwaiter().GetResult();
                // Four in five end: rejected one time in four, the rest closed (their times are spread below).
                if (n % 5 != 0)
                    build.TransitionAsync(c.Id, n % 4 == 0 ? CaseState.Rejected : CaseState.Closed, DateTimeOffset.UtcNow).GetAwaiter().GetResult();
            }
            // The store stamps "reported" with the wall clock of the commit: spread them over the last 30 days as a
            // district's store would have them (about 330 a day), each ended 5 minutes to 5 hours after it was reported.
            SqliteConnection.ClearAllPools();
            using (var conn = new SqliteConnection($"Data Source={Path.Combine(folder, SqliteCaseStore.DatabaseFileName)}"))
            {
                conn.Open();
                using var spread = conn.CreateCommand();
                spread.CommandText = """
                    UPDATE cases SET opened_at_ms = $now - ($cases - rowid) * $step;  -- rowid: the order they were opened
                    UPDATE cases SET closed_at_ms = opened_at_ms + 300000 + (rowid * 7919 % 300) * 60000 WHERE closed_at_ms IS NOT NULL;
                    """;
                spread.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                spread.Parameters.AddWithValue("$cases", Cases);
                spread.Parameters.AddWithValue("$step", (long)TimeSpan.FromDays(30).TotalMilliseconds / Cases);
                spread.ExecuteNonQuery();
            }
            SqliteConnection.ClearAllPools();
            File.WriteAllText(ready, "");
        }
        _store = new SqliteCaseStore(folder, minFreeBytes: 0);
        _midnight = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
    }

    /// <summary>A case as the rules raise one, without pictures (the reads under test never load them).</summary>
    private static Case Sample(int n) => new()
    {
        Id = $"bench-{n:D5}",
        CaseType = Types[n % Types.Length],
        CameraId = $"cam-{n % 1000}",
        GroupId = $"group-{n % 8}",
        CaseTypeCode = "0302",
        CaseTypeNameZh = "机动车乱停放",
        CaseTypeNameEn = "Illegally parked motor vehicle",
        District = "徐汇区",
        Street = "田林街道",
        Grid = $"310104-{n % 100:D3}",
        ResponsibleUnit = "田林街道城管中队",
        Zone = "no-parking",
        Latitude = 31.17 + n % 100 * 1e-4,
        Longitude = 121.43 - n % 100 * 1e-4,
        FirstSeen = DateTimeOffset.UtcNow.AddMinutes(-n),
        LastSeen = DateTimeOffset.UtcNow.AddMinutes(-n + 5),
        Confidence = 0.7f,
        Box = new Box(10, 20, 300, 400),
        ImageWidth = 1920,
        ImageHeight = 1080,
        ClassName = "car",
    };

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory("newest")]
    public async Task<int> NewestOpenWholeStore()
    {
        var query = new CaseQuery { States = CaseQuery.OpenStates, Limit = 100 };
        var all = await _store.CasesSinceAsync(DateTimeOffset.MinValue, query.IncludesFinal);
        return all.Where(query.Matches).OrderByDescending(c => c.Sequence).Take(query.Limit).Count();
    }

    [Benchmark, BenchmarkCategory("newest")]
    public async Task<int> NewestOpenIndexed() =>
        (await _store.NewestAsync(new CaseQuery { States = CaseQuery.OpenStates, Limit = 100 })).Count;

    [Benchmark(Baseline = true), BenchmarkCategory("overview")]
    public async Task<int> OverviewWholeStore()
    {
        var all = await _store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true);
        var open = all.Where(c => CaseQuery.OpenStates.Contains(c.State)).ToList();
        var today = all.Where(c => c.ReportedAt >= _midnight).ToList();
        return open.GroupBy(c => c.CaseType).Count() + open.GroupBy(c => c.GroupId).Count()
               + today.GroupBy(c => c.CaseType).Count() + today.GroupBy(c => c.GroupId).Count();
    }

    [Benchmark, BenchmarkCategory("overview")]
    public async Task<int> OverviewIndexed()
    {
        var open = await _store.CountAsync(CaseQuery.OpenStates, null);
        var today = await _store.CountAsync(null, _midnight);
        var week = await _store.CountAsync(null, _midnight.AddDays(-6));
        var decided = await _store.DecidedAsync(_midnight.AddDays(-6));
        return open.Count + today.Count + week.Count + decided.Count;
    }
}
