using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace CitySight.CommandCentre;

/// <summary>One camera, and switching it on or off by the admin API's rules (the camera wall and its detail page).</summary>
internal static class CameraEndpoints
{
    public static void Map(RouteGroupBuilder api, CommandCentreOptions options, ConsoleAccess access)
    {
        api.MapGet("/cameras/{id}", (string id) => Get(id, options))
            .WithSummary("One camera with its state and reason (never its URL), street, mode and frames/s")
            .Produces<ConsoleCamera>().Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status401Unauthorized).Produces<ApiError>(StatusCodes.Status403Forbidden);
        api.MapPost("/cameras/{id}/enabled", (string id, CameraEnabled body, HttpContext context, ILoggerFactory logs, CancellationToken ct) =>
                SetEnabled(id, body, context, options, access, logs, ct))
            .WithSummary("Switch a camera on or off as the admin API does (in memory, until the next reload or restart): "
                         + "delivery.grpc.admin_consumers only when API keys are configured, else this machine only")
            .Produces<ConsoleCamera>().Produces<ApiError>(StatusCodes.Status400BadRequest).Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict).Produces<ApiError>(StatusCodes.Status501NotImplemented)
            .Produces<ApiError>(StatusCodes.Status401Unauthorized).Produces<ApiError>(StatusCodes.Status403Forbidden);
    }

    public static IResult Get(string id, CommandCentreOptions options) =>
        options.Cameras().FirstOrDefault(c => c.Id == id) is { } camera ? Results.Ok(camera) : Results.NotFound(new ApiError($"no camera '{id}'"));

    public static async Task<IResult> SetEnabled(string id, CameraEnabled body, HttpContext context, CommandCentreOptions options,
        ConsoleAccess access, ILoggerFactory logs, CancellationToken ct)
    {
        if (access.MayAdminister(context) is { } refusal) return refusal;
        if (body.Enabled is not { } enabled) return Results.BadRequest(new ApiError("enabled (true or false) is required"));
        if (options.SwitchCamera is not { } switchCamera)
            return Results.Json(new ApiError("this service cannot switch cameras from the console"), statusCode: StatusCodes.Status501NotImplemented);
        try
        {
            if (await switchCamera(id, enabled, ct) is not { } camera) return Results.NotFound(new ApiError($"no camera '{id}'"));
            var by = ConsoleAccess.Consumer(context) ?? "(this machine)";
            logs.CreateLogger("CitySight.CommandCentre").LogInformation("Camera {Camera} {Switched} by {Consumer} in the console",
                camera.Id, enabled ? "enabled" : "disabled", by);
            return Results.Ok(camera);
        }
        catch (InvalidOperationException ex)
        {
            return Results.Conflict(new ApiError(ex.Message));
        }
    }
}
