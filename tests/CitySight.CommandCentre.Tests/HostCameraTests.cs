using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CitySight.Domain;
using CitySight.Service;
using CitySight.Service.Admin;
using CitySight.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// What the host hands the console for the wall, in the real service: each stream's frames/s from ingest, its group's
/// street, its mode, its latest picture on the wall in chromium; and the console's enable / disable going through the
/// admin API's own switch.
/// </summary>
public sealed class HostCameraTests(ITestOutputHelper output) : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var lot = LiveConsole.ParkingCamera("lot-file", "停车场录像", TestAssets.Media("parking-lot-cctv-640x480.mp4")) with
        {
            RealTime = true, Loop = true,
        };
        // A patrolled camera in another group, never reached: its mode and street are its own, and it has no rate.
        var patrolled = lot with { Id = "gate-patrol", Name = "大门", GroupId = "other-street", Url = "rtsp://127.0.0.1:9/none", Mode = IngestMode.Patrol };
        var config = LiveConsole.Config("wall-host",
            new CameraGroup { Id = "test-street", Name = "测试街道", Street = "Test Road", Cameras = [lot] },
            new CameraGroup { Id = "other-street", Name = "另一街道", Street = "Gate Road", Cameras = [patrolled] });
        _app = CitySightHost.Build(config);
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{config.Service.HttpPort}") };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task<JsonElement> Camera(string id) =>
        (await _http.GetFromJsonAsync<JsonElement>("/api/v1/cameras")).EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    [Fact]
    public async Task The_wall_gets_each_streams_frame_rate_its_street_and_mode_and_switches_it_through_the_admin_api()
    {
        // A file played in real time, sampled every 0.5 s: 2 frames/s once a 10 s window has passed.
        await Wait.UntilAsync(async () => (await Camera("lot-file")).GetProperty("framesPerSecond").ValueKind == JsonValueKind.Number,
            TimeSpan.FromSeconds(60), "the stream's frames/s");
        var lot = await Camera("lot-file");
        var rate = lot.GetProperty("framesPerSecond").GetDouble();
        output.WriteLine($"lot-file: {rate:F2} frames/s");
        Assert.InRange(rate, 1.5, 2.5);
        Assert.Equal(("streaming", "Test Road", "continuous", "测试街道"), (lot.GetProperty("state").GetString(), lot.GetProperty("street").GetString(),
            lot.GetProperty("mode").GetString(), lot.GetProperty("groupName").GetString()));
        var gate = await Camera("gate-patrol");
        Assert.Equal(("Gate Road", "patrol", JsonValueKind.Null), (gate.GetProperty("street").GetString(), gate.GetProperty("mode").GetString(),
            gate.GetProperty("framesPerSecond").ValueKind));

        // The wall in chromium: the streaming camera's card shows its latest picture (the host's picture tap), the
        // patrolled one that was never reached the placeholder.
        using (var playwright = await Playwright.CreateAsync())
        {
            await using var browser = await Chromium.LaunchAsync(playwright);
            var page = await Chromium.NewPageAsync(browser);
            await page.GotoAsync(_http.BaseAddress + "#/cameras");
            var thumb = page.Locator(".camera-card[data-camera-id='lot-file'] .thumb img");
            await Expect(thumb).ToBeVisibleAsync();
            Assert.Equal(640, await thumb.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth)"));
            await Expect(page.Locator(".camera-card[data-camera-id='gate-patrol'] .no-picture")).ToBeVisibleAsync();
            await Expect(page.Locator(".camera-card[data-camera-id='lot-file'] .fps")).ToContainTextAsync("帧/秒");
            var shot = Path.Combine(TestAssets.TempDir("wall-host-shots"), "wall-real.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot });
            output.WriteLine($"screenshot: {shot}");
        }

        var off = await _http.PostAsJsonAsync("/api/v1/cameras/lot-file/enabled", new { enabled = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        var answered = await off.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("disabled", "Test Road"), (answered.GetProperty("state").GetString(), answered.GetProperty("street").GetString()));
        var admin = _app.Services.GetRequiredService<CameraAdministrator>();
        Assert.False(admin.Get("lot-file")!.Enabled);
        Assert.Equal("disabled", (await Camera("lot-file")).GetProperty("state").GetString());

        var on = await _http.PostAsJsonAsync("/api/v1/cameras/lot-file/enabled", new { enabled = true });
        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        Assert.True(admin.Get("lot-file")!.Enabled);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.PostAsJsonAsync("/api/v1/cameras/none/enabled", new { enabled = false })).StatusCode);
    }
}
