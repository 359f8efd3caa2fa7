using System.Net;
using System.Text.Json;
using CitySight.Configuration;
using CitySight.Delivery.Security;
using CitySight.Domain;
using CitySight.Ingest;
using CitySight.Ingest.Patrol;
using Microsoft.Extensions.Logging.Abstractions;

namespace CitySight.Service.Tests;

/// <summary>
/// Secure defaults: the service listens on this machine only unless told otherwise, and refuses to listen beyond it
/// with nobody told apart, unless that is accepted on purpose; /healthz never shows a camera's address.
/// </summary>
public sealed class ExposureTests
{
    [Fact]
    public void By_default_both_ports_listen_on_loopback_only()
    {
        Assert.Equal("127.0.0.1", new ServiceSettings().BindAddress);
        Assert.Null(GrpcSecurity.CheckExposure(IPAddress.Parse(new ServiceSettings().BindAddress), new GrpcEndpointOptions()));
    }

    [Fact]
    public void The_grpc_port_is_set_to_ping_idle_http2_connections()
    {
        var kestrel = new Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions();
        GrpcSecurity.Listen(kestrel, IPAddress.Loopback, 50999, new GrpcEndpointOptions());
        Assert.Equal(TimeSpan.FromSeconds(30), kestrel.Limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), kestrel.Limits.Http2.KeepAlivePingTimeout);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("192.0.2.7")]
    public void The_host_refuses_to_start_beyond_loopback_without_authentication_and_says_what_to_configure(string bind)
    {
        var config = new CitySightConfig { SourceFile = "exposure", Service = new ServiceSettings { BindAddress = bind } };
        var ex = Assert.Throws<InvalidOperationException>(() => CitySightHost.Build(config));
        Assert.Contains("delivery.grpc.api_keys_env", ex.Message);
        Assert.Contains("delivery.grpc.tls.client_ca", ex.Message);
        Assert.Contains("delivery.grpc.allow_unauthenticated", ex.Message);
        Assert.Contains(IPAddress.Parse(bind).ToString(), ex.Message);
    }

    [Fact]
    public void Beyond_loopback_keys_or_client_certificates_let_it_listen_and_an_accepted_open_port_is_a_warning()
    {
        var any = IPAddress.Any;
        Assert.Null(GrpcSecurity.CheckExposure(any, new GrpcEndpointOptions { ApiKeysEnv = "CITYSIGHT_KEYS" }));
        Assert.Null(GrpcSecurity.CheckExposure(any, new GrpcEndpointOptions { ClientCa = "/etc/citysight/clients-ca.pem" }));
        var warning = GrpcSecurity.CheckExposure(any, new GrpcEndpointOptions { AllowUnauthenticated = true });
        Assert.Contains("without authentication", warning);
        Assert.Contains("allow_unauthenticated", warning);
    }

    [Fact]
    public void Healthz_lists_the_open_port_warning_and_nothing_without_it()
    {
        var channels = new PipelineChannels();
        var ingest = new IngestWorker([], new IngestOptions(), channels.Producers, NullLoggerFactory.Instance);
        var patrol = new PatrolWorker([], new SnapshotVisitor(new IngestOptions()), channels.Producers, new IngestOptions(), TimeProvider.System,
            NullLogger<PatrolWorker>.Instance);
        string[] Warnings(string? warning) => JsonSerializer.SerializeToElement(HealthReport.Of(ingest, patrol, _ => null, warning))
            .GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToArray();

        var open = GrpcSecurity.CheckExposure(IPAddress.Any, new GrpcEndpointOptions { AllowUnauthenticated = true });
        Assert.Equal([open!], Warnings(open));
        Assert.Empty(Warnings(null));
    }

    [Theory]
    [InlineData("rtsp://user:secret@host/path?token=abc", "camera cam-7 (rtsp://user:***@host/path?token=abc): connection refused: rtsp://user:***@host/path?token=abc: Connection refused")]
    [InlineData("rtsp://user:secret@host/path?token=abc", "Failed to resolve hostname host: Name or service not known (token=abc)")]
    public void A_failure_reason_in_healthz_keeps_no_part_of_the_camera_address(string url, string reason)
    {
        var camera = new Camera { Id = "cam-7", Name = "C", GroupId = "g", Url = url, Latitude = 31.2, Longitude = 121.4 };
        var shown = HealthReport.WithoutUrl(reason, camera)!;
        Assert.StartsWith(reason[..6], shown);   // the reason itself stays readable
        foreach (var part in new[] { "user", "secret", "host", "path", "token", "abc" })
            Assert.DoesNotContain(part, shown, StringComparison.OrdinalIgnoreCase);
    }
}
