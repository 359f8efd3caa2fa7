using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.Delivery;

/// <summary>Two-line wiring for the host: <c>services.AddCitySightDelivery()</c> and <c>app.MapCitySightDelivery()</c>.</summary>
public static class DeliveryExtensions
{
    /// <summary>
    /// Adds gRPC. The host registers the <see cref="Cases.CaseStore"/> singleton itself (the rules stage shares it),
    /// and must listen with HTTP/2 (<c>HttpProtocols.Http2</c> for plain-text h2c, or TLS).
    /// </summary>
    public static IServiceCollection AddCitySightDelivery(this IServiceCollection services, Security.ConsumerAuthOptions? auth = null)
    {
        services.AddSingleton(auth ?? new Security.ConsumerAuthOptions());
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
