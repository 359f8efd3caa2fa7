using CitySight.Domain;

namespace CitySight.Delivery.Tests;

/// <summary>Test cases with every field set to something distinct, and JPEG-shaped evidence bytes.</summary>
internal static class Samples
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

    /// <summary>Field-by-field equality including evidence bytes (record equality compares arrays by reference).</summary>
    public static void AssertSameCase(Case expected, Case actual, bool withEvidence = true)
    {
        // ReportedAt is the store's own commit time: not something a test can expect exactly.
        Assert.Equal(expected with { Evidence = Array.Empty<byte>() }, actual with { Evidence = Array.Empty<byte>(), ReportedAt = expected.ReportedAt });
        if (withEvidence) Assert.Equal(expected.Evidence, actual.Evidence);
    }
}
