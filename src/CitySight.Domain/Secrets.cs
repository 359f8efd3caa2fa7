namespace CitySight.Domain;

public static class Secrets
{
    /// <summary>rtsp://user:pass@host/path → rtsp://user:***@host/path. Anything that is not a URL is returned unchanged.</summary>
    public static string RedactUrl(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        var start = scheme + 3;
        // The last '@' ends the user-info even when an unescaped '@' sits in the password; redacting too much is the safe side.
        var at = url.LastIndexOf('@');
        if (at < start) return url;
        var colon = url.IndexOf(':', start);
        var user = colon >= 0 && colon < at ? url[start..colon] : url[start..at];
        return string.Concat(url.AsSpan(0, start), user, ":***", url.AsSpan(at));
    }

    /// <summary>Replaces every occurrence of the URL's password in free text (e.g. an ffmpeg error line).</summary>
    public static string Scrub(string text, string url)
    {
        var redacted = RedactUrl(url);
        if (redacted == url) return text;
        text = text.Replace(url, redacted, StringComparison.Ordinal);
        var start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var at = url.LastIndexOf('@');
        var colon = url.IndexOf(':', start);
        if (colon > 0 && colon < at)
        {
            var password = url[(colon + 1)..at];
            if (password.Length > 0) text = text.Replace(password, "***", StringComparison.Ordinal);
            var decoded = Uri.UnescapeDataString(password);
            if (decoded.Length > 0 && decoded != password) text = text.Replace(decoded, "***", StringComparison.Ordinal);
        }
        return text;
    }
}
