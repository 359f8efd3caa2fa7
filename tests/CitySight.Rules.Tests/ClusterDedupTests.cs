using CitySight.Domain;

namespace CitySight.Rules.Tests;

/// <summary>
/// One case per place across a cluster's nodes: a node remembers the cases other nodes raised (learned from the shared
/// feed) as foreign, so its own camera seeing the same object joins that case; it leaves closing them as gone to their
/// owner, and does so itself only after twice the window (an owner that died).
/// </summary>
public sealed class ClusterDedupTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.FromHours(8));
    private static readonly GeoPoint Kerb = new(31.2304, 121.4737);
    private static readonly SiteDedupOptions Options = new() { Window = TimeSpan.FromMinutes(2), Cooldown = TimeSpan.FromMinutes(10) };

    private static Case RaisedElsewhere(DateTimeOffset lastSeen) => new()
    {
        Id = "cs-a-1", CameraId = "cam-on-node-a", GroupId = "g", CaseType = "illegal_parking", Latitude = Kerb.Latitude, Longitude = Kerb.Longitude,
        FirstSeen = T0, LastSeen = lastSeen, RaisedAt = T0, State = CaseState.Reported,
    };

    private static Sighting Car(DateTimeOffset at, string camera = "cam-on-node-b") =>
        new("illegal_parking", new GeoPoint(Kerb.Latitude + 2e-5, Kerb.Longitude), PlaceKind.Ground, at, camera, 0.7f, 0.02);

    [Fact]
    public void A_camera_on_this_node_seeing_another_nodes_case_joins_it()
    {
        var b = new SiteDedup(Options);
        b.Remember(RaisedElsewhere(T0), Kerb, PlaceKind.Ground, foreign: true);
        var seen = Assert.IsType<SameSiteCase>(b.Decide(Car(T0.AddSeconds(30))));
        Assert.Equal("cs-a-1", seen.CaseId);
        Assert.Equal(1, b.Count);
    }

    [Fact]
    public void A_foreign_case_is_not_closed_as_gone_here_after_one_window_only_after_two_and_news_of_it_keeps_it_open()
    {
        var b = new SiteDedup(Options);
        b.Remember(RaisedElsewhere(T0), Kerb, PlaceKind.Ground, foreign: true);
        b.Advance(T0 + Options.Window + TimeSpan.FromSeconds(30));
        Assert.Empty(b.TakeGone()); // its owner's cameras may still see it
        Assert.True(b.Touch("cs-a-1", T0 + Options.Window)); // they do: the shared feed says it was seen later
        b.Advance(T0 + Options.Window * 2 + TimeSpan.FromSeconds(30));
        Assert.Empty(b.TakeGone());
        b.Advance(T0 + Options.Window * 3 + TimeSpan.FromSeconds(1));
        var gone = Assert.Single(b.TakeGone()); // nobody has seen it for two windows: its owner is gone too
        Assert.Equal("cs-a-1", gone.CaseId);
    }

    [Fact]
    public void A_case_raised_here_is_gone_after_one_window_as_before()
    {
        var a = new SiteDedup(Options);
        var raised = Assert.IsType<NewSiteCase>(a.Decide(Car(T0, "cam-on-node-a")));
        a.Advance(T0 + Options.Window + TimeSpan.FromSeconds(1));
        Assert.Equal(raised.CaseId, Assert.Single(a.TakeGone()).CaseId);
    }
}
