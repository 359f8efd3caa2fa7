using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>Why a stream could not be read. New members are added at the end: the numbers of the old ones stay.</summary>
public enum StreamFailureKind
{
    /// <summary>Something else; <see cref="StreamException.Reason"/> has ffmpeg's words.</summary>
    Unknown,
    /// <summary>The file does not exist, or the server answered 404 (wrong path or mount).</summary>
    NotFound,
    /// <summary>401/403: wrong or missing credentials. Retried slowly (a wrong password does not fix itself, and hammering may lock the account).</summary>
    Unauthorized,
    /// <summary>Nothing listens at the host and port.</summary>
    ConnectionRefused,
    /// <summary>The connection dropped while streaming (server gone, reset, broken pipe).</summary>
    ConnectionLost,
    /// <summary>No answer within the allowed time (nothing reachable answered), or no snapshot frame in time.</summary>
    Timeout,
    /// <summary>The server answered but the data cannot be demuxed or decoded.</summary>
    InvalidData,
    /// <summary>The source has no video stream.</summary>
    NoVideo,
    /// <summary>The ffmpeg/ffprobe programs could not be run or misbehaved.</summary>
    ProcessFailed,
    /// <summary>The host name does not resolve (a typo in the configuration, or DNS is down). Retried slowly.</summary>
    UnknownHost,
    /// <summary>
    /// The camera accepted the connection, or was streaming, but no frame came within the allowed time:
    /// a hung camera or encoder. The continuous reader restarts ffmpeg for it.
    /// </summary>
    Stalled,
}

/// <summary>
/// A camera's stream failed. The message names the camera and the redacted URL; <see cref="Reason"/>
/// is ffmpeg's explanation with any password scrubbed. Never carries an inner exception that might hold the raw URL.
/// </summary>
public sealed class StreamException : Exception
{
    public StreamException(string cameraId, string redactedUrl, StreamFailureKind kind, string reason)
        : base($"camera {cameraId} ({redactedUrl}): {Describe(kind)}: {reason}")
    {
        CameraId = cameraId;
        RedactedUrl = redactedUrl;
        Kind = kind;
        Reason = reason;
    }

    public string CameraId { get; }
    public string RedactedUrl { get; }
    public StreamFailureKind Kind { get; }

    /// <summary>The cause in a few words (already scrubbed of secrets).</summary>
    public string Reason { get; }

    internal static StreamException Create(string cameraId, string url, StreamFailureKind kind, string reason) =>
        new(cameraId, Secrets.RedactUrl(url), kind, Secrets.Scrub(reason, url));

    public static string Describe(StreamFailureKind kind) => kind switch
    {
        StreamFailureKind.NotFound => "not found",
        StreamFailureKind.Unauthorized => "unauthorized",
        StreamFailureKind.ConnectionRefused => "connection refused",
        StreamFailureKind.UnknownHost => "unknown host",
        StreamFailureKind.ConnectionLost => "connection lost",
        StreamFailureKind.Timeout => "timed out",
        StreamFailureKind.Stalled => "stalled",
        StreamFailureKind.InvalidData => "invalid data",
        StreamFailureKind.NoVideo => "no video stream",
        StreamFailureKind.ProcessFailed => "ffmpeg failed",
        _ => "stream failed",
    };
}
