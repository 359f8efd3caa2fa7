using CitySight.Cases.Sqlite;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.Data.Sqlite;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>The store row is the one mapping of a case to SQLite: every field there and back.</summary>
public sealed class CaseRowTests : IDisposable
{
    private readonly string _dir = TestAssets.TempDir("case-row");
    private readonly SqliteConnection _conn;

    public CaseRowTests()
    {
        _conn = new SqliteConnection($"Data Source={Path.Combine(_dir, "rows.db")};Pooling=False");
        _conn.Open();
        SqliteSchema.CreateOrMigrate(_conn);
    }

    public void Dispose()
    {
        _conn.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void The_sample_sets_every_field_of_a_case()
    {
        AssertEveryFieldSet(FullCase());
    }

    [Fact]
    public void A_fully_populated_case_comes_back_from_its_row_field_for_field()
    {
        var c = FullCase();
        var path = EvidenceFiles.RelativePath(c.Id);

        var (back, readPath) = RoundTrip(c, path, evidence: p => p == path ? c.Evidence : []);

        // Frame times keep their offset; the crop and the before/after pair are files beside the best view, never read with the row.
        AssertSameFields(c, back, sameOffsets: true, nameof(Domain.Case.EvidenceCrop), nameof(Domain.Case.EvidenceBeforeAfter));
        Assert.Equal(path, readPath);
    }

    [Fact]
    public void Unset_optional_fields_come_back_unset()
    {
        var c = FullCase() with
        {
            Sequence = 0, RaisedAt = null, AcknowledgedAt = null, ClosedAt = null, State = CaseState.Reported, StateNote = "",
        };

        var (back, readPath) = RoundTrip(c, evidencePath: null, evidence: _ => throw new InvalidOperationException("no picture to read"));

        AssertSameFields(c with { Evidence = [] }, back, sameOffsets: true, nameof(Domain.Case.EvidenceCrop), nameof(Domain.Case.EvidenceBeforeAfter));
        Assert.Null(readPath);
    }

    [Fact]
    public void A_row_read_without_pictures_leaves_them_empty()
    {
        var c = FullCase();
        var (back, _) = RoundTrip(c, EvidenceFiles.RelativePath(c.Id), evidence: null);
        Assert.Empty(back.Evidence);
    }

    private (Case Back, string? EvidencePath) RoundTrip(Case c, string? evidencePath, Func<string, byte[]>? evidence)
    {
        using (var tx = _conn.BeginTransaction())
        {
            CaseRow.Insert(_conn, tx, c, evidencePath, nowMs: 1_741_900_000_000);
            tx.Commit();
        }
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = $"SELECT {CaseRow.Columns} FROM cases c WHERE c.id = $id;";
        cmd.Parameters.AddWithValue("$id", c.Id);
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        return (CaseRow.Read(r, evidence), CaseRow.EvidencePath(r));
    }
}
