using CitySight.Cases;
using CitySight.Domain;
using CitySight.Imaging;
using CitySight.Tests;
using OpenCvSharp;
using static CitySight.Delivery.Tests.Samples;

namespace CitySight.Delivery.Tests;

/// <summary>First and best views, each as the annotated frame and a crop, and evidence retention, in the real store.</summary>
public sealed class EvidenceTests : IDisposable
{
    private readonly string _data = TestAssets.TempDir("evidence");
    private readonly CaseStore _store;
    private static readonly DateTimeOffset At = new(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(8));

    public EvidenceTests() => _store = new CaseStore(_data);

    public void Dispose() => _store.Dispose();

    [Fact]
    public void The_crop_shows_the_object_with_some_of_its_surroundings()
    {
        using var frame = EvidenceImage.LoadFrame(TestAssets.Media("bus.jpg"), "cam");
        var bus = new Box(30, 230, 800, 760);

        var jpeg = EvidenceImage.EncodeCropJpeg(frame.Bgr, frame.Width, frame.Height, bus);

        using var crop = Cv2.ImDecode(jpeg, ImreadModes.Color);
        // 25 % margin each side, cut by the frame edges (810 wide): the whole width, and 1.5x the height.
        Assert.Equal(frame.Width, crop.Width);
        Assert.Equal((int)Math.Ceiling(495 + 530 * 0.75f) - (int)Math.Floor(495 - 530 * 0.75f), crop.Height);
        // A tiny box still gives a picture an officer can see.
        var tiny = EvidenceImage.EncodeCropJpeg(frame.Bgr, frame.Width, frame.Height, new Box(400, 500, 404, 503));
        using var tinyCrop = Cv2.ImDecode(tiny, ImreadModes.Color);
        Assert.True(tinyCrop.Width >= 64 && tinyCrop.Height >= 64);
    }

    [Fact]
    public async Task A_case_keeps_its_first_view_and_its_best_one()
    {
        var c = await _store.OpenAsync(Case(1) with { Evidence = Jpeg(1), EvidenceCrop = Jpeg(2) });

        await _store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(1), 0.95f, Jpeg(3), Jpeg(4));
        await _store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(2), 0.97f, Jpeg(5), Jpeg(6));

        Assert.Equal(Jpeg(5), await _store.GetEvidenceAsync(c.Id, EvidenceView.Best));
        Assert.Equal(Jpeg(6), await _store.GetEvidenceAsync(c.Id, EvidenceView.BestCrop));
        Assert.Equal(Jpeg(1), await _store.GetEvidenceAsync(c.Id, EvidenceView.First));
        Assert.Equal(Jpeg(2), await _store.GetEvidenceAsync(c.Id, EvidenceView.FirstCrop));
        Assert.Equal(Jpeg(5), (await _store.GetAsync(c.Id))!.Evidence);
    }

    [Fact]
    public async Task A_case_never_updated_has_no_separate_first_view()
    {
        var c = await _store.OpenAsync(Case(2) with { Evidence = Jpeg(1), EvidenceCrop = Jpeg(2) });

        Assert.Equal(Jpeg(2), await _store.GetEvidenceAsync(c.Id, EvidenceView.BestCrop));
        Assert.Null(await _store.GetEvidenceAsync(c.Id, EvidenceView.First));
        Assert.Null(await _store.GetEvidenceAsync("no-such-case", EvidenceView.FirstCrop));
    }

    [Fact]
    public async Task Retention_removes_pictures_of_long_closed_cases_first_and_never_the_proof_of_an_open_one()
    {
        const int size = 10_000;
        var closedLongAgo = await _store.OpenAsync(Case(1) with { Evidence = Jpeg(11, size), EvidenceCrop = Jpeg(12, size) });
        var closedRecently = await _store.OpenAsync(Case(2) with { Evidence = Jpeg(21, size) });
        var open = await _store.OpenAsync(Case(3) with { Evidence = Jpeg(31, size) });
        await _store.UpdateSightingAsync(open.Id, open.LastSeen.AddMinutes(1), 0.99f, Jpeg(32, size)); // first view aside
        await _store.TransitionAsync(closedLongAgo.Id, CaseState.Closed, At.AddDays(-40));
        await _store.TransitionAsync(closedRecently.Id, CaseState.Rejected, At.AddDays(-1));

        // 30 days: only the long-closed case goes; the folder is under its size limit.
        var byAge = await _store.PruneEvidenceAsync(At.AddDays(-30), maxBytes: 1_000_000);
        Assert.Equal(1, byAge.Cases);
        Assert.Null(await _store.GetEvidenceAsync(closedLongAgo.Id));
        Assert.Null(await _store.GetEvidenceAsync(closedLongAgo.Id, EvidenceView.BestCrop));
        Assert.NotNull(await _store.GetEvidenceAsync(closedRecently.Id));
        Assert.Empty((await _store.GetAsync(closedLongAgo.Id))!.Evidence);

        // Then a size limit below what is left: the recently closed case's picture, then the open case's first view.
        var bySize = await _store.PruneEvidenceAsync(At.AddDays(-30), maxBytes: size);
        Assert.Equal(2, bySize.Cases);
        Assert.Null(await _store.GetEvidenceAsync(closedRecently.Id));
        Assert.Null(await _store.GetEvidenceAsync(open.Id, EvidenceView.First));
        Assert.Equal(Jpeg(32, size), await _store.GetEvidenceAsync(open.Id));
        Assert.InRange(bySize.BytesKept, size, size + 6);

        // Nothing more may go: the open case's proof stays even over the limit.
        var nothing = await _store.PruneEvidenceAsync(At, maxBytes: 0);
        Assert.Equal(0, nothing.Cases);
        Assert.Equal(Jpeg(32, size), await _store.GetEvidenceAsync(open.Id));
    }
}
