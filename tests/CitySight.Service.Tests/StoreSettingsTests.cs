using CitySight.Cases;
using CitySight.Cases.Sqlite;
using CitySight.Configuration;
using CitySight.Delivery;
using CitySight.Delivery.Security;
using CitySight.Rules;
using CitySight.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.Service.Tests;

/// <summary>The storage-fault and subscriber-limit settings reach the store, the case raiser and the feed the host builds.</summary>
public sealed class StoreSettingsTests : IDisposable
{
    private readonly string _dir = TestAssets.TempDir("store-settings");

    [Fact]
    public async Task The_free_space_reserve_the_waiting_cases_and_the_subscriber_caps_are_the_configured_ones()
    {
        var config = new CitySightConfig
        {
            SourceFile = "store-settings",
            Service = new ServiceSettings { DataDir = _dir, ReserveFreeMegabytes = 7, MaxWaitingCases = 3 },
            Delivery = new DeliverySettings
            {
                Grpc = new GrpcEndpointOptions { Subscribers = new SubscriberLimits { PerConsumer = 2, Total = 5 } },
            },
            Models = new ModelSettings
            {
                Manifest = Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml"),
                SearchPaths = [Path.Combine(TestAssets.Root, "models")],
            },
        };
        await using var host = CitySightHost.Build(config);
        var store = Assert.IsType<SqliteCaseStore>(host.Services.GetRequiredService<ICaseStore>());
        Assert.Equal(7L * 1024 * 1024, store.MinFreeBytes);
        Assert.Equal(3, host.Services.GetRequiredService<CaseRaiser>().MaxWaitingCases);
        Assert.Equal(new SubscriberLimits { PerConsumer = 2, Total = 5 }, host.Services.GetRequiredService<SubscriberCounts>().Limits);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
