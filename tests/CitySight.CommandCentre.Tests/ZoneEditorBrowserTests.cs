using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CitySight.CameraSimulator;
using CitySight.Cases;
using CitySight.Configuration;
using CitySight.Domain;
using CitySight.Service;
using CitySight.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenCvSharp;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The zone editor in a real browser against the real service, loaded from real configuration files: GStreamer's RTSP
/// server plays the parking-lot clip, the real model finds its vehicles. The camera's only zone starts in the sky, where
/// nothing parks; the operator draws the car park on the camera's picture and saves. The group file keeps its comments
/// and its other camera, the reload applies the zone without a restart, and a case is raised inside the drawn zone.
/// </summary>
public sealed class ZoneEditorBrowserTests : IAsyncLifetime
{
    private RtspSimulator _sim = null!;
    private WebApplication _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _dir = null!;
    private string _cameraFile = null!;
    private string _original = null!;
    private int _httpPort;

    private string PageUrl => $"http://127.0.0.1:{_httpPort}/";

    public async Task InitializeAsync()
    {
        _sim = await LiveConsole.ParkingLotAsync();
        _dir = TestAssets.TempDir("zone-editor");
        _httpPort = TestPorts.Free();
        var models = Path.Combine(TestAssets.RepoRoot, "models");
        // The clip is a time-lapse: a vehicle seen on 2 samples is a case, no dwell (as ConsoleBrowserTests).
        File.WriteAllText(Path.Combine(_dir, "citysight.yaml"), $"""
            service:
              grpc_port: {TestPorts.Free()}
              http_port: {_httpPort}
              data_dir: data
            models:
              manifest: {Path.Combine(models, "manifest.yaml")}
              search_paths: [{models}, {Path.Combine(TestAssets.Root, "models")}]
            rules:
              min_confidence: 0.3
              confirm_samples: 2
              case_types:
                illegal_parking: {"{"}min_dwell: 0s, stationary: false{"}"}
            console:
              picture_interval: 1s
            """);
        Directory.CreateDirectory(Path.Combine(_dir, "cameras"));
        _cameraFile = Path.Combine(_dir, "cameras", "street.yaml");
        _original = $"""
            # Test street: this header comment must survive the zone editor.
            group:
              id: test-street
              name: 测试街道        # the street's own name
            cameras:
              - id: lot-north
                name: 停车场北口
                url: {_sim.UrlFor("lot")}     # the simulator
                latitude: 31.2304
                longitude: 121.4737
                sample_interval: 0.5s
                detectors: [illegal_parking]
                zones:
                  - name: sky-corner       # nothing parks in the sky
                    polygon: [[0.0, 0.0], [0.1, 0.0], [0.1, 0.1]]
                # after the zones: stays
              - id: lot-south
                name: Other camera
                url: rtsp://127.0.0.1:9/none   # never reached: disabled
                latitude: 31.23
                longitude: 121.47
                detectors: [illegal_parking]
                enabled: false

            """;
        File.WriteAllText(_cameraFile, _original);
        _app = CitySightHost.Build(ConfigLoader.LoadOrThrow(Path.Combine(_dir, "citysight.yaml")));
        await _app.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    public Task DisposeAsync() => LiveConsole.StopAsync(_browser, _playwright, _app, _sim);

    [Fact]
    public async Task A_zone_drawn_on_the_picture_and_saved_keeps_the_file_s_comments_applies_without_a_restart_and_raises_a_case_inside_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(200));
        using var http = new HttpClient { BaseAddress = new Uri(PageUrl) };

