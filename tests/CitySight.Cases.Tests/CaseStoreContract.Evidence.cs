using CitySight.Domain;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>The contract: first and best views, each as the annotated frame and a crop, and evidence retention.</summary>
public abstract partial class CaseStoreContract
{
    [Fact]
    public async Task A_case_keeps_its_first_view_and_its_best_one()
    {
        var c = await Store.OpenAsync(Case(1) with { Evidence = Jpeg(1), EvidenceCrop = Jpeg(2) });

        await Store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(1), 0.95f, Jpeg(3), Jpeg(4));
        await Store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(2), 0.97f, Jpeg(5), Jpeg(6));

        Assert.Equal(Jpeg(5), await Store.GetEvidenceAsync(c.Id, EvidenceView.Best));
        Assert.Equal(Jpeg(6), await Store.GetEvidenceAsync(c.Id, EvidenceView.BestCrop));
        Assert.Equal(Jpeg(1), await Store.GetEvidenceAsync(c.Id, EvidenceView.First));
        Assert.Equal(Jpeg(2), await Store.GetEvidenceAsync(c.Id, EvidenceView.FirstCrop));
        Assert.Equal(Jpeg(5), (await Store.GetAsync(c.Id))!.Evidence);
    }

    [Fact]
    public async Task A_static_objects_before_after_pair_is_kept_with_the_case_and_pruned_with_its_pictures()
    {
        var c = await Store.OpenAsync(Case(3) with { Evidence = Jpeg(1), EvidenceBeforeAfter = Jpeg(7) });
        Assert.Equal(Jpeg(7), await Store.GetEvidenceAsync(c.Id, EvidenceView.BeforeAfter));
        // A better picture later replaces the best view, not the pair: it shows the scene before the object came.
        await Store.UpdateSightingAsync(c.Id, c.LastSeen.AddMinutes(1), 0.99f, Jpeg(5));
        Assert.Equal(Jpeg(7), await Store.GetEvidenceAsync(c.Id, EvidenceView.BeforeAfter));

        await Store.TransitionAsync(c.Id, CaseState.Closed, At.AddDays(-40));
        await Store.PruneEvidenceAsync(At.AddDays(-30), maxBytes: 1_000_000);
        Assert.Null(await Store.GetEvidenceAsync(c.Id, EvidenceView.BeforeAfter));
    }

    [Fact]
    public async Task A_case_never_updated_has_no_separate_first_view()
    {
        var c = await Store.OpenAsync(Case(2) with { Evidence = Jpeg(1), EvidenceCrop = Jpeg(2) });

        Assert.Equal(Jpeg(2), await Store.GetEvidenceAsync(c.Id, EvidenceView.BestCrop));
        Assert.Null(await Store.GetEvidenceAsync(c.Id, EvidenceView.First));
        Assert.Null(await Store.GetEvidenceAsync("no-such-case", EvidenceView.FirstCrop));
    }

    [Fact]
    public async Task Retention_removes_pictures_of_long_closed_cases_first_and_never_the_proof_of_an_open_one()
    {
        const int size = 10_000;
        var closedLongAgo = await Store.OpenAsync(Case(1) with { Evidence = Jpeg(11, size), EvidenceCrop = Jpeg(12, size) });
        var closedRecently = await Store.OpenAsync(Case(2) with { Evidence = Jpeg(21, size) });
        var open = await Store.OpenAsync(Case(3) with { Evidence = Jpeg(31, size) });
        await Store.UpdateSightingAsync(open.Id, open.LastSeen.AddMinutes(1), 0.99f, Jpeg(32, size)); // first view aside
        await Store.TransitionAsync(closedLongAgo.Id, CaseState.Closed, At.AddDays(-40));
        await Store.TransitionAsync(closedRecently.Id, CaseState.Rejected, At.AddDays(-1));

        // 30 days: only the long-closed case goes; the folder is under its size limit.
        var byAge = await Store.PruneEvidenceAsync(At.AddDays(-30), maxBytes: 1_000_000);
        Assert.Equal(1, byAge.Cases);
        Assert.Null(await Store.GetEvidenceAsync(closedLongAgo.Id));
        Assert.Null(await Store.GetEvidenceAsync(closedLongAgo.Id, EvidenceView.BestCrop));
        Assert.NotNull(await Store.GetEvidenceAsync(closedRecently.Id));
        Assert.Empty((await Store.GetAsync(closedLongAgo.Id))!.Evidence);

        // Then a size limit below what is left: the recently closed case's picture, then the open case's first view.
        var bySize = await Store.PruneEvidenceAsync(At.AddDays(-30), maxBytes: size);
        Assert.Equal(2, bySize.Cases);
        Assert.Null(await Store.GetEvidenceAsync(closedRecently.Id));
        Assert.Null(await Store.GetEvidenceAsync(open.Id, EvidenceView.First));
        Assert.Equal(Jpeg(32, size), await Store.GetEvidenceAsync(open.Id));
        Assert.InRange(bySize.BytesKept, size, size + 6);

        // Nothing more may go: the open case's proof stays even over the limit.
        var nothing = await Store.PruneEvidenceAsync(At, maxBytes: 0);
        Assert.Equal(0, nothing.Cases);
        Assert.Equal(Jpeg(32, size), await Store.GetEvidenceAsync(open.Id));
    }
}
