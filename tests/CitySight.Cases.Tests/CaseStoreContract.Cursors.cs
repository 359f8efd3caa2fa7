using static CitySight.Tests.CaseSamples;

namespace CitySight.Cases.Tests;

/// <summary>The contract: each consumer's acknowledged position in the feed, durable across a restart.</summary>
public abstract partial class CaseStoreContract
{
    [Fact]
    public async Task An_ack_survives_a_restart_and_never_moves_back()
    {
        var store = Store;
        for (var i = 1; i <= 5; i++) await store.OpenAsync(Case(i));
        Assert.Equal(0, await store.CursorAsync("xuhui-dispatch"));
        Assert.Equal(3, await store.AckAsync("xuhui-dispatch", 3));
        Assert.Equal(3, await store.AckAsync("xuhui-dispatch", 2));   // late, out of order: kept at 3
        Assert.Equal(1, await store.AckAsync("mqtt", 1));

        var reopened = Reopen();
        Assert.Equal(3, await reopened.CursorAsync("xuhui-dispatch"));
        Assert.Equal(1, await reopened.CursorAsync("mqtt"));
        Assert.Equal(["mqtt", "xuhui-dispatch"], reopened.Consumers().Select(c => c.Consumer));
        Assert.Equal(5, await reopened.AckAsync("xuhui-dispatch", 5));
    }

    [Fact]
    public async Task An_ack_beyond_the_feed_or_without_a_name_is_refused_and_changes_nothing()
    {
        var store = Store;
        await store.OpenAsync(Case(1));
        var beyond = await Assert.ThrowsAsync<ArgumentException>(() => store.AckAsync("d", 2));
        Assert.Contains("sequence 2 is not in the feed (0..1)", beyond.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => store.AckAsync("d", -1));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AckAsync(" ", 1));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AckAsync("a\nb", 1));
        Assert.Equal(0, await store.CursorAsync("d"));
        Assert.Empty(store.Consumers());
    }
}
