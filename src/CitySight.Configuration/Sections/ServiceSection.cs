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
            GrpcPort = grpc ?? s.GrpcPort,
            HttpPort = http ?? s.HttpPort,
            DataDir = sec.Text("data_dir") is { Length: > 0 } d ? sec.Src.Resolve(d) : s.DataDir,
            TimeZone = sec.TimeZone("timezone") ?? s.TimeZone,
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
}
