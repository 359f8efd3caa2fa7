using CitySight.CameraSimulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace CitySight.CommandCentre.Tests;

/// <summary>What the browser tests against the real service start, stopped in one place (each part only if it was started).</summary>
internal static class LiveConsole
{
    /// <summary>The browser and Playwright first (the page holds the service's event stream), then the service, then the cameras.</summary>
    public static async Task StopAsync(IBrowser? browser, IPlaywright? playwright, WebApplication? app, RtspSimulator? sim)
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        if (sim is not null) await sim.DisposeAsync();
    }
}
