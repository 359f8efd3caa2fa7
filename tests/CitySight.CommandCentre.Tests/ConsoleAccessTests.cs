using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CitySight.Delivery.Security;
using CitySight.Domain;
using CitySight.Tests;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// Who may use the console: with API keys a consumer's key (401 without), decisions only for outcome_consumers (403);
/// without authentication only this machine. Refusals never echo the key sent.
/// </summary>
public sealed class ConsoleAccessTests
{
    private const string XuhuiKey = "xh-7c1f0e5a9b2d4c6e8f01";
    private const string MinhangKey = "mh-0a1b2c3d4e5f60718293";

    private static ConsumerAuthOptions Keys() => new()
    {
        Keys = ConsumerKeys.Parse($"xuhui={XuhuiKey},minhang={MinhangKey}", "test"),
        OutcomeConsumers = new HashSet<string> { "xuhui" },
    };

    [Fact]
    public async Task With_api_keys_every_api_call_needs_a_consumers_key_and_only_outcome_consumers_decide()
    {
        await using var server = await ConsoleServer.StartAsync(Keys());
        var c = await server.Store.OpenAsync(CaseSamples.Case(1));

        foreach (var path in new[] { "/api/v1/overview", "/api/v1/cameras", "/api/v1/cases", $"/api/v1/cases/{c.Id}",
                     $"/api/v1/cases/{c.Id}/evidence/best", "/api/v1/events", "/api/v1/openapi.json" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Send(server, HttpMethod.Get, path, "not-a-key-of-anyone-0000")).StatusCode);
        }
        var wrong = await Send(server, HttpMethod.Get, "/api/v1/cases", "not-a-key-of-anyone-0000");
        Assert.DoesNotContain("not-a-key-of-anyone", await wrong.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await Send(server, HttpMethod.Get, "/api/v1/cases", MinhangKey)).StatusCode);

        // minhang reads, but may not decide; the case is untouched.
        var denied = await Send(server, HttpMethod.Post, $"/api/v1/cases/{c.Id}/outcome", MinhangKey, new { outcome = "rejected", note = "" });
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("outcome_consumers", (await denied.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(CaseState.Reported, (await server.Store.GetAsync(c.Id))!.State);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(server, HttpMethod.Post, $"/api/v1/cases/{c.Id}/outcome", null, new { outcome = "rejected" })).StatusCode);

        var done = await Send(server, HttpMethod.Post, $"/api/v1/cases/{c.Id}/outcome", XuhuiKey, new { outcome = "rejected", note = "" });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(CaseState.Rejected, (await server.Store.GetAsync(c.Id))!.State);

        // The page holds no data: it is served to anyone, and asks for a key.
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task With_client_certificates_only_the_api_says_it_needs_keys()
    {
        await using var server = await ConsoleServer.StartAsync(new ConsumerAuthOptions { ClientCertificates = true });
        var refused = await server.Http.GetAsync("/api/v1/cases");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("api_keys_env", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Without_authentication_this_machine_may_read_and_decide()
    {
        await using var server = await ConsoleServer.StartAsync();
        var c = await server.Store.OpenAsync(CaseSamples.Case(2));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/v1/cases")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.PostAsJsonAsync($"/api/v1/cases/{c.Id}/outcome", new { outcome = "acknowledged" })).StatusCode);
        Assert.Equal(CaseState.Acknowledged, (await server.Store.GetAsync(c.Id))!.State);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.20.30.40", false)]
    [InlineData("192.168.1.5", false)]
    [InlineData("::ffff:10.20.30.40", false)]
    [InlineData(null, false)]
    public void Without_authentication_only_this_machine_gets_the_page_or_the_api(string? peer, bool allowed)
    {
        var access = new ConsoleAccess(new ConsumerAuthOptions());
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = peer is null ? null : IPAddress.Parse(peer);
        foreach (var page in new[] { false, true })
        {
            var refusal = access.MayRead(context, page);
            Assert.Equal(allowed, refusal is null);
            if (refusal is not null) Assert.Equal(StatusCodes.Status403Forbidden, ((IStatusCodeHttpResult)refusal).StatusCode);
        }
        Assert.Null(access.MayDecide(context));   // nobody can be told apart: whoever may read may decide, as over gRPC
    }

    private static async Task<HttpResponseMessage> Send(ConsoleServer server, HttpMethod method, string path, string? key, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Add("x-api-key", key);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}
