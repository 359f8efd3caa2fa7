using CitySight.Delivery.Push;
using CitySight.Domain;

namespace CitySight.Configuration;

/// <summary>delivery.push: CitySight as the client of the district's DispatchIntake endpoint; null when not configured.</summary>
internal static class PushSection
{
    /// <summary>Stands in for an endpoint not given (or not valid): the section then reads as null.</summary>
    public static readonly Uri NoEndpoint = new("http://invalid");

    public static DispatchPushOptions? Read(Section delivery)
    {
        if (!delivery.Has("push") || delivery.Child("push") is not { } sec) return null;
        var src = sec.Src;
        Uri? endpoint = null;
        if (sec.Text("endpoint", required: true) is { } raw)
        {
            if (!Uri.TryCreate(raw.Trim(), UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https") || endpoint.Host.Length == 0)
            {
                src.Error(sec.Value("endpoint")!.Start, sec.Field("endpoint"),
                    $"'{Secrets.RedactUrl(raw)}' is not an http:// or https:// address of the dispatch intake (e.g. https://dispatch.example:8443)");
                endpoint = null;
            }
            else if (endpoint.UserInfo.Length > 0)
            {
                src.Error(sec.Value("endpoint")!.Start, sec.Field("endpoint"), "must not carry credentials; use api_key_env or a client certificate");
                endpoint = null;
            }
        }
        var d = new DispatchPushOptions { Endpoint = NoEndpoint };
        var consumer = sec.Text("consumer") ?? d.Consumer;
        if (consumer.Length is 0 or > 128 || consumer.Any(char.IsControl))
            src.Error(sec.Value("consumer")!.Start, sec.Field("consumer"), "a consumer name is 1 to 128 characters");
        sec.BothOrNeither("client_cert", "client_key");
        var settings = d with
        {
            Endpoint = endpoint ?? NoEndpoint,
            Consumer = consumer,
            ApiKeyEnv = sec.EnvName("api_key_env", "the API key dispatch gave CitySight"),
            CaFile = sec.ExistingFile("ca_file"),
            ClientCert = sec.ExistingFile("client_cert"),
            ClientKey = sec.ExistingFile("client_key"),
            IncludeEvidence = sec.Bool("include_evidence") ?? d.IncludeEvidence,
            MaxBackoff = sec.Duration("max_backoff") ?? d.MaxBackoff,
            MinBackoff = sec.Duration("min_backoff") ?? d.MinBackoff,
            Window = sec.Int("window") ?? d.Window,
            ReceiptTimeout = sec.Duration("receipt_timeout") ?? d.ReceiptTimeout,
            ConnectTimeout = sec.Duration("connect_timeout") ?? d.ConnectTimeout,
        };
        if (settings.MinBackoff > settings.MaxBackoff)
            src.Error(sec.Value(sec.Has("min_backoff") ? "min_backoff" : "max_backoff")!.Start, sec.Field(sec.Has("min_backoff") ? "min_backoff" : "max_backoff"),
                $"min_backoff ({settings.MinBackoff.TotalSeconds:0.###}s) must not exceed max_backoff ({settings.MaxBackoff.TotalSeconds:0.###}s)");
        return endpoint is null ? null : settings;
    }
}
