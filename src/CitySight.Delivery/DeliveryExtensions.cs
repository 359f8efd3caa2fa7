using CitySight.Cases;
using CitySight.Domain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.Delivery;

/// <summary>
/// Wiring for the host: <c>services.AddCaseStore(...)</c>, <c>services.AddCitySightDelivery()</c> and
/// <c>app.MapCitySightDelivery()</c>.
/// </summary>
public static class DeliveryExtensions
{
    /// <summary>
    /// Registers one case store as <see cref="ICaseStore"/> and as each narrower part a stage depends on
    /// (<see cref="ICaseSink"/>, <see cref="ICaseRecords"/>, <see cref="ICaseFeed"/>, <see cref="IEvidenceStore"/>), all
    /// the same singleton. <paramref name="open"/> runs once, on first use; the container disposes the store.
    /// </summary>
    public static IServiceCollection AddCaseStore(this IServiceCollection services, Func<IServiceProvider, ICaseStore> open)
    {
        services.AddSingleton(open);
        return services.AddCaseStoreParts();
    }

    /// <summary>As above with a store the caller opened and keeps (the container does not dispose an instance).</summary>
    public static IServiceCollection AddCaseStore(this IServiceCollection services, ICaseStore store)
    {
        services.AddSingleton(store);
        return services.AddCaseStoreParts();
    }

    private static IServiceCollection AddCaseStoreParts(this IServiceCollection services)
    {
        services.AddSingleton<ICaseRecords>(sp => sp.GetRequiredService<ICaseStore>());
        services.AddSingleton<ICaseSink>(sp => sp.GetRequiredService<ICaseStore>());
        services.AddSingleton<ICaseFeed>(sp => sp.GetRequiredService<ICaseStore>());
        services.AddSingleton<IEvidenceStore>(sp => sp.GetRequiredService<ICaseStore>());
        return services;
    }

    /// <summary>
    /// Adds gRPC. The case feed service takes the store's parts from the container: register the store with
    /// <see cref="AddCaseStore(IServiceCollection, Func{IServiceProvider, ICaseStore})"/> (the rules stage shares it).
    /// The host must listen with HTTP/2 (<c>HttpProtocols.Http2</c> for plain-text h2c, or TLS).
    /// </summary>
    /// <param name="subscribers">Caps on open Subscribe streams (delivery.grpc.max_subscribers...); null: the defaults.</param>
    public static IServiceCollection AddCitySightDelivery(this IServiceCollection services, Security.ConsumerAuthOptions? auth = null,
        SubscriberLimits? subscribers = null)
    {
        services.AddSingleton(auth ?? new Security.ConsumerAuthOptions());
        services.AddSingleton(new SubscriberCounts(subscribers ?? new SubscriberLimits()));
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<Security.ConsumerAuthInterceptor>();
            // Requests are tiny; responses carry evidence JPEGs, so no cap on what we send.
            o.MaxReceiveMessageSize = 64 * 1024;
            o.MaxSendMessageSize = null;
        });
        return services;
    }

    public static GrpcServiceEndpointConventionBuilder MapCitySightDelivery(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<CaseFeedService>();
}
