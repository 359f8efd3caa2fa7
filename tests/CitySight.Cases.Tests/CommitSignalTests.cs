using CitySight.Cases.Sqlite;
using CitySight.Tests;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>Alone in the process: the allocation test counts every thread's allocations.</summary>
[CollectionDefinition(nameof(FollowerAllocationCollection), DisableParallelization = true)]
public sealed class FollowerAllocationCollection;

/// <summary>
/// Issue 14: the commit signal that wakes every follower of the feed. No commit is missed between a follower's look
/// and its wait; a stop ends a wait; and thousands of followers woken by each commit allocate (almost) nothing each.
/// </summary>
[Collection(nameof(FollowerAllocationCollection))]
public sealed class CommitSignalTests
{
    [Fact]
    public async Task A_commit_after_the_look_ends_the_wait_at_once_and_one_during_the_wait_wakes_it()
    {
        var signal = new CommitSignal();
        using var waiter = signal.Join(CancellationToken.None);

        var seen = signal.Generation;
        signal.Publish();                              // between the follower's look and its wait
        Assert.True(waiter.WaitAsync(seen).IsCompleted);

        seen = signal.Generation;
        var wait = waiter.WaitAsync(seen).AsTask();
        Assert.False(wait.IsCompleted);
        signal.Publish();
        await wait.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task A_stop_ends_a_wait_and_the_next_one_and_a_stopped_waiter_is_not_woken_again()
    {
        var signal = new CommitSignal();
        using var stop = new CancellationTokenSource();
        using var waiter = signal.Join(stop.Token);
        var wait = waiter.WaitAsync(signal.Generation).AsTask();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TestTimeout));
        Assert.Throws<OperationCanceledException>(() => waiter.WaitAsync(signal.Generation));
        signal.Publish(); // its list no longer holds the stopped waiter: nothing to wake, nothing thrown
    }

    [Fact]
    public async Task Many_waiters_and_racing_commits_never_leave_one_asleep()
    {
        var signal = new CommitSignal();
        const int followers = 64, rounds = 200;
        var woken = new long[followers];
        var tasks = Enumerable.Range(0, followers).Select(f => Task.Run(async () =>
        {
            using var waiter = signal.Join(CancellationToken.None);
            var seen = 0L;
            while (seen < rounds)
            {
                await waiter.WaitAsync(seen);
                seen = signal.Generation; // every commit up to here is seen: wait for a later one
                Interlocked.Increment(ref woken[f]);
            }
        })).ToArray();
        for (var i = 0; i < rounds; i++)
        {
            signal.Publish();
            if (i % 7 == 0) await Task.Yield();
        }
        await Task.WhenAll(tasks).WaitAsync(TestTimeout);
        Assert.All(woken, n => Assert.InRange(n, 1, rounds));
    }

    [Fact]
    public async Task A_thousand_followers_woken_by_each_of_fifty_commits_allocate_almost_nothing_per_wake()
    {
        var data = TestAssets.TempDir("commit-signal");
        await using var store = new SqliteCaseStore(data);
        await store.OpenAsync(Case(1));
        const int followers = 1000, commits = 50;
        using var stop = new CancellationTokenSource();
        var received = new int[followers];
        var allIn = new CountdownEvent(followers);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = 0;
        var readers = Enumerable.Range(0, followers).Select(f => Task.Run(async () =>
        {
            await foreach (var e in store.EventsAsync(0, includeEvidence: false, stop.Token))
            {
                if (e.Sequence == 1)
                {
                    allIn.Signal();
                    continue;
                }
                if (++received[f] == commits && Interlocked.Increment(ref finished) == followers) done.SetResult();
            }
        })).ToArray();
        Assert.True(allIn.Wait(TestTimeout));

        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 2; i <= commits + 1; i++) await store.OpenAsync(Case(i));
        await done.Task.WaitAsync(TestTimeout);
        var perWake = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)(followers * commits);

        await stop.CancelAsync();
        await Task.WhenAll(readers.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
        // Each commit's own work (the case, its row, the shared read) is spread over the 1,000 followers it wakes; before
        // the reusable waiters each wake cost ~250 bytes of the follower's own (a boxed wait, its cancellation promise, the read's task).
        Assert.True(perWake < 80, $"{perWake:F0} bytes allocated per follower per commit");
    }
}
