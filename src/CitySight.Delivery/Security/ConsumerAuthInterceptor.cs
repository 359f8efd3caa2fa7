using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Delivery.Security;

/// <summary>
/// Who may call the gRPC services: when API keys or client certificates are configured, every call but the health
/// check must carry a known <c>x-api-key</c> or a client certificate (its subject CN is the consumer). The consumer's
/// name is put in the call's <see cref="ServerCallContext.UserState"/> for the services to hold requests to it.
/// The admin API answers only the listed admin consumers, or, with no authentication configured, only this machine;
/// ReportOutcome answers only the listed outcome consumers (without authentication nobody can be told apart: anyone
/// who reaches the port, which is then this machine unless allow_unauthenticated says otherwise).
/// Refusals say what is missing, never what was sent.
/// </summary>
public sealed class ConsumerAuthInterceptor(ConsumerAuthOptions options, ILogger<ConsumerAuthInterceptor> logger) : Interceptor
{
    public const string ApiKeyHeader = "x-api-key";
    public const string ConsumerKey = "citysight.consumer";

    private static readonly Counter Refused = Metrics.CreateCounter(
        "citysight_grpc_unauthenticated_total", "gRPC calls refused for a missing or unknown API key or certificate.", "method");

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authenticate(ServerCallContext context)
    {
        if (context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)) return;
        if (!options.Required)
        {
            // Nobody can be told apart without keys or certificates: the admin API (switching cameras off, reloading
            // the configuration) then answers only this machine, whoever else can reach the port.
            if (IsAdmin(context) && !IsThisMachine(RemoteAddress(context)))
            {
                Refused.WithLabels(context.Method).Inc();
                logger.LogWarning("Refused {Method} from {Peer}: without API keys or client certificates the admin API answers only this machine",
                    context.Method, context.Peer);
                throw new RpcException(new Status(StatusCode.PermissionDenied,
                    "without API keys or client certificates (delivery.grpc) the admin API answers only calls from this machine"));
            }
            return;
        }

        var consumer = options.Keys?.ConsumerOf(context.RequestHeaders.GetValue(ApiKeyHeader));
        if (consumer is null && options.ClientCertificates
            && context.GetHttpContext().Connection.ClientCertificate is X509Certificate2 cert)
            consumer = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);   // validated against the CA by Kestrel
        if (consumer is null)
        {
            Refused.WithLabels(context.Method).Inc();
            logger.LogWarning("Refused {Method} from {Peer}: no valid API key or client certificate", context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                options.ClientCertificates ? $"a valid {ApiKeyHeader} header or client certificate is required" : $"a valid {ApiKeyHeader} header is required"));
        }
        if (IsAdmin(context) && !options.AdminConsumers.Contains(consumer))
        {
            logger.LogWarning("Refused {Method} to consumer {Consumer}: not in delivery.grpc.admin_consumers", context.Method, consumer);
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"'{consumer}' may not use the admin API (delivery.grpc.admin_consumers)"));
        }
        if (context.Method == options.OutcomeMethod && !options.OutcomeConsumers.Contains(consumer))
        {
            logger.LogWarning("Refused {Method} to consumer {Consumer}: not in delivery.grpc.outcome_consumers", context.Method, consumer);
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"'{consumer}' may not report outcomes (close or reject cases): not in delivery.grpc.outcome_consumers"));
        }
        context.UserState[ConsumerKey] = consumer;
    }

    private bool IsAdmin(ServerCallContext context) => context.Method.StartsWith(options.AdminServicePrefix, StringComparison.Ordinal);

    private static IPAddress? RemoteAddress(ServerCallContext context)
    {
        try { return context.GetHttpContext().Connection.RemoteIpAddress; }
        catch (InvalidOperationException) { return null; } // not hosted by ASP.NET Core: nothing to go by
    }

    /// <summary>A loopback address (127.0.0.0/8, ::1, or either mapped into IPv6); an unknown peer is not.</summary>
    public static bool IsThisMachine(IPAddress? remote) =>
        remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);

    /// <summary>
    /// The authenticated consumer, checked against the name a request gives: empty takes the authenticated name, another
    /// name is refused (one consumer cannot move another's cursor). Without authentication the requested name stands.
    /// </summary>
    public static string ConsumerFor(ServerCallContext context, string requested)
    {
        if (!context.UserState.TryGetValue(ConsumerKey, out var who) || who is not string authenticated) return requested;
        if (string.IsNullOrWhiteSpace(requested)) return authenticated;
        if (!string.Equals(requested, authenticated, StringComparison.Ordinal))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"authenticated as '{authenticated}', not '{requested}'"));
        return requested;
    }
}
