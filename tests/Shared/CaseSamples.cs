using System.Reflection;
using CitySight.Domain;

namespace CitySight.Tests;

/// <summary>
/// Test cases with every field set to something distinct, JPEG-shaped evidence bytes, and field-by-field comparison of
/// cases (for the store's tests and the round trips of each representation of a case). Domain types only: compiled
/// into every test project.
/// </summary>
internal static class CaseSamples
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(15);

    private static readonly DateTimeOffset T0 = new(2025, 3, 14, 8, 30, 0, TimeSpan.FromHours(8));

    /// <summary>SOI + APP0 marker, seeded pseudo-random body, EOI: enough to look like a JPEG; the store never decodes it.</summary>
    public static byte[] Jpeg(int seed, int bodyLength = 2048)
    {
        var bytes = new byte[bodyLength + 6];
        new Random(seed).NextBytes(bytes);
        bytes[0] = 0xFF; bytes[1] = 0xD8; bytes[2] = 0xFF; bytes[3] = 0xE0;
        bytes[^2] = 0xFF; bytes[^1] = 0xD9;
        return bytes;
    }

    public static Case Case(int n, string caseType = "illegal_parking", DateTimeOffset? lastSeen = null) => new()
    {
        Id = $"case-{n:D4}-{Guid.NewGuid():N}",
        CaseType = caseType,
        CameraId = $"cam-{n % 3}",
        GroupId = "xuhui-tianlin",
        CaseTypeCode = "0302",
        CaseTypeNameZh = "机动车乱停放",
        CaseTypeNameEn = "Illegally parked motor vehicle",
        District = "徐汇区",
        Street = "田林街道",
        Grid = $"310104-{n:D3}",
        ResponsibleUnit = "田林街道城管中队",
        Zone = "no-parking-east",
        Latitude = 31.1712 + n * 1e-4,
        Longitude = 121.4303 - n * 1e-4,
        FirstSeen = T0.AddMinutes(n),
        LastSeen = lastSeen ?? T0.AddMinutes(n + 10).AddTicks(1234567),
        Confidence = 0.5f + n % 40 / 100f,
        Box = new Box(10.5f + n, 20.25f, 300.75f, 400f + n),
        ImageWidth = 1920,
        ImageHeight = 1080,
        ClassName = "car",
        Evidence = Jpeg(n),
    };

    /// <summary>
    /// A case with every field of <see cref="Domain.Case"/> set to a value that is neither its default nor what any other
    /// field holds: a closed case with its note, lifecycle times, crop and Chinese names. Times are whole milliseconds
    /// (what every representation keeps); frame times carry +08:00, the store's wall-clock times are UTC.
    /// <see cref="AssertEveryFieldSet"/> proves it stays so when a field is added.
    /// </summary>
    public static Case FullCase() => new()
    {
        Id = "case-full-7f3a",
        Sequence = 4711,
        CaseType = "street_stall",
        CameraId = "cam-tianlin-07",
        GroupId = "xuhui-tianlin",
        CaseTypeCode = "0301",
        CaseTypeNameZh = "占道经营",
        CaseTypeNameEn = "Street stall / business occupying the road",
        District = "徐汇区",
        Street = "田林街道",
        Grid = "310104-017",
        ResponsibleUnit = "田林街道城管中队",
        Zone = "人行道-东侧",
        Latitude = 31.171234,
        Longitude = 121.430321,
        FirstSeen = T0.AddMilliseconds(125),
        LastSeen = T0.AddMinutes(42).AddMilliseconds(875),
        RaisedAt = T0.AddMinutes(3).AddMilliseconds(250),
        Confidence = 0.8125f,
        Box = new Box(10.5f, 20.25f, 300.75f, 400.125f),
        ImageWidth = 2560,
        ImageHeight = 1440,
        ClassName = "person",
        Evidence = Jpeg(1),
        EvidenceCrop = Jpeg(2),
        EvidenceBeforeAfter = Jpeg(3),
        State = CaseState.Closed,
        ReportedAt = new DateTimeOffset(2025, 3, 14, 0, 33, 1, 500, TimeSpan.Zero),
        AcknowledgedAt = new DateTimeOffset(2025, 3, 14, 0, 40, 2, 750, TimeSpan.Zero),
        ClosedAt = new DateTimeOffset(2025, 3, 14, 1, 15, 3, 125, TimeSpan.Zero),
        StateNote = "摊贩已劝离 (moved on by officer 0231)",
    };

    private static readonly PropertyInfo[] CaseFields = typeof(Case).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>Fails naming every field of <paramref name="c"/> left at its type's default (null, 0, empty).</summary>
    public static void AssertEveryFieldSet(Case c)
    {
        var unset = CaseFields.Where(p => IsDefault(p.GetValue(c))).Select(p => p.Name).ToList();
        Assert.True(unset.Count == 0, "fields left at their default: " + string.Join(", ", unset));

        static bool IsDefault(object? v) => v switch
        {
            null => true,
            string s => s.Length == 0,
            byte[] b => b.Length == 0,
            Box b => b == default,
            _ => v.Equals(Activator.CreateInstance(v.GetType())),
        };
    }

    /// <summary>
    /// Every field of <paramref name="actual"/> equals <paramref name="expected"/>'s, except those a representation does
    /// not carry (named in <paramref name="notCarried"/>, which must be real field names). Pictures compare by bytes.
    /// Times compare as instants and, with <paramref name="sameOffsets"/>, by offset too (DateTimeOffset's own equality
    /// ignores the offset). The message names every field that differs.
    /// </summary>
    public static void AssertSameFields(Case expected, Case actual, bool sameOffsets, params string[] notCarried)
    {
        var unknown = notCarried.Except(CaseFields.Select(p => p.Name)).ToList();
        Assert.True(unknown.Count == 0, "not fields of Case: " + string.Join(", ", unknown));
        var differ = new List<string>();
        foreach (var p in CaseFields)
        {
            if (notCarried.Contains(p.Name)) continue;
            object? e = p.GetValue(expected), a = p.GetValue(actual);
            var same = (e, a) switch
            {
                (byte[] eb, byte[] ab) => eb.AsSpan().SequenceEqual(ab),
                (DateTimeOffset et, DateTimeOffset at) => sameOffsets ? et.EqualsExact(at) : et.Equals(at),
                _ => Equals(e, a),
            };
            if (!same) differ.Add($"{p.Name}: expected {Show(e)}, got {Show(a)}");
        }
        Assert.True(differ.Count == 0, "fields that differ:\n" + string.Join("\n", differ));

        static string Show(object? v) => v switch
        {
            null => "null",
            byte[] b => $"{b.Length} bytes",
            DateTimeOffset t => t.ToString("O"),
            _ => v.ToString() ?? "",
        };
    }

    /// <summary>Field-by-field equality including evidence bytes (record equality compares arrays by reference).</summary>
    public static void AssertSameCase(Case expected, Case actual, bool withEvidence = true)
    {
        // ReportedAt is the store's own commit time: not something a test can expect exactly.
        Assert.Equal(expected with { Evidence = Array.Empty<byte>() }, actual with { Evidence = Array.Empty<byte>(), ReportedAt = expected.ReportedAt });
        if (withEvidence) Assert.Equal(expected.Evidence, actual.Evidence);
    }
}
