namespace CitySight.Delivery.Mqtt;

/// <summary>
/// The documented topics (configs/README.md, "delivery.mqtt"):
/// <c>{prefix}/cases/{case_type}</c> (QoS 1, not retained, one JSON case per message),
/// <c>{prefix}/cameras/{camera_id}/status</c> (QoS 1, retained, JSON camera state),
/// <c>{prefix}/service/status</c> (QoS 1, retained, <c>online</c> / <c>offline</c>; <c>offline</c> is also the last will).
/// </summary>
public sealed class MqttTopics(string prefix)
{
    public string Prefix { get; } = prefix.TrimEnd('/');

    public string Case(string caseType) => $"{Prefix}/cases/{Segment(caseType)}";
    public string CameraStatus(string cameraId) => $"{Prefix}/cameras/{Segment(cameraId)}/status";
    public string ServiceStatus => $"{Prefix}/service/status";

    public const string Online = "online";
    public const string Offline = "offline";

    /// <summary>Ids are plain (config validation), but a topic level must never carry a wildcard or a separator.</summary>
    private static string Segment(string s) =>
        string.IsNullOrEmpty(s) ? "_" : s.Replace('/', '_').Replace('+', '_').Replace('#', '_');
}
