using CitySight.Delivery.Security;
using CitySight.Tests;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The camera wall and a camera's page in Debian's chromium, against the console over a real store with a district's
/// 1,000 cameras: the filters narrow the wall, only the cards in view are in the DOM, a camera's page lists its own
/// cases and draws its zones, and switching it off changes its badge (or says why it may not).
/// </summary>
public sealed class WallBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string XuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";

    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private readonly string _shots = TestAssets.TempDir("wall-shots");

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task The_wall_of_1000_cameras_keeps_only_the_cards_in_view_and_its_filters_narrow_it()
    {
        var board = new FakeCameraBoard(FakeCameraBoard.District(1000));
        await using var server = await ConsoleServer.StartAsync(cameras: board, configure: o => o with { SwitchCamera = board.Switch });
        var page = await Chromium.NewPageAsync(_browser);
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);

        await page.GotoAsync(server.Http.BaseAddress + "#/cameras");
        var cards = page.Locator(".camera-card");
        await Expect(cards.First).ToBeVisibleAsync();
        await Expect(page.Locator("#wall-shown")).ToHaveTextAsync("显示 1000 / 1000 个摄像头");
        await Expect(page.Locator("#wall-counts li[data-state='streaming'] b")).ToHaveTextAsync("375");
        await Expect(page.Locator("#wall-counts li[data-state='offline'] b")).ToHaveTextAsync("125");
        var inDom = await cards.CountAsync();
        output.WriteLine($"cards in the DOM with 1,000 cameras: {inDom}");
        Assert.InRange(inDom, 5, 60);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_shots, "wall.png") });

        // Scrolled to the end: the last cameras are drawn, the first ones gone, and the DOM stays as small.
        await page.Locator("#camera-wall").EvaluateAsync("el => el.scrollTop = el.scrollHeight");
        await Expect(page.Locator(".camera-card[data-camera-id='cam-0999']")).ToBeVisibleAsync();
        await Expect(page.Locator(".camera-card[data-camera-id='cam-0000']")).ToHaveCountAsync(0);
        Assert.InRange(await cards.CountAsync(), 5, 60);

        // Group, then street, then state: each narrows what is shown, every card shown matches.
        await page.Locator("#wall-group").SelectOptionAsync("minhang-gumei");
        await Expect(page.Locator("#wall-shown")).ToHaveTextAsync("显示 200 / 1000 个摄像头");
        await Expect(page.Locator(".camera-card[data-camera-id='cam-0003']")).ToBeVisibleAsync();
        foreach (var meta in await page.Locator(".camera-card .card-meta").AllTextContentsAsync()) Assert.StartsWith("古美街道", meta);
        await page.Locator("#wall-group").SelectOptionAsync("");
        await page.Locator("#wall-street").SelectOptionAsync("桂林路");
        await Expect(page.Locator("#wall-shown")).ToHaveTextAsync("显示 200 / 1000 个摄像头");
        await page.Locator("#wall-state").SelectOptionAsync("offline");
        await Expect(page.Locator("#wall-shown")).ToHaveTextAsync("显示 25 / 1000 个摄像头");
        await Expect(cards).ToHaveCountAsync(25);   // five rows: all in view
        foreach (var card in await cards.AllAsync())
        {
            await Expect(card).ToHaveAttributeAsync("data-state", "offline");
            await Expect(card.Locator(".card-meta")).ToContainTextAsync("桂林路");
            await Expect(card.Locator(".card-reason")).ToHaveTextAsync("connection refused");
        }
        await page.Locator("#wall-search").FillAsync("桂林路102号杆");
        await Expect(page.Locator("#wall-shown")).ToHaveTextAsync("显示 1 / 1000 个摄像头");
        await Expect(cards).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_shots, "wall-filtered.png") });

        // A camera without a picture (no picture API here: 404) gets the placeholder, not a broken image.
        await Expect(cards.First.Locator(".no-picture")).ToBeVisibleAsync();
        // The English switch redraws the wall in place, filters kept.
        await page.Locator("#lang").ClickAsync();
        await Expect(page.Locator("#wall-shown")).ToHaveTextAsync("1 of 1000 cameras");
        await Expect(cards.First.Locator(".cam-badge")).ToHaveTextAsync("Offline");
        Assert.Empty(errors);
        output.WriteLine($"screenshots: {_shots}");
    }

    [Fact]
    public async Task A_cameras_page_draws_its_zones_lists_its_own_cases_and_disabling_it_changes_its_badge()
    {
        var board = new FakeCameraBoard(FakeCameraBoard.District(10));
        await using var server = await ConsoleServer.StartAsync(cameras: board, configure: o => o with { SwitchCamera = board.Switch });
        var mine = new List<string>();
        for (var n = 0; n < 6; n++)
        {
            var c = await server.Store.OpenAsync(CaseSamples.Case(n) with { CameraId = n % 2 == 0 ? "cam-0001" : "cam-0002" });
            if (n % 2 == 0) mine.Add(c.Id);
        }
        var page = await Chromium.NewPageAsync(_browser);
        // The picture and zone APIs answer from the host's picture tap and zone book, absent here: answered as they answer.
        await page.RouteAsync("**/api/v1/cameras/cam-0001/picture*", r => r.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200, ContentType = "image/jpeg", Path = TestAssets.Media("bus.jpg"),
        }));
        await page.RouteAsync("**/api/v1/cameras/cam-0001/zones", r => r.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200, ContentType = "application/json",
            Body = """
                   {"cameraId":"cam-0001","groupId":"xuhui-caohejing","file":"cameras/caohejing.yaml","detectors":["illegal_parking"],
                    "typeNames":{"illegal_parking":{"zh":"机动车乱停放","en":"Illegally parked motor vehicle"}},"zones":[
                     {"id":"no-parking-east","caseTypes":["illegal_parking"],"points":[[0.1,0.5],[0.9,0.5],[0.9,0.95],[0.1,0.95]],"exclude":false,"schedule":null,"allCaseTypes":false},
                     {"id":"bus-stop","caseTypes":[],"points":[[0.6,0.1],[0.8,0.1],[0.7,0.4]],"exclude":true,"schedule":"07:00-19:00","allCaseTypes":false}]}
                   """,
        }));

        await page.GotoAsync(server.Http.BaseAddress + "#/cameras");
        await page.Locator(".camera-card[data-camera-id='cam-0001']").ClickAsync();
        await Expect(page.Locator(".camera-detail")).ToHaveAttributeAsync("data-camera-id", "cam-0001");
        await Expect(page.Locator(".camera-detail h2 .cam-badge")).ToHaveAttributeAsync("data-state", "streaming");
        await Expect(page.Locator(".camera-frame img")).ToBeVisibleAsync();
        await Expect(page.Locator(".camera-frame polygon.zone")).ToHaveCountAsync(2);
        Assert.Equal("10,50 90,50 90,95 10,95", await page.Locator("polygon[data-zone-id='no-parking-east']").GetAttributeAsync("points"));
        await Expect(page.Locator("polygon[data-zone-id='bus-stop']")).ToHaveClassAsync("zone exclude");
        await Expect(page.Locator(".camera-frame .zone-label")).ToHaveTextAsync(["no-parking-east", "bus-stop (排除)"]);
        // At the zone's corner (10 %, 50 % of the frame), not left where the page's CSP would put a label styled inline.
        Assert.Equal(new[] { 0.1, 0.5 }, await page.Locator(".camera-frame .zone-label").First.EvaluateAsync<double[]>(
            "l => [Math.round(l.offsetLeft / l.parentElement.clientWidth * 100) / 100, Math.round(l.offsetTop / l.parentElement.clientHeight * 100) / 100]"));
        var rows = page.Locator("#camera-cases tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        Assert.Equal(Enumerable.Reverse(mine), await rows.EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.caseId)"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_shots, "camera.png"), FullPage = true });

        await page.Locator("#camera-switch").ClickAsync();
        await Expect(page.Locator(".camera-detail h2 .cam-badge")).ToHaveAttributeAsync("data-state", "disabled");
        await Expect(page.Locator("#camera-switch")).ToHaveTextAsync("启用摄像头");
        Assert.Equal("disabled", board["cam-0001"].State);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_shots, "camera-disabled.png"), FullPage = true });

        // Back on the wall the card says so too; a camera with no zone API answer (404) gets no zones drawn.
        await page.Locator("a.back").ClickAsync();
        await Expect(page.Locator(".camera-card[data-camera-id='cam-0001']")).ToHaveAttributeAsync("data-state", "disabled");
        await page.Locator(".camera-card[data-camera-id='cam-0002']").ClickAsync();
        await Expect(page.Locator(".camera-detail")).ToHaveAttributeAsync("data-camera-id", "cam-0002");
        await Expect(page.Locator("#camera-cases tbody tr")).ToHaveCountAsync(3);
        await Expect(page.Locator(".camera-frame .no-picture")).ToBeVisibleAsync();
        await Expect(page.Locator(".camera-frame polygon")).ToHaveCountAsync(0);
        output.WriteLine($"screenshots: {_shots}");
    }

    [Fact]
    public async Task An_operator_who_is_not_an_admin_consumer_is_told_so_in_the_page()
    {
        var board = new FakeCameraBoard(FakeCameraBoard.District(3));
        await using var server = await ConsoleServer.StartAsync(new ConsumerAuthOptions
        {
            Keys = ConsumerKeys.Parse($"xuhui={XuhuiKey}", "test"),
            OutcomeConsumers = new HashSet<string> { "xuhui" },
        }, board, configure: o => o with { SwitchCamera = board.Switch });
        var page = await Chromium.NewPageAsync(_browser);
        await page.GotoAsync(server.Http.BaseAddress + "#/cameras/cam-0000");
        await page.Locator("#api-key").FillAsync(XuhuiKey);
        await page.Locator(".banner button[type=submit]").ClickAsync();

        await page.Locator("#camera-switch").ClickAsync();
        await Expect(page.Locator("#camera-switch-status")).ToContainTextAsync("admin_consumers");
        await Expect(page.Locator("#camera-switch-status")).ToHaveClassAsync("switch-status error");
        await Expect(page.Locator(".camera-detail h2 .cam-badge")).ToHaveAttributeAsync("data-state", "streaming");
        Assert.Equal("streaming", board["cam-0000"].State);
        Assert.Equal(0, board.Switches);
    }
}
