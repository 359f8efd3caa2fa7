using CitySight.Cases.Postgres;
using CitySight.Domain;
using CitySight.Tests;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>
/// One case per place across nodes, decided in PostgreSQL: two nodes whose cameras see one car open at the same instant,
/// and one case results; places farther apart than the radius, other case types and one camera's own cases are left alone.
/// </summary>
public sealed class PostgresSamePlaceTests : IAsyncLifetime
{
    private static readonly SamePlace Rule = new(15, TimeSpan.FromMinutes(30));
    private const double MetresPerDegree = 6_371_000 * Math.PI / 180;
    private readonly string _database = PostgresServer.NewDatabase("place");
    private readonly List<PostgresCaseStore> _nodes = [];

    private PostgresCaseStore Node(string name)
    {
        var node = new PostgresCaseStore(_database, name, samePlace: Rule);
        _nodes.Add(node);
        return node;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
    }

    private static Case At(int place, double metresNorth, string camera, string type = "illegal_parking") => Case(place, type) with
    {
        CameraId = camera,
        // Places 200 m apart; within one, the cameras' views of the car differ by a few metres.
        Latitude = 31.2 + place * 200 / MetresPerDegree + metresNorth / MetresPerDegree,
        Longitude = 121.4,
    };

    [Fact]
    public async Task Two_nodes_opening_one_place_at_the_same_instant_make_one_case_and_both_get_its_id()
    {
        var (a, b) = (Node("a"), Node("b"));
        const int places = 40;
        var pairs = await Task.WhenAll(Enumerable.Range(0, places).Select(async i =>
        {
            using var start = new Barrier(2);
            var fromA = Task.Run(() => { start.SignalAndWait(); return a.OpenAsync(At(i, 0, "cam-north")); });
            var fromB = Task.Run(() => { start.SignalAndWait(); return b.OpenAsync(At(i, 4, "cam-south")); });
            return (A: await fromA, B: await fromB);
        }));
        Assert.All(pairs, p => Assert.Equal(p.A.Id, p.B.Id));
        var opened = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var e in a.EventsAsync(0, includeEvidence: false, cts.Token))
        {
            opened.Add(e.Case.Id);
            if (opened.Count == places) break;
        }
        Assert.Equal(places, opened.Distinct().Count());
        Assert.Equal(places, (await a.CountAsync(null, null)).Sum(c => c.Count));
    }

    [Fact]
    public async Task Farther_than_the_radius_another_type_or_the_same_camera_are_cases_of_their_own()
    {
        var (a, b) = (Node("a"), Node("b"));
        var first = await a.OpenAsync(At(0, 0, "cam-north"));
        Assert.NotEqual(first.Id, (await b.OpenAsync(At(0, 20, "cam-south"))).Id);                      // 20 m away
        Assert.NotEqual(first.Id, (await b.OpenAsync(At(0, 2, "cam-south", "garbage"))).Id);            // another type
        Assert.Equal(first.Id, (await b.OpenAsync(At(0, 3, "cam-south"))).Id);                          // another camera, 3 m: the same car
        Assert.NotEqual(first.Id, (await b.OpenAsync(At(0, 1, "cam-north"))).Id);                       // its own camera: a second car
        await a.TransitionAsync(first.Id, CaseState.Closed, DateTimeOffset.UtcNow);
        Assert.NotEqual(first.Id, (await b.OpenAsync(At(0, 3, "cam-east"))).Id);                        // closed: a new case
    }
}
