namespace CitySight.Domain;

public static class Secrets
{
    // Query parameters whose values are secrets (matched as parts of the name, any case): ?token=, &access_token=,
    // &apikey=, &password=, &sig=… Others (channel=1&subtype=0) say which stream it is and stay readable.
    private static readonly string[] SecretParameterParts = ["token", "key", "pass", "pwd", "secret", "auth", "sig", "credential", "session"];

    /// <summary>
    /// rtsp://user:pass@host/path?token=t&amp;channel=1 → rtsp://user:***@host/path?token=***&amp;channel=1: the password
    /// and the values of secret-looking query parameters. Anything that is not a URL is returned unchanged.
    /// </summary>
    public static string RedactUrl(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        var start = scheme + 3;
        var redacted = url;
        // The last '@' ends the user-info even when an unescaped '@' sits in the password; redacting too much is the safe side.
        var at = url.LastIndexOf('@');
        if (at >= start)
        {
            var colon = url.IndexOf(':', start);
            var user = colon >= 0 && colon < at ? url[start..colon] : url[start..at];
            redacted = string.Concat(url.AsSpan(0, start), user, ":***", url.AsSpan(at));
        }
        var query = redacted.IndexOf('?', start);
        if (query < 0) return redacted;
        var parts = redacted[(query + 1)..].Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var eq = parts[i].IndexOf('=');
            if (eq > 0 && IsSecretParameter(parts[i][..eq])) parts[i] = parts[i][..(eq + 1)] + "***";
        }
        return string.Concat(redacted.AsSpan(0, query + 1), string.Join('&', parts));
    }

    /// <summary>Replaces every occurrence of the URL's password and secret query values in free text (e.g. an ffmpeg error line).</summary>
    public static string Scrub(string text, string url)
    {
        var redacted = RedactUrl(url);
        if (redacted == url) return text;
        text = text.Replace(url, redacted, StringComparison.Ordinal);
        var start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var at = url.LastIndexOf('@');
        var colon = url.IndexOf(':', start);
        if (colon > 0 && colon < at) text = Mask(text, url[(colon + 1)..at]);
        var query = url.IndexOf('?', start);
        if (query >= 0)
            foreach (var part in url[(query + 1)..].Split('&'))
            {
                var eq = part.IndexOf('=');
                if (eq > 0 && IsSecretParameter(part[..eq])) text = Mask(text, part[(eq + 1)..]);
            }
        return text;
    }

    private static bool IsSecretParameter(string name)
    {
        foreach (var s in SecretParameterParts)
            if (name.Contains(s, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>The secret as written and, when it differs, as decoded, replaced by ***.</summary>
    private static string Mask(string text, string secret)
    {
        if (secret.Length == 0) return text;
        text = text.Replace(secret, "***", StringComparison.Ordinal);
        var decoded = Uri.UnescapeDataString(secret);
        return decoded.Length > 0 && decoded != secret ? text.Replace(decoded, "***", StringComparison.Ordinal) : text;
    }
}
