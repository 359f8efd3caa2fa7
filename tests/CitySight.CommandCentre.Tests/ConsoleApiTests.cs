using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CitySight.Cases;
using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.CommandCentre.Tests;

/// <summary>The console's API over a real store: lists, one case, its pictures, decisions, the overview, the OpenAPI document.</summary>
public sealed class ConsoleApiTests : IAsyncLifetime
{
    private static readonly ConsoleCamera[] Cameras =
    [
        new("cam-0", "田林路东", "xuhui-tianlin", "田林街道", "streaming", null, 31.17, 121.43, 0.4),
        new("cam-1", "田林路西", "xuhui-tianlin", "田林街道", "offline", "connection refused", 31.18, 121.42, null),
        new("cam-2", "漕河泾", "xuhui-caohejing", "漕河泾街道", "patrolled", null, 31.16, 121.40, 12),
    ];

    private ConsoleServer _server = null!;

    public async Task InitializeAsync() => _server = await ConsoleServer.StartAsync(cameras: Cameras);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_open_cases_come_newest_first_and_filtered_by_type_group_and_state()
    {
        var a = await _server.Store.OpenAsync(CaseSamples.Case(1));
        var b = await _server.Store.OpenAsync(CaseSamples.Case(2, "garbage") with { GroupId = "xuhui-caohejing" });
        var c = await _server.Store.OpenAsync(CaseSamples.Case(3));
        await _server.Store.TransitionAsync(a.Id, CaseState.Closed, DateTimeOffset.UtcNow);

        var open = await Cases("/api/v1/cases");
        Assert.Equal([c.Id, b.Id], open.Select(x => x.GetProperty("id").GetString()));
        Assert.Equal("reported", open[0].GetProperty("state").GetString());
        Assert.Equal([b.Id], (await Cases("/api/v1/cases?type=garbage")).Select(x => x.GetProperty("id").GetString()));
        Assert.Equal([b.Id], (await Cases("/api/v1/cases?group=xuhui-caohejing")).Select(x => x.GetProperty("id").GetString()));
        Assert.Equal([a.Id], (await Cases("/api/v1/cases?state=closed")).Select(x => x.GetProperty("id").GetString()));
        Assert.Equal([c.Id, b.Id, a.Id], (await Cases("/api/v1/cases?state=all")).Select(x => x.GetProperty("id").GetString()));
        Assert.Equal([c.Id], (await Cases("/api/v1/cases?state=all&limit=1")).Select(x => x.GetProperty("id").GetString()));

        var list = await _server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cases");
        Assert.Equal(_server.Store.LastSequence, list.GetProperty("head").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.GetAsync("/api/v1/cases?state=lost")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.GetAsync("/api/v1/cases?limit=501")).StatusCode);
    }

    [Fact]
    public async Task The_cases_filter_by_the_time_they_were_raised_and_a_time_without_offset_is_refused()
    {
        var at = new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.FromHours(8));
        var early = await _server.Store.OpenAsync(CaseSamples.Case(11) with { RaisedAt = at });
        var middle = await _server.Store.OpenAsync(CaseSamples.Case(12) with { RaisedAt = at.AddHours(1) });
        var late = await _server.Store.OpenAsync(CaseSamples.Case(13) with { RaisedAt = at.AddHours(2) });
        var since = Uri.EscapeDataString(at.AddMinutes(30).ToString("O"));
        var until = Uri.EscapeDataString(at.AddHours(1).ToUniversalTime().ToString("O")); // the same instant in UTC: inclusive

        Assert.Equal([late.Id, middle.Id], (await Cases($"/api/v1/cases?state=all&since={since}")).Select(x => x.GetProperty("id").GetString()));
        Assert.Equal([middle.Id, early.Id], (await Cases($"/api/v1/cases?state=all&until={until}")).Select(x => x.GetProperty("id").GetString()));
        Assert.Equal([middle.Id], (await Cases($"/api/v1/cases?state=all&since={since}&until={until}")).Select(x => x.GetProperty("id").GetString()));

        var bare = await _server.Http.GetAsync("/api/v1/cases?since=2026-05-01T09:00:00");
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        Assert.Contains("since must be an ISO 8601 time with its offset", await bare.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.GetAsync("/api/v1/cases?until=yesterday")).StatusCode);
    }

    [Fact]
    public async Task One_case_and_its_pictures_by_view()
    {
        var c = await _server.Store.OpenAsync(CaseSamples.Case(4) with { EvidenceCrop = CaseSamples.Jpeg(99) });

        var got = await _server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/cases/{c.Id}");
        Assert.Equal("illegal_parking", got.GetProperty("type").GetString());
        Assert.Equal("机动车乱停放", got.GetProperty("typeNameZh").GetString());
        Assert.Equal("cam-1", got.GetProperty("cameraId").GetString());
        Assert.Equal(c.Latitude, got.GetProperty("latitude").GetDouble());

        var best = await _server.Http.GetAsync($"/api/v1/cases/{c.Id}/evidence/best");
        Assert.Equal("image/jpeg", best.Content.Headers.ContentType?.MediaType);
        Assert.Equal(c.Evidence, await best.Content.ReadAsByteArrayAsync());
        Assert.Equal(CaseSamples.Jpeg(99), await _server.Http.GetByteArrayAsync($"/api/v1/cases/{c.Id}/evidence/best-crop"));
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync($"/api/v1/cases/{c.Id}/evidence/before-after")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.GetAsync($"/api/v1/cases/{c.Id}/evidence/sideways")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync("/api/v1/cases/no-such-case")).StatusCode);
    }

    [Fact]
    public async Task A_decision_goes_through_the_store_as_dispatchs_outcome_does()
    {
        var c = await _server.Store.OpenAsync(CaseSamples.Case(5));
        var heard = new List<CaseFeedEvent>();
        _server.Store.StateChanged += heard.Add;   // what the host hands the rules stage to cool the place down
        var head = _server.Store.LastSequence;

        var reply = await _server.Http.PostAsJsonAsync($"/api/v1/cases/{c.Id}/outcome", new { outcome = "rejected", note = "a delivery van, loading" });
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("rejected", (await reply.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());

        var stored = (await _server.Store.GetAsync(c.Id))!;
        Assert.Equal(CaseState.Rejected, stored.State);
        Assert.Equal("a delivery van, loading", stored.StateNote);
        var e = Assert.Single(heard);
        Assert.Equal(CaseFeedKind.StateChanged, e.Kind);
        using var cts = new CancellationTokenSource(CaseSamples.TestTimeout);
        await foreach (var fed in _server.Store.EventsAsync(head, includeEvidence: false, cts.Token))
        {
            Assert.Equal((CaseFeedKind.StateChanged, c.Id), (fed.Kind, fed.Case.Id));
            break;
        }

        var again = await _server.Http.PostAsJsonAsync($"/api/v1/cases/{c.Id}/outcome", new { outcome = "closed", note = "" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("rejected", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest,
            (await _server.Http.PostAsJsonAsync($"/api/v1/cases/{c.Id}/outcome", new { outcome = "reported" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await _server.Http.PostAsJsonAsync($"/api/v1/cases/{c.Id}/outcome", new { outcome = "closed", note = new string('x', 1001) })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound,
            (await _server.Http.PostAsJsonAsync("/api/v1/cases/no-such-case/outcome", new { outcome = "closed" })).StatusCode);
    }

    [Fact]
    public async Task The_overview_counts_open_cases_todays_cases_and_cameras_by_state()
    {
        await _server.Store.OpenAsync(CaseSamples.Case(6));
        await _server.Store.OpenAsync(CaseSamples.Case(7, "garbage") with { GroupId = "xuhui-caohejing", CaseTypeNameZh = "暴露垃圾" });
        var closed = await _server.Store.OpenAsync(CaseSamples.Case(8));
        await _server.Store.TransitionAsync(closed.Id, CaseState.Closed, DateTimeOffset.UtcNow);

        var o = await _server.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview");
        Assert.Equal(2, o.GetProperty("open").GetProperty("total").GetInt32());
        Assert.Equal(1, o.GetProperty("open").GetProperty("byType").GetProperty("garbage").GetInt32());
        Assert.Equal(1, o.GetProperty("open").GetProperty("byGroup").GetProperty("xuhui-tianlin").GetInt32());
        Assert.Equal(3, o.GetProperty("today").GetProperty("total").GetInt32());   // reported today, whatever became of them
        Assert.Equal(2, o.GetProperty("today").GetProperty("byType").GetProperty("illegal_parking").GetInt32());
        Assert.Equal("暴露垃圾", o.GetProperty("types").GetProperty("garbage").GetProperty("zh").GetString());
        Assert.Equal("漕河泾街道", o.GetProperty("groups").GetProperty("xuhui-caohejing").GetString());
        Assert.Equal(3, o.GetProperty("cameras").GetInt32());
        Assert.Equal(1, o.GetProperty("camerasByState").GetProperty("offline").GetInt32());

        var cams = await _server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cameras");
        Assert.Equal("connection refused", cams[1].GetProperty("reason").GetString());
        Assert.Equal("patrolled", cams[2].GetProperty("state").GetString());
    }

    [Fact]
    public async Task Today_begins_at_midnight_open_cases_stay_open_on_the_next_day()
    {
        await using var tomorrow = await ConsoleServer.StartAsync(time: new Clock(DateTimeOffset.UtcNow.AddDays(1)));
        await tomorrow.Store.OpenAsync(CaseSamples.Case(9));
        var o = await tomorrow.Http.GetFromJsonAsync<JsonElement>("/api/v1/overview");
        Assert.Equal(1, o.GetProperty("open").GetProperty("total").GetInt32());
        Assert.Equal(0, o.GetProperty("today").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task The_api_is_documented_in_openapi_and_only_the_api()
    {
        var doc = await _server.Http.GetFromJsonAsync<JsonElement>("/api/v1/openapi.json");
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        foreach (var path in new[] { "/api/v1/overview", "/api/v1/cameras", "/api/v1/cases", "/api/v1/cases/{id}", "/api/v1/cases/{id}/evidence/{view}",
                     "/api/v1/cases/{id}/outcome", "/api/v1/events" })
            Assert.Contains(path, paths);
        Assert.All(paths, p => Assert.StartsWith("/api/v1/", p));
        Assert.Contains("ConsoleCase", doc.GetProperty("components").GetProperty("schemas").EnumerateObject().Select(s => s.Name));
    }

    [Fact]
    public async Task The_page_is_served_from_the_service_with_its_assets()
    {
        var index = await _server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single());
        var html = await index.Content.ReadAsStringAsync();
        Assert.Contains("<div id=\"app\">", html);
        // Every script and stylesheet is the service's own (no CDN), and is there.
        var assets = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains(assets, a => a.EndsWith(".js", StringComparison.Ordinal));
        foreach (var asset in assets)
        {
            Assert.StartsWith("/", asset);
            var reply = await _server.Http.GetAsync(asset);
            Assert.True(reply.IsSuccessStatusCode, $"{asset}: {reply.StatusCode}");
            if (asset.StartsWith("/assets/", StringComparison.Ordinal)) Assert.Contains("immutable", reply.Headers.CacheControl?.ToString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync("/assets/nothing-here.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync("/../appsettings.json")).StatusCode);
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private async Task<List<JsonElement>> Cases(string path) =>
        (await _server.Http.GetFromJsonAsync<JsonElement>(path)).GetProperty("cases").EnumerateArray().ToList();
}
