namespace CitySight.Configuration;

/// <summary>service: ports, data folder, local time and evidence retention.</summary>
internal static class ServiceSection
{
    public static ServiceSettings Read(Section top)
    {
        var s = new ServiceSettings();
        if (top.Child("service") is not { } sec) return s;
        var grpc = sec.Int("grpc_port");
        var http = sec.Int("http_port");
        s = s with
        {
            BindAddress = BindAddress(sec) ?? s.BindAddress,
            GrpcPort = grpc ?? s.GrpcPort,
            HttpPort = http ?? s.HttpPort,
            DataDir = sec.Text("data_dir") is { Length: > 0 } d ? sec.Src.Resolve(d) : s.DataDir,
            TimeZone = sec.TimeZone("timezone") ?? s.TimeZone,
            ReserveFreeMegabytes = sec.Int("reserve_free_mb") ?? s.ReserveFreeMegabytes,
            MaxWaitingCases = sec.Int("max_waiting_cases") ?? s.MaxWaitingCases,
            EvidenceRetention = s.EvidenceRetention with
            {
                EvidenceRetentionDays = sec.Int("evidence_retention_days") ?? s.EvidenceRetention.EvidenceRetentionDays,
                EvidenceMaxGigabytes = sec.Number("evidence_max_gb") ?? s.EvidenceRetention.EvidenceMaxGigabytes,
            },
        };
        if (s.GrpcPort == s.HttpPort && (grpc is not null || http is not null))
            sec.Src.Error(sec.KeyMark(http is not null ? "http_port" : "grpc_port"), sec.Field(http is not null ? "http_port" : "grpc_port"),
                $"gRPC and HTTP cannot share port {s.GrpcPort}");
        return s;
    }

    /// <summary>An IP address (a host name could resolve to more than one interface); null when absent or invalid.</summary>
    private static string? BindAddress(Section sec)
    {
        if (sec.Text("bind_address") is not { } text) return null;
        if (System.Net.IPAddress.TryParse(text.Trim(), out var ip)) return ip.ToString();
        sec.Src.Error(sec.Value("bind_address")!.Start, sec.Field("bind_address"),
            $"'{YamlSource.Shorten(text)}' is not an IP address; use 127.0.0.1 (this machine only), 0.0.0.0 or :: (every interface) or one interface's address");
        return null;
    }
}
