using System.Globalization;
using CitySight.CommandCentre.Api;
using Microsoft.AspNetCore.Http;

namespace CitySight.CommandCentre;

/// <summary>A camera's latest picture: the wall's thumbnails, the camera detail and the zone editor draw on it.</summary>
internal static class PictureEndpoints
{
    public static IResult Picture(string id, CommandCentreOptions options, HttpContext context)
    {
        if (options.Pictures?.Invoke(id) is not { } picture)
            return Results.NotFound(new ApiError($"camera '{id}' has no picture yet (none configured, or no frame received)"));
        var headers = context.Response.Headers;
        // Refreshed every few seconds: the browser asks again each time, and gets the newest.
        headers.CacheControl = "no-cache";
        headers.LastModified = picture.CapturedAt.ToString("R", CultureInfo.InvariantCulture);
        headers["X-Captured-At"] = picture.CapturedAt.ToString("O", CultureInfo.InvariantCulture);
        return Results.Bytes(picture.Jpeg, "image/jpeg");
    }
}
