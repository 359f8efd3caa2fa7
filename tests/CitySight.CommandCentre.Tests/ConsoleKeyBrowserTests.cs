using CitySight.Delivery.Security;
using CitySight.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// With API keys configured the page asks for the operator's key, and with it shows the cases and lets an outcome
/// consumer decide one (the console alone over a store: no camera needed to see the key's way through the page).
/// </summary>
public sealed class ConsoleKeyBrowserTests
{
    private const string XuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";

    [Fact]
    public async Task The_page_asks_for_the_key_then_shows_and_decides_cases_with_it()
    {
        await using var server = await ConsoleServer.StartAsync(new ConsumerAuthOptions
        {
            Keys = ConsumerKeys.Parse($"xuhui={XuhuiKey}", "test"),
            OutcomeConsumers = new HashSet<string> { "xuhui" },
        });
        var c = await server.Store.OpenAsync(CaseSamples.Case(1));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser);

        await page.GotoAsync(server.Http.BaseAddress!.ToString());
        await Expect(page.Locator(".banner")).ToContainTextAsync("操作员密钥");
        await Expect(page.Locator("#open-cases tbody tr")).ToHaveCountAsync(0);
        await page.Locator("#api-key").FillAsync(XuhuiKey);
        await page.Locator(".banner button[type=submit]").ClickAsync();

        var row = page.Locator($"tr[data-case-id='{c.Id}']");
        await Expect(row).ToContainTextAsync("机动车乱停放");
        await Expect(page.Locator("#live")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bon\b"));
        await row.ClickAsync();
        await Expect(page.Locator(".gallery figure[data-view='best'] img")).ToBeVisibleAsync();   // fetched with the key
        await Expect(page.Locator($"#map-case circle.case-marker[data-case-id='{c.Id}']")).ToHaveCountAsync(1); // its place on the map
        await page.Locator("button.close").ClickAsync();
        await Expect(page.Locator(".case-detail h2 .badge")).ToHaveAttributeAsync("data-state", "closed");
        Assert.Equal(Domain.CaseState.Closed, (await server.Store.GetAsync(c.Id))!.State);
    }
}
