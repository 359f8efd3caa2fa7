using CitySight.Tests;

namespace CitySight.Cases.Tests;

/// <summary>
/// What every case store backend must do, as tests: cases (<c>.Cases</c>), the lifecycle (<c>.Lifecycle</c>), the feed
/// and its followers (<c>.Feed</c>), consumer cursors (<c>.Cursors</c>) and evidence with retention (<c>.Evidence</c>).
/// A backend passes the contract with one derived class that says how to open it (see <see cref="SqliteCaseStoreTests"/>);
/// xunit runs every test here once per derived class.
/// </summary>
public abstract partial class CaseStoreContract : IAsyncLifetime
{
    /// <summary>
    /// Opens the backend's store on <paramref name="dataFolder"/> (an empty folder on first use; pictures live under it).
    /// Opening the same folder again after the store was disposed must give back the same store, as after a restart.
    /// </summary>
    protected abstract ICaseStore Open(string dataFolder);

    /// <summary>The folder of <see cref="Store"/>.</summary>
    protected string Data { get; } = TestAssets.TempDir("casestore");

    /// <summary>The store under test, opened on <see cref="Data"/> for each test.</summary>
    protected ICaseStore Store { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Store = Open(Data);
        return Task.CompletedTask;
    }

    /// <summary>Disposes <see cref="Store"/> and opens its folder again: a restart.</summary>
    protected ICaseStore Reopen()
    {
        Store.Dispose();
        Store = Open(Data);
        return Store;
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            Directory.Delete(Data, recursive: true);
        }
        catch (IOException)
        {
            // a follower still unwinding may hold a file for a moment; the temp folder is cleaned up later anyway
        }
    }

    protected static async Task<List<long>> ReplaySequences(ICaseFeed feed, long after, int count)
    {
        using var cts = new CancellationTokenSource(CaseSamples.TestTimeout);
        var list = new List<long>();
        await foreach (var c in feed.FeedAsync(after, includeEvidence: false, cts.Token))
        {
            list.Add(c.Sequence);
            if (list.Count == count) break;
        }
        return list;
    }

    protected static async Task<List<string>> ReplayIds(ICaseFeed feed, long after, int count)
    {
        using var cts = new CancellationTokenSource(CaseSamples.TestTimeout);
        var list = new List<string>();
        await foreach (var c in feed.FeedAsync(after, includeEvidence: false, cts.Token))
        {
            list.Add(c.Id);
            if (list.Count == count) break;
        }
        return list;
    }
}
