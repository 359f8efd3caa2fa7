using CitySight.CommandCentre.Api;
using CitySight.Delivery.Security;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre;

/// <summary>
/// Who may use the console, by the gRPC port's rules (delivery.grpc): with API keys configured every API call needs
/// an <c>x-api-key</c> of a consumer, only <c>outcome_consumers</c> may decide cases and only <c>admin_consumers</c> may
/// switch cameras (as on the admin API); without authentication
/// nobody can be told apart, so the page and its API answer only this machine, like the admin API. The page itself
/// holds no data: with keys it is served to anyone, and asks for a key.
/// </summary>
/// <remarks>
/// The HTTP port has no TLS of its own, so client certificates cannot identify an operator here: with only
/// delivery.grpc.tls.client_ca configured the API refuses every call and says that it needs API keys.
/// </remarks>
internal sealed class ConsoleAccess(ConsumerAuthOptions auth)
{
    private const string ConsumerItem = "citysight.console.consumer";

    /// <summary>Null when the caller may read (its consumer is kept for <see cref="MayDecide"/>), else the refusal.</summary>
    public IResult? MayRead(HttpContext context, bool page)
    {
        if (!auth.Required)
        {
            if (ConsumerAuthInterceptor.IsThisMachine(context.Connection.RemoteIpAddress)) return null;
            return Refuse(StatusCodes.Status403Forbidden,
                "without API keys (delivery.grpc.api_keys_env) the console answers only this machine", page);
        }
        if (page) return null;
        if (auth.Keys is null)
            return Refuse(StatusCodes.Status401Unauthorized,
                "the console needs API keys (delivery.grpc.api_keys_env): client certificates are checked on the gRPC port only", page);
        var consumer = auth.Keys.ConsumerOf(context.Request.Headers[ConsumerAuthInterceptor.ApiKeyHeader].ToString());
        if (consumer is null)
            return Refuse(StatusCodes.Status401Unauthorized, $"a valid {ConsumerAuthInterceptor.ApiKeyHeader} header is required", page);
        context.Items[ConsumerItem] = consumer;
        return null;
    }

    /// <summary>Null when the caller (already let in by <see cref="MayRead"/>) may acknowledge, close or reject cases.</summary>
    public IResult? MayDecide(HttpContext context)
    {
        if (!auth.Required) return null;
        var consumer = Consumer(context);
        if (consumer is not null && auth.OutcomeConsumers.Contains(consumer)) return null;
        return Results.Json(new ApiError($"'{consumer}' may not decide cases (acknowledge, close or reject): not in delivery.grpc.outcome_consumers"),
            statusCode: StatusCodes.Status403Forbidden);
    }

    /// <summary>
    /// Null when the caller (already let in by <see cref="MayRead"/>) may change cameras or zones, by the admin API's rules:
    /// with keys only <c>admin_consumers</c>; without authentication only this machine.
    /// </summary>
    public IResult? MayAdminister(HttpContext context)
    {
        if (!auth.Required)
            return ConsumerAuthInterceptor.IsThisMachine(context.Connection.RemoteIpAddress) ? null
                : Results.Json(new ApiError("without API keys (delivery.grpc.api_keys_env) cameras and zones can be changed only from this machine"),
                    statusCode: StatusCodes.Status403Forbidden);
        var consumer = Consumer(context);
        if (consumer is not null && auth.AdminConsumers.Contains(consumer)) return null;
        return Results.Json(new ApiError($"'{consumer}' may not change cameras or zones: not in delivery.grpc.admin_consumers"),
            statusCode: StatusCodes.Status403Forbidden);
    }

    /// <summary>The authenticated consumer, or null without authentication.</summary>
    public static string? Consumer(HttpContext context) => context.Items[ConsumerItem] as string;

    private static IResult Refuse(int status, string why, bool page) =>
        page ? Results.Text(why + "\n", "text/plain; charset=utf-8", statusCode: status) : Results.Json(new ApiError(why), statusCode: status);
}
