namespace CitySight.Bench;

/// <summary>What `citysight bench-feed` measures with.</summary>
public sealed record FeedBenchOptions
{
    public int Cases { get; init; } = 10_000;
    public int Consumers { get; init; } = 4;
    public int AckEvery { get; init; } = 100;
    public bool IncludeEvidence { get; init; }
    /// <summary>Cases committed per second; 0 = as fast as the store takes them.</summary>
    public double Rate { get; init; }
    public int EvidenceBytes { get; init; } = 20 * 1024;
    public bool SlowConsumer { get; init; }
    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>How long to wait, once the last case is committed, for every consumer to have every case.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Where the stores go (one subfolder per phase); null = a fresh folder under the system temp folder.</summary>
    public string? DataFolder { get; init; }
    public bool Keep { get; init; }
    public bool Replay { get; init; } = true;
    /// <summary>Write every receipt (case id and sequence, per consumer) and every commit into the JSON.</summary>
    public bool Receipts { get; init; }
    /// <summary>
    /// The live phases (commit only, in-process, gRPC, gRPC + slow) run this many times, in alternating order (forward, then
    /// reversed, ...), so that load from other processes hits every phase alike instead of whichever ran when the machine was busy.
    /// </summary>
    public int Rounds { get; init; } = 3;
    /// <summary>
    /// Issue 14: instead of the phases above, case-commit latency with no subscriber, then with this many idle gRPC
    /// subscribers (and <see cref="AckFlood"/>); 0 = off.
    /// </summary>
    public int IdleSubscribers { get; init; }
    /// <summary>With <see cref="IdleSubscribers"/>: <see cref="AckFloodClients"/> clients ack as fast as they are answered meanwhile.</summary>
    public bool AckFlood { get; init; }
    public int AckFloodClients { get; init; } = 4;
    /// <summary>
    /// Niceness the idle subscribers' child process runs at (0-19). 19: they stand for consumers on other machines, so
    /// their side of the streams is not charged to the server's commits; 0 for a correctness run on a busy machine.
    /// </summary>
    public int ClientNice { get; init; } = 19;
    /// <summary>
    /// How to start this program for the idle subscribers' child process (the executable, and the .dll under `dotnet`);
    /// null: they run in the bench's own process.
    /// </summary>
    public IReadOnlyList<string>? ClientCommand { get; init; }
}
