using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace CitySight.CommandCentre;

/// <summary>
/// The built page (web/ → wwwroot/, embedded in this assembly as console/…): every file the browser needs comes from
/// the service itself, for districts on closed networks. Vite names assets by their content, so they are cached for
/// good; index.html is asked for again each time.
/// </summary>
internal sealed class ConsolePage
{
    private const string Prefix = "console/";
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private readonly Assembly _assembly = typeof(ConsolePage).Assembly;
    private readonly HashSet<string> _files;

    public ConsolePage()
    {
        _files = _assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..]).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Whether the page was built before this assembly was (scripts/setup.sh does it).</summary>
    public bool Built => _files.Contains("index.html");

    public IResult Serve(string? path, HttpContext context)
    {
        var file = string.IsNullOrEmpty(path) ? "index.html" : path;
        if (!_files.Contains(file))
        {
            return file == "index.html"
                ? Results.Text("The console page was not built into this service: run scripts/setup.sh (npm ci and npm run build in " +
                               "src/CitySight.CommandCentre/web), then build again.\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.NotFound();
        }
        var headers = context.Response.Headers;
        headers.CacheControl = file.StartsWith("assets/", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self'; " +
                                        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        if (!ContentTypes.TryGetContentType(file, out var type)) type = "application/octet-stream";
        return Results.Stream(_assembly.GetManifestResourceStream(Prefix + file)!, type);
    }
}
