using CitySight.Delivery.Mqtt;
using CitySight.Delivery.Push;

namespace CitySight.Delivery.Security;

/// <summary>What the interceptor checks: API keys, and whether client certificates identify consumers.</summary>
public sealed record ConsumerAuthOptions
{
    public ConsumerKeys? Keys { get; init; }
    public bool ClientCertificates { get; init; }
    /// <summary>Consumers allowed to call methods under <see cref="AdminServicePrefix"/> once authentication is on.</summary>
    public IReadOnlyCollection<string> AdminConsumers { get; init; } = [];
    public string AdminServicePrefix { get; init; } = "/citysight.v1.CameraAdmin/";
    /// <summary>Consumers allowed to call <see cref="OutcomeMethod"/> once authentication is on.</summary>
    public IReadOnlyCollection<string> OutcomeConsumers { get; init; } = [];
    public string OutcomeMethod { get; init; } = "/citysight.v1.CaseFeed/ReportOutcome";
    /// <summary>
    /// Cursors of CitySight's own channels (the push outbox; the host adds a configured push consumer). They and every
    /// <see cref="MqttOptions.ConsumerPrefix"/> name cannot be named through CaseFeed: moving them would make the channel skip events.
    /// </summary>
    public IReadOnlyCollection<string> InternalConsumers { get; init; } = [DispatchPushOptions.DefaultConsumer];
    public bool Required => Keys is not null || ClientCertificates;

    /// <summary>True for a cursor only CitySight's own channels may move.</summary>
    public bool IsInternal(string consumer) =>
        InternalConsumers.Contains(consumer) || consumer.StartsWith(MqttOptions.ConsumerPrefix, StringComparison.Ordinal);
}
