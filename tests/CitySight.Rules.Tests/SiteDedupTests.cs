using CitySight.Domain;

namespace CitySight.Rules.Tests;

public class SiteDedupTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 8, 0, 0, TimeSpan.FromHours(8));
    private static readonly GeoPoint Corner = new(31.2304, 121.4737);
    private const double MetresPerDegree = GroundMapping.EarthRadiusMetres * Math.PI / 180;

    private static GeoPoint Near(double east, double north) => new(
        Corner.Latitude + north / MetresPerDegree,
        Corner.Longitude + east / (MetresPerDegree * Math.Cos(Corner.Latitude * Math.PI / 180)));

    private static Sighting Stall(GeoPoint place, TimeSpan after, string camera = "cam-a", float confidence = 0.6f,
        double share = 0.01, string type = "street_stall") =>
        new(type, place, PlaceKind.Ground, T0 + after, camera, confidence, share);

    private static TimeSpan Min(double m) => TimeSpan.FromMinutes(m);

    [Fact]
    public void Two_cameras_seeing_the_same_stall_make_one_case_with_the_better_picture()
    {
        var site = new SiteDedup();
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Near(0, 0), Min(0), "cam-a", 0.62f, 0.01)));

        // The other camera, across the street and closer: 3 m off (homography error, other side of the stall), a minute later,
        // slightly less sure but the stall four times the area of its frame.
        var other = Assert.IsType<SameSiteCase>(site.Decide(Stall(Near(3, 0), Min(1), "cam-b", 0.58f, 0.04)));
        Assert.Equal(raised.CaseId, other.CaseId);
        Assert.True(other.BetterEvidence);
        Assert.InRange(other.DistanceMetres, 2.9, 3.1);

        // The first camera again, a hair more confident: not a better picture than cam-b's.
        var again = Assert.IsType<SameSiteCase>(site.Decide(Stall(Near(0.5, 0), Min(2), "cam-a", 0.65f, 0.01)));
        Assert.Equal(raised.CaseId, again.CaseId);
        Assert.False(again.BetterEvidence);
        Assert.Equal(1, site.Count);
    }

    [Fact]
    public void Equal_pictures_do_not_swap_evidence()
    {
        var site = new SiteDedup();
        site.Decide(Stall(Corner, Min(0), "cam-a", 0.60f, 0.02));
        var same = Assert.IsType<SameSiteCase>(site.Decide(Stall(Corner, Min(1), "cam-b", 0.61f, 0.02)));
        Assert.False(same.BetterEvidence);   // within the 5% margin
        var sure = Assert.IsType<SameSiteCase>(site.Decide(Stall(Corner, Min(2), "cam-b", 0.80f, 0.02)));
        Assert.True(sure.BetterEvidence);
    }

    [Fact]
    public void Same_type_50_m_apart_is_two_cases()
    {
        var site = new SiteDedup();
        var a = Assert.IsType<NewSiteCase>(site.Decide(Stall(Near(0, 0), Min(0), "cam-a")));
        var b = Assert.IsType<NewSiteCase>(site.Decide(Stall(Near(50, 0), Min(1), "cam-b")));
        Assert.NotEqual(a.CaseId, b.CaseId);
        Assert.Equal(2, site.OpenCount);
    }

    [Fact]
    public void The_radius_is_the_boundary()
    {
        var site = new SiteDedup(new SiteDedupOptions { SamePlaceRadiusMetres = 15 });
        site.Decide(Stall(Near(0, 0), Min(0)));
        Assert.IsType<SameSiteCase>(site.Decide(Stall(Near(0, 14.5), Min(1), "cam-b")));
        Assert.IsType<NewSiteCase>(site.Decide(Stall(Near(0, -15.5), Min(1), "cam-c")));
    }

    [Fact]
    public void Different_type_at_the_same_place_is_two_cases()
    {
        var site = new SiteDedup();
        var stall = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        var garbage = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0.5), type: "garbage")));
        Assert.NotEqual(stall.CaseId, garbage.CaseId);
    }

    [Fact]
    public void An_open_case_takes_its_place_for_as_long_as_it_is_seen()
    {
        var site = new SiteDedup();   // window 30 min
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        for (var m = 20; m <= 6 * 60; m += 20)   // six hours, seen every 20 minutes by one camera or the other
        {
            var d = site.Decide(Stall(Near(m % 40 == 0 ? 2 : -2, 0), Min(m), m % 40 == 0 ? "cam-a" : "cam-b"));
            Assert.Equal(raised.CaseId, Assert.IsType<SameSiteCase>(d).CaseId);
        }
        Assert.Equal(1, site.Count);
    }

    [Fact]
    public void With_an_unbounded_window_an_open_case_lasts_until_closed()
    {
        var site = new SiteDedup(new SiteDedupOptions { Window = TimeSpan.MaxValue });
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        Assert.Equal(raised.CaseId, Assert.IsType<SameSiteCase>(site.Decide(Stall(Corner, TimeSpan.FromHours(9)))).CaseId);
        Assert.True(site.Close(raised.CaseId, T0 + TimeSpan.FromHours(10), rejected: false));
        Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, TimeSpan.FromHours(11))));
    }

    [Fact]
    public void A_closed_case_cools_its_place_down_then_the_place_may_raise_again()
    {
        var site = new SiteDedup();   // cooldown 30 min
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        Assert.True(site.Close(raised.CaseId, T0 + Min(60), rejected: false));
        Assert.False(site.Close(raised.CaseId, T0 + Min(61), rejected: true));   // already closed

        var cool = Assert.IsType<SiteCooldown>(site.Decide(Stall(Near(4, 0), Min(70), "cam-b")));
        Assert.Equal(raised.CaseId, cool.CaseId);
        Assert.Equal(T0 + Min(90), cool.Until);
        Assert.False(cool.Rejected);
        // Sightings during the cooldown do not extend it.
        Assert.IsType<SiteCooldown>(site.Decide(Stall(Corner, Min(89))));

        var again = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(91))));
        Assert.NotEqual(raised.CaseId, again.CaseId);
        Assert.Equal(1, site.Count);   // the closed one is forgotten
    }

    [Fact]
    public void A_rejected_case_suppresses_its_place_longer()
    {
        var site = new SiteDedup();   // reject cooldown 24 h
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        Assert.True(site.Close(raised.CaseId, T0 + Min(10), rejected: true));

        var later = Assert.IsType<SiteCooldown>(site.Decide(Stall(Corner, TimeSpan.FromHours(2))));
        Assert.True(later.Rejected);
        Assert.Equal(T0 + Min(10) + TimeSpan.FromHours(24), later.Until);
        Assert.IsType<SiteCooldown>(site.Decide(Stall(Corner, TimeSpan.FromHours(24))));
        Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, TimeSpan.FromHours(24.5))));
    }

    [Fact]
    public void An_open_case_wins_over_a_cooling_one_at_the_same_place()
    {
        var site = new SiteDedup();
        var first = Assert.IsType<NewSiteCase>(site.Decide(Stall(Near(0, 0), Min(0))));
        var second = Assert.IsType<NewSiteCase>(site.Decide(Stall(Near(0, 20), Min(1))));
        site.Close(first.CaseId, T0 + Min(2), rejected: false);
        // 10 m from both: the open one takes it.
        Assert.Equal(second.CaseId, Assert.IsType<SameSiteCase>(site.Decide(Stall(Near(0, 10), Min(3)))).CaseId);
    }

    [Fact]
    public void A_case_unseen_for_the_window_is_closed_as_gone_then_its_place_cools_down()
    {
        var site = new SiteDedup();   // window 30 min, cooldown 30 min
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        Assert.IsType<SameSiteCase>(site.Decide(Stall(Corner, Min(29))));
        Assert.Empty(site.TakeGone());

        // Nothing there for a while; frames elsewhere move time on. 30 min after its last sighting it is gone.
        site.Advance(T0 + Min(59));
        Assert.Empty(site.TakeGone());
        site.Advance(T0 + Min(59.5));
        var gone = Assert.Single(site.TakeGone());
        Assert.Equal(raised.CaseId, gone.CaseId);
        Assert.Equal(T0 + Min(29), gone.LastSeen);
        Assert.Equal(T0 + Min(59), gone.At);
        Assert.Empty(site.TakeGone());   // given once

        // The place cools down from the closure: a stall there before 89 min raises nothing, after it a new case.
        var cooling = Assert.IsType<SiteCooldown>(site.Decide(Stall(Corner, Min(88))));
        Assert.Equal(raised.CaseId, cooling.CaseId);
        Assert.Equal(T0 + Min(89), cooling.Until);
        var fresh = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(89.5))));
        Assert.NotEqual(raised.CaseId, fresh.CaseId);
        Assert.Equal(1, site.Count);
        Assert.False(site.Close(raised.CaseId, T0 + Min(90), rejected: false));   // forgotten: nothing to close
    }

    [Fact]
    public void A_case_dispatch_closed_is_not_reported_gone()
    {
        var site = new SiteDedup();
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        Assert.True(site.Close(raised.CaseId, T0 + Min(5), rejected: false));
        site.Advance(T0 + Min(120));
        Assert.Empty(site.TakeGone());
    }

    [Fact]
    public void With_an_endless_window_a_case_stays_open_until_dispatch_closes_it()
    {
        var site = new SiteDedup(new SiteDedupOptions { Window = TimeSpan.MaxValue });
        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(0))));
        site.Advance(T0 + TimeSpan.FromDays(30));
        Assert.Empty(site.TakeGone());
        Assert.Equal(raised.CaseId, Assert.IsType<SameSiteCase>(site.Decide(Stall(Corner, TimeSpan.FromDays(30)))).CaseId);
    }

    [Fact]
    public void Keep_alive_only_refreshes_an_open_case_and_never_raises_one()
    {
        var site = new SiteDedup();
        Assert.Null(site.KeepAlive(Stall(Corner, Min(0), type: "billboard")));
        Assert.Equal(0, site.Count);

        var raised = Assert.IsType<NewSiteCase>(site.Decide(Stall(Corner, Min(1), type: "billboard")));
        // Seen every 20 minutes for two hours: never gone.
        for (var m = 21; m <= 121; m += 20)
            Assert.Equal(raised.CaseId, site.KeepAlive(Stall(Near(1, 0), Min(m), type: "billboard")));
        Assert.Empty(site.TakeGone());
        Assert.Null(site.KeepAlive(Stall(Near(100, 0), Min(122), type: "billboard")));   // elsewhere: nothing open there
        Assert.Null(site.KeepAlive(Stall(Corner, Min(122))));                              // another type
        Assert.Equal(1, site.Count);
    }

    [Fact]
    public void Memory_stays_bounded_on_frame_time()
    {
        var site = new SiteDedup();
        for (var i = 0; i < 100; i++)
        {
            var d = site.Decide(Stall(Near(i * 100, 0), Min(i * 0.1)));
            if (i % 2 == 0) site.Close(d.CaseId, T0 + Min(i * 0.1), rejected: false);
        }
        Assert.Equal(100, site.Count);
        site.Decide(Stall(Near(0, 5000), Min(10 + 45)));   // 45 min after the last: the open ones are gone, cooling
        Assert.Equal(50, site.TakeGone().Count);
        site.Decide(Stall(Near(0, 5000), Min(10 + 75)));   // past gone + cooldown: only the new one is left
        Assert.Equal(1, site.Count);
    }

    [Fact]
    public void A_late_frame_does_not_move_time_back()
    {
        var site = new SiteDedup();
        site.Decide(Stall(Near(0, 0), Min(60)));
        Assert.Equal(T0 + Min(60), site.Now);
        var late = site.Decide(Stall(Near(0, 1), Min(59), "cam-b"));   // another camera's older frame
        Assert.IsType<SameSiteCase>(late);
        Assert.Equal(T0 + Min(60), site.Now);
    }

    [Fact]
    public void Decisions_and_ids_are_deterministic()
    {
        static List<string> Run()
        {
            var site = new SiteDedup();
            var ids = new List<string>();
            ids.Add(site.Decide(Stall(Near(0, 0), Min(0))).CaseId);
            ids.Add(site.Decide(Stall(Near(3, 0), Min(1), "cam-b")).CaseId);
            ids.Add(site.Decide(Stall(Near(60, 0), Min(2), "cam-b")).CaseId);
            site.Close(ids[0], T0 + Min(3), rejected: false);
            ids.Add(site.Decide(Stall(Near(0, 0), Min(40))).CaseId);
            return ids;
        }
        var a = Run();
        Assert.Equal(a, Run());
        Assert.Equal(a[0], a[1]);
        Assert.Equal(3, a.Distinct().Count());
        Assert.StartsWith("cs-20261123-", a[0]);
    }

    [Fact]
    public void Unmapped_cameras_tell_their_own_hits_apart_by_the_image()
    {
        var pole = new GeoPoint(31.2304, 121.4737);
        Sighting Car(string cam, double x, double y, double after) =>
            new("illegal_parking", pole, PlaceKind.Camera, T0 + Min(after), cam, 0.7f, 0.02, new NormalisedPoint(x, y));

        var site = new SiteDedup();
        var left = Assert.IsType<NewSiteCase>(site.Decide(Car("cam-a", 0.2, 0.8, 0)));
        var right = Assert.IsType<NewSiteCase>(site.Decide(Car("cam-a", 0.8, 0.8, 0)));   // another car in the same view
        Assert.NotEqual(left.CaseId, right.CaseId);
        var leftAgain = Assert.IsType<SameSiteCase>(site.Decide(Car("cam-a", 0.22, 0.81, 1)));
        Assert.Equal(left.CaseId, leftAgain.CaseId);
        Assert.True(double.IsNaN(leftAgain.DistanceMetres));

        // The consequence of no ground mapping: a second camera on the same pole, whatever it looks at, is "the same place",
        // so its same-type hit joins an open case there (only type and time tell them apart).
        Assert.IsType<SameSiteCase>(site.Decide(Car("cam-b", 0.5, 0.5, 2)));
    }

    [Fact]
    public void Cameras_without_any_position_only_match_their_own_hits()
    {
        Sighting Lost(string cam, double x, double after) =>
            new("garbage", default, PlaceKind.Unknown, T0 + Min(after), cam, 0.7f, 0.02, new NormalisedPoint(x, 0.8));

        var site = new SiteDedup();
        var a = Assert.IsType<NewSiteCase>(site.Decide(Lost("cam-a", 0.3, 0)));
        Assert.Equal(a.CaseId, site.Decide(Lost("cam-a", 0.32, 1)).CaseId);
        Assert.IsType<NewSiteCase>(site.Decide(Lost("cam-b", 0.3, 1)));
        // A mapped hit at (0, 0) degrees must not join a case whose place is unknown.
        Assert.IsType<NewSiteCase>(site.Decide(new Sighting("garbage", default, PlaceKind.Ground, T0 + Min(2), "cam-c", 0.7f, 0.02)));
    }

    [Fact]
    public void A_sighting_of_a_hit_takes_its_place_from_the_ground_mapping()
    {
        // Image corners of a 20 m square of pavement, see GroundMappingTests.
        var cam = new Camera
        {
            Id = "cam-a", Name = "corner", GroupId = "g", Url = "x.mp4", Latitude = 31.23030, Longitude = 121.47380,
            Ground =
            [
                new(new(0.15, 0.92), 31.23040, 121.47370), new(new(0.85, 0.92), 31.23040, 121.47391),
                new(new(0.68, 0.45), 31.23058, 121.47391), new(new(0.32, 0.45), 31.23058, 121.47370),
            ],
        };
        var mapping = new GroundMapping(cam);
        var hit = new Hit("cam-a", "street_stall", "", new Box(96, 300, 288, 441.6f), 0.7f, T0, T0 + Min(1), "stall");   // foot (0.3, 0.92) of 640x480
        var s = Sighting.Of(hit, mapping, 640, 480);
        Assert.Equal(PlaceKind.Ground, s.PlaceKind);
        Assert.Equal(T0 + Min(1), s.At);
        Assert.InRange(s.Place.Latitude, 31.230399, 31.230401);     // on the near kerb
        Assert.InRange(s.FrameShare, 0.0884, 0.0886);                // 192 x 141.6 px of 640 x 480

        var sky = hit with { Box = new Box(300, 0, 340, 20) };        // foot above the horizon
        var s2 = Sighting.Of(sky, mapping, 640, 480);
        Assert.Equal(PlaceKind.Camera, s2.PlaceKind);
        Assert.Equal(new GeoPoint(31.23030, 121.47380), s2.Place);
    }

    [Fact]
    public void Cases_remembered_after_a_restart_keep_their_place_and_cooldown()
    {
        var site = new SiteDedup();
        site.Remember(new Case
        {
            Id = "cs-old-open", CaseType = "street_stall", CameraId = "cam-a", GroupId = "g",
            Latitude = Corner.Latitude, Longitude = Corner.Longitude, LastSeen = T0, Confidence = 0.6f,
        }, Corner, PlaceKind.Ground);
        site.Remember(new Case
        {
            Id = "cs-old-rejected", CaseType = "garbage", CameraId = "cam-a", GroupId = "g",
            Latitude = Corner.Latitude, Longitude = Corner.Longitude, LastSeen = T0,
            State = CaseState.Rejected, ClosedAt = T0 + Min(5),
        }, Corner, PlaceKind.Ground);

        Assert.Equal("cs-old-open", site.Decide(Stall(Near(2, 2), Min(10))).CaseId);
        var cool = Assert.IsType<SiteCooldown>(site.Decide(Stall(Corner, Min(10), type: "garbage")));
        Assert.Equal("cs-old-rejected", cool.CaseId);
        Assert.True(cool.Rejected);
    }
}
