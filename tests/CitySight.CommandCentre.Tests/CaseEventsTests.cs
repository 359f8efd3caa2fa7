using System.Text.Json;
using CitySight.Domain;
using CitySight.Tests;

namespace CitySight.CommandCentre.Tests;

/// <summary>/api/v1/events: the case feed as server-sent events from the head, resumable with Last-Event-ID.</summary>
public sealed class CaseEventsTests : IAsyncLifetime
{
    private ConsoleServer _server = null!;

    public async Task InitializeAsync() => _server = await ConsoleServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Events_follow_the_feed_from_the_head()
    {
        var before = await _server.Store.OpenAsync(CaseSamples.Case(1));
        using var cts = new CancellationTokenSource(CaseSamples.TestTimeout);
        await using var events = await SseReader.OpenAsync(_server.Http, "/api/v1/events", null, cts.Token);

        var ready = await events.NextAsync(cts.Token);
        Assert.Equal(("ready", _server.Store.LastSequence.ToString()), (ready.Event, ready.Id));

        var c = await _server.Store.OpenAsync(CaseSamples.Case(2));
        var opened = await events.NextAsync(cts.Token);
        Assert.Equal("opened", opened.Event);
        Assert.Equal(c.Sequence.ToString(), opened.Id);
        Assert.Equal(c.Id, opened.Data.GetProperty("case").GetProperty("id").GetString());
        Assert.NotEqual(before.Id, opened.Data.GetProperty("case").GetProperty("id").GetString());

        await _server.Store.TransitionAsync(c.Id, CaseState.Rejected, DateTimeOffset.UtcNow, "not a car");
        var changed = await events.NextAsync(cts.Token);
        Assert.Equal("state_changed", changed.Event);
        Assert.Equal("rejected", changed.Data.GetProperty("case").GetProperty("state").GetString());
        Assert.Equal("not a car", changed.Data.GetProperty("case").GetProperty("note").GetString());
    }

    [Fact]
    public async Task A_reconnect_with_last_event_id_misses_nothing()
    {
        var first = await _server.Store.OpenAsync(CaseSamples.Case(3));
        var second = await _server.Store.OpenAsync(CaseSamples.Case(4));
        using var cts = new CancellationTokenSource(CaseSamples.TestTimeout);
        await using var events = await SseReader.OpenAsync(_server.Http, "/api/v1/events", first.Sequence.ToString(), cts.Token);

        Assert.Equal(first.Sequence.ToString(), (await events.NextAsync(cts.Token)).Id);   // ready, from where the page was
        var missed = await events.NextAsync(cts.Token);
        Assert.Equal(("opened", second.Id), (missed.Event, missed.Data.GetProperty("case").GetProperty("id").GetString()));
    }

    /// <summary>A minimal text/event-stream reader: one event per blank-line-ended block.</summary>
    private sealed class SseReader : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private SseReader(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

        public static async Task<SseReader> OpenAsync(HttpClient http, string path, string? lastEventId, CancellationToken ct)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new SseReader(response, new StreamReader(await response.Content.ReadAsStreamAsync(ct)));
        }

        public async Task<(string Event, string Id, JsonElement Data)> NextAsync(CancellationToken ct)
        {
            string ev = "", id = "", data = "";
            while (await _reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length == 0 && data.Length > 0) return (ev, id, JsonDocument.Parse(data).RootElement.Clone());
                if (line.StartsWith("event:", StringComparison.Ordinal)) ev = line[6..].Trim();
                else if (line.StartsWith("id:", StringComparison.Ordinal)) id = line[3..].Trim();
                else if (line.StartsWith("data:", StringComparison.Ordinal)) data += line[5..].Trim();
            }
            throw new EndOfStreamException("the event stream ended");
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