        // The camera's picture: a JPEG of its latest frame, no wider than 640, with when it was taken.
        await Wait.UntilAsync(async () => (await http.GetAsync("/api/v1/cameras/lot-north/picture", timeout.Token)).IsSuccessStatusCode,
            TimeSpan.FromSeconds(60), "the camera's first picture");
        using (var picture = await http.GetAsync("/api/v1/cameras/lot-north/picture", timeout.Token))
        {
            Assert.Equal("image/jpeg", picture.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(picture.Content.Headers.LastModified);
            Assert.True(picture.Headers.CacheControl?.NoCache);
            Assert.True(DateTimeOffset.TryParse(picture.Headers.GetValues("X-Captured-At").Single(), out _));
            using var jpeg = Cv2.ImDecode(await picture.Content.ReadAsByteArrayAsync(timeout.Token), ImreadModes.Color);
            Assert.Equal((640, 480), (jpeg.Width, jpeg.Height));
        }
        using (var none = await http.GetAsync("/api/v1/cameras/lot-south/picture", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
            Assert.Contains("no picture yet", (await none.Content.ReadFromJsonAsync<JsonElement>(timeout.Token)).GetProperty("error").GetString());
        }

        var page = await Chromium.NewPageAsync(_browser);
        var pageErrors = new List<string>();
        page.PageError += (_, e) => pageErrors.Add(e);
        await page.GotoAsync(PageUrl + "#/cameras/lot-north/zones");
        await Expect(page.Locator("#zone-file")).ToHaveTextAsync("cameras/street.yaml");
        var stage = page.Locator("#zone-stage svg");
        await Expect(page.Locator("#zone-stage img")).ToBeVisibleAsync();
        await Expect(page.Locator("polygon[data-zone-id='sky-corner']")).ToHaveCountAsync(1);

        // Draw the car park's lower part: four clicks, Enter closes; then one corner is dragged a little.
        // Measured at each click: the page may still be settling (the header's live mark, the picture).
        async Task ClickAt(double x, double y)
        {
            var b = (await stage.BoundingBoxAsync())!;
            await page.Mouse.ClickAsync((float)(b.X + x * b.Width), (float)(b.Y + y * b.Height));
        }
        await page.Locator("#new-zone").ClickAsync();
        await ClickAt(0.01, 0.30);
        await ClickAt(0.99, 0.30);
        await ClickAt(0.99, 0.99);
        await ClickAt(0.01, 0.99);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("polygon[data-zone-id='zone-2']")).ToHaveCountAsync(1);
        var corner = page.Locator("circle.corner[data-corner='1']");
        var c = (await corner.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(c.X + c.Width / 2, c.Y + c.Height / 2);
        await page.Mouse.DownAsync();
        var box = (await stage.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync((float)(box.X + 0.95 * box.Width), (float)(box.Y + 0.35 * box.Height), new MouseMoveOptions { Steps = 5 });
        await page.Mouse.UpAsync();
        // Its case types listed (not "every type the camera looks for"), in force all day.
        await page.Locator("#zone-all-types").UncheckAsync();
        await page.Locator("input[name='case-type'][value='illegal_parking']").CheckAsync();
        await page.Locator("#zone-schedule").FillAsync("00:00-24:00");
        await page.Locator("#zone-schedule").BlurAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_dir, "zone-drawn.png") });
        await page.Locator("#save-zones").ClickAsync();
        await Expect(page.Locator("#zone-status.ok")).ToContainTextAsync("已保存");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_dir, "zone-saved.png") });

        // The file: only lot-north's zones block changed; comments, the other camera and the loader all agree.
        var saved = await File.ReadAllTextAsync(_cameraFile, timeout.Token);
        // The old zone, unchanged, keeps its text and comment; the new one follows it; nothing else moved.
        var cut = _original.IndexOf("[0.1, 0.1]]", StringComparison.Ordinal) + "[0.1, 0.1]]".Length;
        Assert.StartsWith(_original[..cut] + "\n      - name: zone-2\n", saved, StringComparison.Ordinal);
        Assert.EndsWith(_original[cut..], saved, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"- name: zone-2\n\s+polygon: \[\[0\.0\d*, 0\.[23]\d*\], \[0\.95\d*, 0\.35\d*\], \[0\.9\d*, 0\.9\d*\], \[0\.0\d*, 0\.9\d*\]\]\n"
                                 + @"\s+case_types: \[illegal_parking\]\n\s+schedule: ""00:00-24:00"""), saved);
        var loaded = ConfigLoader.Load(Path.Combine(_dir, "citysight.yaml"));
        Assert.True(loaded.Success, string.Join("\n", loaded.Errors));
        var zones = await http.GetFromJsonAsync<JsonElement>("/api/v1/cameras/lot-north/zones", timeout.Token);
        Assert.Equal(["sky-corner", "zone-2"], zones.GetProperty("zones").EnumerateArray().Select(z => z.GetProperty("id").GetString()));

        // Applied without a restart: a vehicle in the drawn zone becomes a case of that zone.
        var store = _app.Services.GetRequiredService<ICaseRecords>();
        Case? raised = null;
        await Wait.UntilAsync(async () => (raised = (await store.CasesSinceAsync(DateTimeOffset.MinValue, includeFinal: true, timeout.Token))
            .FirstOrDefault(k => k.Zone == "zone-2")) is not null, TimeSpan.FromSeconds(120), "a case inside the drawn zone");
        Assert.Equal("illegal_parking", raised!.CaseType);
        Assert.Equal("lot-north", raised.CameraId);

        // An invalid schedule: the page shows the file:line:column error, and the file stays as it was.
        await page.Locator(".zone-list li[data-zone-id='zone-2'] button").ClickAsync();
        await page.Locator("#zone-schedule").FillAsync("25:00-26:00");
        await page.Locator("#zone-schedule").BlurAsync();
        await page.Locator("#save-zones").ClickAsync();
        var error = page.Locator(".zone-errors li").First;
        await Expect(error).ToContainTextAsync(new Regex(@"^cameras/street\.yaml:\d+:\d+: cameras\[0\]\.zones\[1\]\.schedule: "));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_dir, "zone-invalid.png") });
        Assert.Equal(saved, await File.ReadAllTextAsync(_cameraFile, timeout.Token));
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "cameras")));
        Assert.Empty(pageErrors);
    }
}
