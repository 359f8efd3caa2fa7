using CitySight.Domain;
using Prometheus;

namespace CitySight.Rules.Tests;

/// <summary>The camera, rules and metric the storage-fault tests share: a parking camera raising at once, each frame's sighting kept.</summary>
internal static class StoreFaultScene
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(8));

    public static readonly Camera GateCamera = new()
    {
        Id = "cam-1", Name = "Gate", GroupId = "g", Url = "rtsp://192.0.2.1/cam-1",
        Latitude = 31.2, Longitude = 121.4, Detectors = ["illegal_parking"],
    };

    public static readonly RuleOptions RaiseAtOnce = new()
    {
        ConfirmSamples = 1,
        // Every frame's sighting reaches dedup, so the stored last seen says which ones got through.
        SightingInterval = TimeSpan.FromSeconds(2),
        CaseTypes = new Dictionary<string, CaseTypeRuleOverrides> { ["illegal_parking"] = new() { MinDwell = TimeSpan.Zero, RequireStationary = false } },
    };

    /// <summary>The store failures the case raiser counts (the same metric, looked up by name).</summary>
    public static readonly Counter StoreFailures = Metrics.CreateCounter("citysight_store_failures_total", "",
        new CounterConfiguration { LabelNames = ["operation"] });
}
