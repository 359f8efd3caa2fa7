using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CitySight.Delivery.Security;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The camera wall's API: every camera with its street, mode and frames/s; one camera; its cases; and enable / disable
/// by the admin API's rules (admin_consumers with keys, this machine only without).
/// </summary>
public sealed class CameraApiTests
{
    private const string OpsKey = "ops-5d2e8a41c7b93f60e1a4";
    private const string XuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";

    private static ConsumerAuthOptions Keys() => new()
    {
        Keys = ConsumerKeys.Parse($"ops={OpsKey},xuhui={XuhuiKey}", "test"),
        AdminConsumers = new HashSet<string> { "ops" },
        OutcomeConsumers = new HashSet<string> { "xuhui" },
    };

    [Fact]
    public async Task The_camera_list_keeps_its_fields_and_adds_street_mode_and_frames_per_second()
    {
        var board = new FakeCameraBoard(FakeCameraBoard.District(10));
        await using var server = await ConsoleServer.StartAsync(cameras: board);

        var list = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cameras");
        Assert.Equal(10, list.GetArrayLength());
        var first = list[0];
        foreach (var field in new[] { "id", "name", "groupId", "groupName", "state", "reason", "latitude", "longitude", "lastFrameAgeSeconds",
                     "street", "mode", "framesPerSecond" })
            Assert.True(first.TryGetProperty(field, out _), $"no {field} in {first}");
        Assert.Equal(("cam-0000", "田林路", "continuous", 4.8), (first.GetProperty("id").GetString(), first.GetProperty("street").GetString(),
            first.GetProperty("mode").GetString(), first.GetProperty("framesPerSecond").GetDouble()));

        var one = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cameras/cam-0006");
        Assert.Equal(("cam-0006", "漕宝路", "streaming"), (one.GetProperty("id").GetString(), one.GetProperty("street").GetString(),
            one.GetProperty("state").GetString()));
        var none = await server.Http.GetAsync("/api/v1/cameras/no-such-camera");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("no-such-camera", (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_cameras_cases_are_listed_alone_newest_first()
    {
        await using var server = await ConsoleServer.StartAsync();
        var mine = new List<string>();
        for (var n = 0; n < 9; n++)
        {
            var c = await server.Store.OpenAsync(CaseSamples.Case(n) with { CameraId = n % 3 == 1 ? "cam-north" : $"cam-{n}" });
            if (c.CameraId == "cam-north") mine.Insert(0, c.Id);
        }
        await server.Store.TransitionAsync(mine[^1], CaseState.Closed, DateTimeOffset.UtcNow);

        var all = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cases?camera=cam-north&state=all");
        Assert.Equal(mine, all.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        var open = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cases?camera=cam-north");
        Assert.Equal(mine[..^1], open.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        var other = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/cases?camera=cam-south&state=all");
        Assert.Equal(0, other.GetProperty("cases").GetArrayLength());
    }

    [Fact]
    public async Task Without_keys_this_machine_switches_a_camera_off_and_on_through_the_hosts_switch()
    {
        var board = new FakeCameraBoard(FakeCameraBoard.District(3));
        await using var server = await ConsoleServer.StartAsync(cameras: board, configure: o => o with { SwitchCamera = board.Switch });

        var off = await server.Http.PostAsJsonAsync("/api/v1/cameras/cam-0001/enabled", new { enabled = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Equal("disabled", (await off.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        Assert.Equal("disabled", board["cam-0001"].State);
        var on = await server.Http.PostAsJsonAsync("/api/v1/cameras/cam-0001/enabled", new { enabled = true });
        Assert.Equal("streaming", (await on.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.PostAsJsonAsync("/api/v1/cameras/cam-0001/enabled", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.PostAsJsonAsync("/api/v1/cameras/nope/enabled", new { enabled = false })).StatusCode);
        board.Stopped = "the streams have stopped";
        var stopped = await server.Http.PostAsJsonAsync("/api/v1/cameras/cam-0001/enabled", new { enabled = false });
        Assert.Equal(HttpStatusCode.Conflict, stopped.StatusCode);
        Assert.Contains("stopped", (await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(2, board.Switches);
    }

    [Fact]
    public async Task A_console_without_the_hosts_switch_says_it_cannot_switch_cameras()
    {
        await using var server = await ConsoleServer.StartAsync(cameras: FakeCameraBoard.District(1).ToList());
        Assert.Equal(HttpStatusCode.NotImplemented,
            (await server.Http.PostAsJsonAsync("/api/v1/cameras/cam-0000/enabled", new { enabled = false })).StatusCode);
    }

    [Fact]
    public async Task With_keys_only_admin_consumers_switch_cameras()
    {
        var board = new FakeCameraBoard(FakeCameraBoard.District(3));
        await using var server = await ConsoleServer.StartAsync(Keys(), board, configure: o => o with { SwitchCamera = board.Switch });

        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(server, "cam-0000", null, false)).StatusCode);
        var refused = await Post(server, "cam-0000", XuhuiKey, false);   // may decide cases, not change cameras
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var why = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.Contains("admin_consumers", why);
        Assert.DoesNotContain(XuhuiKey, why);
        Assert.Equal(0, board.Switches);
        Assert.Equal("streaming", board["cam-0000"].State);

        var done = await Post(server, "cam-0000", OpsKey, false);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("disabled", board["cam-0000"].State);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.20.30.40", false)]
    [InlineData("::ffff:10.20.30.40", false)]
    [InlineData(null, false)]
    public void Without_keys_only_this_machine_may_change_cameras(string? peer, bool allowed)
    {
        var access = new ConsoleAccess(new ConsumerAuthOptions());
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = peer is null ? null : IPAddress.Parse(peer);
        var refusal = access.MayAdminister(context);
        Assert.Equal(allowed, refusal is null);
        if (refusal is not null) Assert.Equal(StatusCodes.Status403Forbidden, ((IStatusCodeHttpResult)refusal).StatusCode);
    }

    private static async Task<HttpResponseMessage> Post(ConsoleServer server, string camera, string? key, bool enabled)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/cameras/{camera}/enabled") { Content = JsonContent.Create(new { enabled }) };
        if (key is not null) request.Headers.Add("x-api-key", key);
        return await server.Http.SendAsync(request);
    }
}
