using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CitySight.CommandCentre.Api;
using CitySight.Delivery.Security;

namespace CitySight.CommandCentre.Tests;

/// <summary>
/// The pictures' and zones' API on its own (the host's files and reload stand in by a book that records what it was
/// asked): who may save, what the page may never send, and what comes back when there is nothing.
/// </summary>
public sealed class ZoneApiTests
{
    private const string AdminKey = "ops-5d1c8e2f7a9b0c3d4e6f";
    private const string ReaderKey = "rd-0a1b2c3d4e5f60718293";
    private static readonly DateTimeOffset Taken = new(2026, 12, 7, 9, 30, 15, TimeSpan.FromHours(8));

    private static ConsumerAuthOptions Keys() => new()
    {
        Keys = ConsumerKeys.Parse($"ops={AdminKey},reader={ReaderKey}", "test"),
        AdminConsumers = new HashSet<string> { "ops" },
    };

    private static readonly ConsoleZone Bay = new("bay", ["illegal_parking"], [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]], Exclude: false, Schedule: null);

    [Fact]
    public async Task With_api_keys_anyone_reads_zones_and_only_admin_consumers_save_them()
    {
        var book = new Book();
        await using var server = await StartAsync(Keys(), book);

        var read = await Send(server, HttpMethod.Get, "/api/v1/cameras/cam-1/zones", ReaderKey);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("cameras/street.yaml", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file").GetString());

        var denied = await Send(server, HttpMethod.Put, "/api/v1/cameras/cam-1/zones", ReaderKey, new { zones = new[] { Bay } });
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("admin_consumers", (await denied.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(server, HttpMethod.Put, "/api/v1/cameras/cam-1/zones", null, new { zones = new[] { Bay } })).StatusCode);
        Assert.Empty(book.Saved);

        var saved = await Send(server, HttpMethod.Put, "/api/v1/cameras/cam-1/zones", AdminKey, new { zones = new[] { Bay } });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var (camera, zones, by) = Assert.Single(book.Saved);
        Assert.Equal(("cam-1", "bay", "ops"), (camera, Assert.Single(zones).Id, by));
    }

    [Fact]
    public async Task Zones_the_page_should_never_send_are_refused_before_the_files_and_configuration_errors_come_back_whole()
    {
        var book = new Book();
        await using var server = await StartAsync(new ConsumerAuthOptions(), book);

        foreach (var zones in new object[]
                 {
                     new[] { Bay with { Points = [[0.1, 0.1, 0.3], [0.5, 0.1], [0.5, 0.5]] } },
                     new[] { Bay with { Id = " " } },
                     Enumerable.Repeat(Bay, ZoneEndpoints.MaxZones + 1).ToArray(),
                 })
        {
            var refused = await server.Http.PutAsJsonAsync("/api/v1/cameras/cam-1/zones", new { zones });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        Assert.Empty(book.Saved);

        book.Errors = ["cameras/street.yaml:19:19: cameras[0].zones[1].schedule: '25:00' is not a start time"];
        var invalid = await server.Http.PutAsJsonAsync("/api/v1/cameras/cam-1/zones", new { zones = new[] { Bay } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var body = await invalid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(book.Errors, body.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.PutAsJsonAsync("/api/v1/cameras/nope/zones", new { zones = new[] { Bay } })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/api/v1/cameras/nope/zones")).StatusCode);
    }

    [Fact]
    public async Task A_picture_comes_with_when_it_was_taken_and_none_is_a_404()
    {
        await using var server = await StartAsync(new ConsumerAuthOptions(), new Book());

        using var picture = await server.Http.GetAsync("/api/v1/cameras/cam-1/picture");
        Assert.Equal(HttpStatusCode.OK, picture.StatusCode);
        Assert.Equal("image/jpeg", picture.Content.Headers.ContentType?.MediaType);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, await picture.Content.ReadAsByteArrayAsync());
        Assert.Equal(Taken, picture.Content.Headers.LastModified);
        Assert.Equal(Taken, DateTimeOffset.Parse(picture.Headers.GetValues("X-Captured-At").Single()));
        Assert.True(picture.Headers.CacheControl?.NoCache);

        using var none = await server.Http.GetAsync("/api/v1/cameras/cam-2/picture");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("no picture yet", (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    private static async Task<HttpResponseMessage> Send(ConsoleServer server, HttpMethod method, string path, string? key, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Add("x-api-key", key);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await server.Http.SendAsync(request);
    }

    /// <summary>cam-1 is in cameras/street.yaml; saving records what was asked and answers <see cref="Errors"/> when set.</summary>
    private sealed class Book : ICameraZoneBook
    {
        public List<(string Camera, IReadOnlyList<ConsoleZone> Zones, string By)> Saved { get; } = [];
        public IReadOnlyList<string> Errors { get; set; } = [];

        public CameraZones? Zones(string cameraId) => cameraId == "cam-1"
            ? new CameraZones("cam-1", "g1", "cameras/street.yaml", ["illegal_parking"], new Dictionary<string, CaseTypeName>(), [])
            : null;

        public Task<ZoneSaveOutcome?> SaveAsync(string cameraId, IReadOnlyList<ConsoleZone> zones, string by, CancellationToken ct)
        {
            if (Zones(cameraId) is not { } camera) return Task.FromResult<ZoneSaveOutcome?>(null);
            if (Errors.Count > 0) return Task.FromResult<ZoneSaveOutcome?>(new ZoneSaveOutcome(null, Errors));
            Saved.Add((cameraId, zones, by));
            return Task.FromResult<ZoneSaveOutcome?>(new ZoneSaveOutcome(camera with { Zones = zones }, []));
        }
    }

    /// <summary>The console alone on loopback with the book and one camera's picture, as the host maps it.</summary>
    private static Task<ConsoleServer> StartAsync(ConsumerAuthOptions auth, ICameraZoneBook book) =>
        ConsoleServer.StartAsync(auth, configure: o => o with
        {
            Zones = book,
            Pictures = id => id == "cam-1" ? new ConsolePicture(new byte[] { 0xFF, 0xD8, 0xFF }, Taken) : null,
        });
}
