using System.Text.RegularExpressions;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The map (#/map) and the wall screen (#/screen) in a real browser (Debian's chromium, Playwright) against the console
/// over a real store: cameras and open cases at their positions on the demo's GeoJSON base, or on plain coordinates;
/// a case on the map opens its detail; both follow the case feed live; the screen is 1920x1080, dark, without the
/// navigation, with the figures. No CSP violation and no script error on the way. Screenshots: the folder below.
/// </summary>
public sealed class MapScreenBrowserTests : IAsyncLifetime
{
    public static readonly string Shots = Path.Combine(Path.GetTempPath(), "citysight-console-shots");
    private static readonly string DemoBase = Path.Combine(TestAssets.RepoRoot, "configs", "map", "demo-streets.geojson");

    private static readonly ConsoleCamera[] Cameras =
    [
        new("parking-lot-1", "停车场北口", "demo-street", "演示街道", "streaming", null, 31.2304, 121.4737, 0.5),
        new("garbage-left", "工地路", "demo-street", "演示街道", "offline", "connection refused", 31.2310, 121.4745, null),
        new("east-lane", "东巷", "demo-east", "东巷网格", "patrolled", null, 31.2295, 121.4752, 40),
    ];

    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Shots);
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    private static Case At(int n, string type, string group, double lat, double lon) =>
        CaseSamples.Case(n, type) with { GroupId = group, Latitude = lat, Longitude = lon, CameraId = "parking-lot-1" }
            with { CaseTypeNameZh = type == "garbage" ? "暴露垃圾" : "机动车乱停放", CaseTypeNameEn = type == "garbage" ? "Exposed garbage" : "Illegal parking" };

    /// <summary>Open cases on the base, and ended ones that give the outcome figures.</summary>
    private static async Task<List<Case>> Fill(ConsoleServer server)
    {
        var open = new List<Case>
        {
            await server.Store.OpenAsync(At(1, "illegal_parking", "demo-street", 31.2303, 121.4739)),
            await server.Store.OpenAsync(At(2, "illegal_parking", "demo-street", 31.2312, 121.4741)),
            await server.Store.OpenAsync(At(3, "garbage", "demo-east", 31.2300, 121.4750)),
        };
        for (var n = 10; n < 16; n++)
        {
            var c = await server.Store.OpenAsync(At(n, n % 2 == 0 ? "illegal_parking" : "garbage", "demo-street", 31.2306, 121.4735));
            await server.Store.TransitionAsync(c.Id, n % 3 == 0 ? CaseState.Rejected : CaseState.Closed, c.ReportedAt!.Value.AddMinutes(n * 3));
        }
        await server.Store.AckAsync("dispatch-demo", server.Store.LastSequence - 2);
        return open;
    }

    private static List<string> Watch(IPage page)
    {
        var problems = new List<string>();
        page.PageError += (_, e) => problems.Add(e);
        // A case's detail asks for every view and gets 404 for those it has none of: only the CSP's refusals count here.
        page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal)) problems.Add(m.Text); };
        return problems;
    }

    [Fact]
    public async Task The_map_shows_cameras_and_open_cases_on_the_operators_base_and_a_case_opens_its_detail()
    {
        await using var server = await ConsoleServer.StartAsync(cameras: Cameras, configure: o => o with { MapGeoJson = DemoBase });
        var open = await Fill(server);
        var page = await Chromium.NewPageAsync(_browser);
        var problems = Watch(page);

        await page.GotoAsync(server.Http.BaseAddress + "#/map");
        var map = page.Locator("#map-full");
        await Expect(map).ToHaveAttributeAsync("data-base", "geojson");
        await Expect(map.Locator(".base-line")).ToHaveCountAsync(4);      // the demo's four streets
        await Expect(map.Locator(".base-area")).ToHaveCountAsync(1);      // and its grid
        await Expect(map.Locator(".case-marker")).ToHaveCountAsync(3);    // open cases only
        await Expect(map.Locator(".camera-marker")).ToHaveCountAsync(3);
        await Expect(map.Locator(".camera-marker.cam-offline")).ToHaveAttributeAsync("data-camera-id", "garbage-left");
        Assert.Equal("#e53935", await map.Locator($".case-marker[data-case-id='{open[0].Id}']").GetAttributeAsync("fill"));
        Assert.Equal("#a1662f", await map.Locator($".case-marker[data-case-id='{open[2].Id}']").GetAttributeAsync("fill"));
        await Expect(page.Locator(".map-note")).ToContainTextAsync("demo-streets.geojson");
        await Expect(page.Locator("#live")).ToHaveClassAsync(new Regex(@"\bon\b"));

        // A case raised while the map is open appears on it; one closed leaves it.
        var fresh = await server.Store.OpenAsync(At(4, "garbage", "demo-street", 31.2316, 121.4731));
        await Expect(map.Locator($".case-marker[data-case-id='{fresh.Id}']")).ToHaveCountAsync(1);
        await server.Store.TransitionAsync(open[1].Id, CaseState.Closed, DateTimeOffset.UtcNow);
        await Expect(map.Locator($".case-marker[data-case-id='{open[1].Id}']")).ToHaveCountAsync(0);
        // Markers sit where their positions say: the eastern case right of the western one, the northern one above.
        var west = await map.Locator($".case-marker[data-case-id='{open[0].Id}']").BoundingBoxAsync();
        var east = await map.Locator($".case-marker[data-case-id='{open[2].Id}']").BoundingBoxAsync();
        var north = await map.Locator($".case-marker[data-case-id='{fresh.Id}']").BoundingBoxAsync();
        Assert.True(west is not null && east is not null && north is not null, "a case marker is off the map");
        Assert.True(east.X > west.X && north.Y < west.Y, $"west {west.X},{west.Y} east {east.X} north {north.Y}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Shots, "map-geojson.png") });

        await map.Locator($".case-marker[data-case-id='{open[0].Id}']").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/cases/{open[0].Id}$"));
        await Expect(page.Locator(".case-detail")).ToHaveAttributeAsync("data-case-id", open[0].Id);

        // The overview has the figures and the small map.
        await page.GotoAsync(server.Http.BaseAddress + "#/");
        await Expect(page.Locator("#figure-outcomes")).ToContainTextAsync("办结率");
        // Acked 2 before the head at the start; a case opened and one closed since: 4 events behind.
        await Expect(page.Locator("#figure-delivery tr[data-consumer='dispatch-demo'] td:nth-child(2)")).ToHaveTextAsync("4");
        await Expect(page.Locator("#map-small .case-marker")).ToHaveCountAsync(3);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Shots, "overview.png"), FullPage = true });
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Without_a_base_the_map_draws_latitude_and_longitude_lines()
    {
        await using var server = await ConsoleServer.StartAsync(cameras: Cameras);
        await Fill(server);
        var page = await Chromium.NewPageAsync(_browser);
        var problems = Watch(page);
        await page.GotoAsync(server.Http.BaseAddress + "#/map");
        var map = page.Locator("#map-full");
        await Expect(map).ToHaveAttributeAsync("data-base", "coordinates");
        await Expect(map.Locator(".case-marker")).ToHaveCountAsync(3);
        Assert.True(await map.Locator(".graticule").CountAsync() >= 4);
        await Expect(map.Locator(".graticule-label").First).ToContainTextAsync("°");
        await Expect(map.Locator(".base-line")).ToHaveCountAsync(0);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Shots, "map-coordinates.png") });
        Assert.Empty(problems);
    }

    [Fact]
    public async Task The_wall_screen_is_1920x1080_dark_without_navigation_and_follows_cases_live()
    {
        await using var server = await ConsoleServer.StartAsync(cameras: Cameras, configure: o => o with { MapGeoJson = DemoBase });
        await Fill(server);
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions
        {
            ViewportSize = new ViewportSize { Width = 1920, Height = 1080 }, Locale = "zh-CN", TimezoneId = "Asia/Shanghai",
        });
        var problems = Watch(page);

        await page.GotoAsync(server.Http.BaseAddress + "#/screen");
        var screen = page.Locator("#wall-screen");
        await Expect(screen).ToBeVisibleAsync();
        await Expect(page.Locator("header")).ToBeHiddenAsync();                        // no navigation on the wall
        Assert.Equal("rgb(6, 11, 20)", await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));
        var box = await screen.BoundingBoxAsync();
        Assert.Equal((1920f, 1080f), (box!.Width, box.Height));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.documentElement.scrollHeight - window.innerHeight"));
        await Expect(page.Locator("#screen-open-total")).ToHaveTextAsync("3");
        await Expect(page.Locator("#screen-by-type")).ToContainTextAsync("机动车乱停放");
        await Expect(page.Locator("#screen-by-group")).ToContainTextAsync("东巷网格");
        await Expect(page.Locator("#screen-cameras")).ToContainTextAsync("离线");
        await Expect(page.Locator("#screen-outcomes")).ToContainTextAsync("%");
        await Expect(page.Locator("#map-screen .case-marker")).ToHaveCountAsync(3);
        await Expect(page.Locator("#screen-newest li")).ToHaveCountAsync(3);

        // Live: a new case is at the top of the newest and on the map at once, and in the counts soon after.
        var fresh = await server.Store.OpenAsync(At(5, "illegal_parking", "demo-east", 31.2297, 121.4748));
        await Expect(page.Locator("#screen-newest li").First).ToHaveAttributeAsync("data-case-id", fresh.Id);
        await Expect(page.Locator($"#map-screen .case-marker[data-case-id='{fresh.Id}']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#screen-open-total")).ToHaveTextAsync("4");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Shots, "wall-screen.png") });

        // Esc leaves it for the overview, with the navigation back.
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("header nav")).ToBeVisibleAsync();
        await Expect(page.Locator("#overview")).ToBeVisibleAsync();
        Assert.Empty(problems);
    }
}
