namespace CitySight.Rules.Tests;

/// <summary>A wall clock that moves only when the test says (for the store retry backoff); timers are not needed by the tests that use it.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
