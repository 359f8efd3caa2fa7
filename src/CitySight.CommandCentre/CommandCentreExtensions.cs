using CitySight.Cases;
using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CitySight.CommandCentre;

/// <summary>
/// Wiring for the host: <c>services.AddCommandCentre()</c> and <c>app.MapCommandCentre(options)</c>. The console reads
/// the case store's parts and the consumer authentication from the container (registered by delivery) and the cameras
/// from <see cref="CommandCentreOptions.Cameras"/>.
/// </summary>
public static class CommandCentreExtensions
{
    public const string ApiPrefix = "/api/v1";

    /// <summary>The OpenAPI document of the console's API (only /api/v1, served at /api/v1/openapi.json).</summary>
    public static IServiceCollection AddCommandCentre(this IServiceCollection services)
    {
        services.AddOpenApi("v1", o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info.Title = "CitySight command-centre console API";
                doc.Info.Description = "What the console page uses. With delivery.grpc.api_keys_env configured every call needs an x-api-key "
                                       + "header of a consumer, and only delivery.grpc.outcome_consumers may decide cases; without "
                                       + "authentication it answers only this machine. Times are ISO 8601 with offset.";
                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>The page at "/" and its API under /api/v1, on <see cref="CommandCentreOptions.Port"/> when set.</summary>
    public static void MapCommandCentre(this WebApplication app, CommandCentreOptions options)
    {
        var access = new ConsoleAccess(app.Services.GetRequiredService<Delivery.Security.ConsumerAuthOptions>());
        var page = new ConsolePage();

        var api = app.MapGroup(ApiPrefix).WithTags("console")
            .AddEndpointFilter((ctx, next) => access.MayRead(ctx.HttpContext, page: false) is { } refusal
                ? ValueTask.FromResult<object?>(refusal)
                : next(ctx));
        var time = app.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        var detector = options.Detector is { } counters ? new DetectorPace(counters, time) : null;
        var map = new MapEndpoints(options.MapGeoJson);
        Guarded(api.MapGet("/overview", (ICaseRecords records, ICaseFeed feed, CancellationToken ct) =>
                OverviewEndpoints.Overview(options, records, feed, detector, time, ct)))
            .WithSummary("Open cases by type and group; cases reported today and in 7 days; cameras by state; detector frames/s and drops; " +
                         "delivery lag per consumer; dispatch's outcomes (accepted vs rejected, time to close) today and in 7 days by type and group")
            .Produces<Overview>();
        Guarded(api.MapGet("/map/base", map.Base))
            .WithSummary("The map's base: the operator's GeoJSON of streets and grids (console.map.geojson), or configured=false for plain coordinates")
            .Produces<MapBase>().Produces<ApiError>(StatusCodes.Status500InternalServerError);
        Guarded(api.MapGet("/cameras", () => OverviewEndpoints.Cameras(options)))
            .WithSummary("Every camera with its state and reason (never its URL) and position").Produces<IReadOnlyList<ConsoleCamera>>();
        Guarded(api.MapGet("/cameras/{id}/picture", (string id, HttpContext context) => PictureEndpoints.Picture(id, options, context)))
            .WithSummary("The camera's latest picture (JPEG, at most 640 px wide, refreshed every console.picture_interval); Last-Modified and X-Captured-At: when it was taken")
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg").Produces<ApiError>(StatusCodes.Status404NotFound);
        Guarded(api.MapGet("/cameras/{id}/zones", (string id) => ZoneEndpoints.Get(id, options)))
            .WithSummary("The camera's zones as its group file has them: id, case types, points (0..1 of the picture), exclude, schedule")
            .Produces<CameraZones>().Produces<ApiError>(StatusCodes.Status404NotFound);
        Guarded(api.MapPut("/cameras/{id}/zones", (string id, CameraZones body, HttpContext context, CancellationToken ct) =>
                ZoneEndpoints.Put(id, body, context, access, options, ct)))
            .WithSummary("Save the camera's zones into its group file (only its zones block changes; comments kept), validated with the whole "
                         + "configuration first (400 with file:line:column errors, the file untouched), then applied by the reload; delivery.grpc.admin_consumers only")
            .Produces<CameraZones>().Produces<ZoneSaveRefusal>(StatusCodes.Status400BadRequest).Produces<ApiError>(StatusCodes.Status404NotFound);
        Guarded(api.MapGet("/cases", CaseEndpoints.List))
            .WithSummary("Cases newest first: state = open (default), reported, acknowledged, closed, rejected, final or all; type; group; camera; "
                         + "since and until (raised at, ISO 8601 with offset); limit 1-500")
            .Produces<CaseList>().Produces<ApiError>(StatusCodes.Status400BadRequest);
        Guarded(api.MapGet("/cases/{id}", CaseEndpoints.Get))
            .WithSummary("One case").Produces<ConsoleCase>().Produces<ApiError>(StatusCodes.Status404NotFound);
        Guarded(api.MapGet("/cases/{id}/evidence/{view}", CaseEndpoints.Evidence))
            .WithSummary("One of the case's pictures (JPEG): best, best-crop, first, first-crop, before-after")
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg").Produces<ApiError>(StatusCodes.Status404NotFound);
        Guarded(api.MapPost("/cases/{id}/outcome", (string id, CaseOutcome outcome, HttpContext context, ICaseRecords records, ILoggerFactory logs,
                CancellationToken ct) => CaseEndpoints.Decide(id, outcome, context, access, records, logs, ct)))
            .WithSummary("Acknowledge, close or reject a case with a note, as dispatch's ReportOutcome does (same cooldown, same STATE_CHANGED event)")
            .Produces<ConsoleCase>().Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound).Produces<ApiError>(StatusCodes.Status409Conflict);
        Guarded(api.MapGet("/events", CaseEvents.Stream))
            .WithSummary("Server-sent events of the case feed from now (or Last-Event-ID): ready, opened, updated, state_changed")
            .Produces<ConsoleEvent>(StatusCodes.Status200OK, "text/event-stream");
        CameraEndpoints.Map(api, options, access);
        api.MapOpenApi("/openapi.json");

        // The page: "/" and the files Vite built (a catch-all below every other route: /metrics and /healthz stay theirs).
        var site = app.MapGroup("").ExcludeFromDescription()
            .AddEndpointFilter((ctx, next) => access.MayRead(ctx.HttpContext, page: true) is { } refusal
                ? ValueTask.FromResult<object?>(refusal)
                : next(ctx));
        site.MapGet("/", (HttpContext context) => page.Serve(null, context));
        site.MapGet("/{*file}", (string file, HttpContext context) => page.Serve(file, context)).WithOrder(1);

        if (options.Port is { } port)
        {
            api.RequireHost($"*:{port}");
            site.RequireHost($"*:{port}");
        }
    }

    /// <summary>Every API call may be refused: no or an unknown key (401), not this machine or not allowed to decide (403).</summary>
    private static RouteHandlerBuilder Guarded(RouteHandlerBuilder endpoint) =>
        endpoint.Produces<ApiError>(StatusCodes.Status401Unauthorized).Produces<ApiError>(StatusCodes.Status403Forbidden);
}
