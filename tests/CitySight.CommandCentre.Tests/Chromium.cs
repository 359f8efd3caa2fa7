using Microsoft.Playwright;

namespace CitySight.CommandCentre.Tests;

/// <summary>Debian's chromium (scripts/setup.sh installs it) driven by Playwright; a browser is never downloaded here.</summary>
internal static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} is missing: scripts/setup.sh installs Debian's chromium");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // ENVIRONMENT.md: without these, chromium floods the closed network with refused connections.
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A page as an operator in a district sees it: Chinese, China Standard Time, an office screen.</summary>
    public static Task<IPage> NewPageAsync(IBrowser browser) => browser.NewPageAsync(new BrowserNewPageOptions
    {
        ViewportSize = new ViewportSize { Width = 1366, Height = 900 }, Locale = "zh-CN", TimezoneId = "Asia/Shanghai",
    });
}
