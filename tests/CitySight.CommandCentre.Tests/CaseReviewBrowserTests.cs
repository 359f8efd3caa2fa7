using CitySight.Domain;
using CitySight.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The case review page (#/cases) in a real browser over a real store: filters by state, type, group and raised time
/// kept in the address, and a case that arrives (or changes state) while the page is open joins or leaves the list live.
/// </summary>
public sealed class CaseReviewBrowserTests
{
    [Fact]
    public async Task The_review_filters_by_state_type_group_and_time_and_follows_the_feed()
    {
        await using var server = await ConsoleServer.StartAsync();
        var at = new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.FromHours(8));
        var parking = await server.Store.OpenAsync(CaseSamples.Case(1) with { RaisedAt = at });
        var garbage = await server.Store.OpenAsync(CaseSamples.Case(2, "garbage") with
        {
            RaisedAt = at.AddHours(1), GroupId = "xuhui-caohejing", CaseTypeNameZh = "暴露垃圾",
        });
        var closed = await server.Store.OpenAsync(CaseSamples.Case(3) with { RaisedAt = at.AddHours(2) });
        await server.Store.TransitionAsync(closed.Id, CaseState.Closed, DateTimeOffset.UtcNow);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.NewPageAsync(browser);
        await page.GotoAsync(server.Http.BaseAddress + "#/cases");
        var rows = page.Locator("#review-cases tbody tr");

        // Open cases by default; the closed one only under "all".
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(page.Locator($"#review-cases tr[data-case-id='{closed.Id}']")).ToHaveCountAsync(0);
        await page.Locator("#filter-state").SelectOptionAsync("all");
        await page.Locator("#review-filters button[type=submit]").ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);
        Assert.Contains("state=all", page.Url);

        // By group, then by raised time (the page's clock is Asia/Shanghai, as the cases' +08:00).
        await page.GotoAsync(server.Http.BaseAddress + "#/cases?state=all&group=xuhui-caohejing");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-case-id", garbage.Id);
        await page.GotoAsync(server.Http.BaseAddress + "#/cases?state=all&since=2026-05-01T09:30&until=2026-05-01T11:30");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(page.Locator($"#review-cases tr[data-case-id='{parking.Id}']")).ToHaveCountAsync(0);

        // Live: open parking cases; a new one appears, a rejected one leaves.
        await page.GotoAsync(server.Http.BaseAddress + "#/cases?type=illegal_parking");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Locator("#live")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bon\b"));
        var fresh = await server.Store.OpenAsync(CaseSamples.Case(4));
        await Expect(page.Locator($"#review-cases tr[data-case-id='{fresh.Id}']")).ToHaveCountAsync(1);
        await server.Store.OpenAsync(CaseSamples.Case(5, "garbage")); // another type: not shown
        await server.Store.TransitionAsync(parking.Id, CaseState.Rejected, DateTimeOffset.UtcNow);
        await Expect(page.Locator($"#review-cases tr[data-case-id='{parking.Id}']")).ToHaveCountAsync(0);
        await Expect(rows).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(TestAssets.TempDir("review"), "review.png"), FullPage = true });
    }
}
