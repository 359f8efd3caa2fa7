using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CitySight.Cases;
using CitySight.CameraSimulator;
using CitySight.Configuration;
using CitySight.Delivery;
using CitySight.Delivery.V1;
using CitySight.Domain;
using CitySight.Rules;
using CitySight.Service;
using CitySight.Service.Admin;
using CitySight.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The console in a real browser (Debian's chromium, driven by Playwright) against the real service: GStreamer's RTSP
/// server plays the parking-lot clip, ffmpeg decodes it, the real model finds the vehicles. The page is open before the
/// camera comes on, so the case it shows arrived live; rejecting it in the page reaches a gRPC subscriber.
/// </summary>
public sealed class ConsoleBrowserTests : IAsyncLifetime
{
    private const string SecretUrl = "rtsp://ops-user:s3cret-pw@127.0.0.3:9/stream-path-9?token=tok-abc-123";
    private static readonly string[] SecretParts = ["ops-user", "s3cret-pw", "127.0.0.3", "stream-path-9", "tok-abc-123"];

    private RtspSimulator _sim = null!;
    private WebApplication _app = null!;
    private CitySightConfig _config = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    private string PageUrl => $"http://127.0.0.1:{_config.Service.HttpPort}/";

    public async Task InitializeAsync()
    {
        _sim = await LiveConsole.ParkingLotAsync();
        // Off until the page is open: the case the page shows must arrive while it is open.
        var lot = LiveConsole.ParkingCamera("lot-north", "停车场北口", _sim.UrlFor("lot")) with { Enabled = false };
        // A camera with a password and a token in its URL that cannot be reached: the console names it by id only.
        var secret = lot with { Id = "lot-secret", Name = "Secret", Url = SecretUrl, Enabled = true };
        _config = LiveConsole.Config("console-e2e",
            new CameraGroup { Id = "test-street", Name = "测试街道", Street = "Test Road", Grid = "g-1", Cameras = [lot, secret] }) with
        {
            // The clip is a time-lapse: a vehicle seen on 2 samples is a case, no dwell.
            Rules = new RuleOptions
            {
                ConfirmSamples = 2,
                MinConfidence = 0.3f,
                CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>
                {
                    ["illegal_parking"] = new() { MinDwell = TimeSpan.Zero, RequireStationary = false },
                },
            },
        };
        _app = CitySightHost.Build(_config);
        await _app.StartAsync();

        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public Task DisposeAsync() => LiveConsole.StopAsync(_browser, _playwright, _app, _sim);

    [Fact]
    public async Task A_case_from_the_camera_appears_live_and_rejecting_it_in_the_page_reaches_a_grpc_subscriber()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var store = _app.Services.GetRequiredService<ICaseStore>();
        var page = await Chromium.NewPageAsync(_browser);
        var pageErrors = new List<string>();
        page.PageError += (_, e) => pageErrors.Add(e);

        await page.GotoAsync(PageUrl);
        await Expect(page.Locator("h1")).ToHaveTextAsync("CitySight 城市管理指挥中心");   // Chinese by default
        await Expect(page.Locator("#live")).ToHaveClassAsync(new Regex(@"\bon\b"));        // following the case feed
        await Expect(page.Locator("#open-cases tbody tr")).ToHaveCountAsync(0);
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        // The camera comes on: its first vehicle becomes a case, and the open page lists it without a reload.
        await _app.Services.GetRequiredService<CameraAdministrator>().SetEnabledAsync("lot-north", true, timeout.Token);
        var first = page.Locator("#open-cases tbody tr").First;
        await first.WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });
        var id = await first.GetAttributeAsync("data-case-id");
        Assert.NotNull(id);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded");
        var stored = await store.GetAsync(id!, timeout.Token);
        Assert.Equal("illegal_parking", stored!.CaseType);
        var row = page.Locator($"tr[data-case-id='{id}']");
        await Expect(row).ToContainTextAsync("机动车乱停放");
        await Expect(row).ToContainTextAsync("停车场北口");
        await Expect(page.Locator("#overview .tile-number").First).Not.ToHaveTextAsync("0");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = "/tmp/console-list.png" });

        // A dispatch system subscribed over gRPC from now on.
        var stateChanged = Task.Run(async () =>
        {
            await foreach (var e in CaseFeedClient.SubscribeAsync($"http://127.0.0.1:{_config.Service.GrpcPort}", "console-e2e",
                               (ulong)store.LastSequence, includeEvidence: false, timeout.Token))
                if (e.Kind == CaseEventKind.StateChanged && e.Case.Id == id) return e;
            throw new InvalidOperationException("the feed ended");
        });

        // The case's page: its pictures, then the operator rejects it with a note.
        await row.ClickAsync();
        await Expect(page.Locator(".case-detail")).ToHaveAttributeAsync("data-case-id", id!);
        var best = page.Locator(".gallery figure[data-view='best'] img");
        await Expect(best).ToBeVisibleAsync();
        Assert.Equal(640, await best.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth)"));
        await page.Locator("#note").FillAsync("误报：施工车辆临时停靠");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = "/tmp/console-case.png", FullPage = true });
        await page.Locator("button.reject").ClickAsync();
        await Expect(page.Locator(".case-detail h2 .badge")).ToHaveAttributeAsync("data-state", "rejected");

        var heard = await stateChanged.WaitAsync(timeout.Token);
        Assert.Equal(Delivery.V1.CaseState.Rejected, heard.Case.State);
        Assert.Equal("误报：施工车辆临时停靠", heard.Case.StateNote);
        Assert.Equal(Domain.CaseState.Rejected, (await store.GetAsync(id!, timeout.Token))!.State);

        // Back on the list the case is gone (no longer open); the English switch works on the same page.
        await page.Locator("a.back").ClickAsync();
        await Expect(page.Locator("#open-cases")).ToBeVisibleAsync();
        await Expect(page.Locator($"tr[data-case-id='{id}']")).ToHaveCountAsync(0);
        await page.Locator("#lang").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("CitySight command centre");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = "/tmp/console-list-en.png" });
        Assert.Empty(pageErrors);

        // The unreachable camera with secrets in its URL is named by id, with its reason, and nothing of its address.
        using var http = new HttpClient { BaseAddress = new Uri(PageUrl) };
        await Wait.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/v1/cameras", timeout.Token)).EnumerateArray()
            .Any(c => c.GetProperty("id").GetString() == "lot-secret" && c.GetProperty("reason").GetString() is { Length: > 0 }),
            TimeSpan.FromSeconds(30), "the unreachable camera to have a reason");
        var cameras = await http.GetStringAsync("/api/v1/cameras", timeout.Token);
        foreach (var part in SecretParts) Assert.DoesNotContain(part, cameras);

        // The host hands the console the detector's totals (frames the model ran, the mailboxes' drops) for the overview.
        var detector = (await http.GetFromJsonAsync<JsonElement>("/api/v1/overview", timeout.Token)).GetProperty("detector");
        Assert.True(detector.GetProperty("frames").GetInt64() > 0, detector.ToString());
        Assert.True(detector.GetProperty("framesPerSecondByModel").EnumerateObject().Any(), detector.ToString());

        // The page's catch-all route leaves the port's own endpoints theirs.
        Assert.Contains("citysight_frames_decoded_total", await http.GetStringAsync("/metrics", timeout.Token));
        Assert.Equal("serving", (await http.GetFromJsonAsync<JsonElement>("/healthz", timeout.Token)).GetProperty("status").GetString());
    }
}
