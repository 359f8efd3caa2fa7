namespace CitySight.Configuration;

/// <summary>delivery: the optional channels (mqtt, push) and the gRPC endpoint's TLS and authentication (grpc).</summary>
internal static class DeliverySection
{
    public static DeliverySettings Read(Section top)
    {
        var d = new DeliverySettings();
        if (top.Child("delivery") is not { } sec) return d;
        return d with { Grpc = GrpcSection.Read(sec), Push = PushSection.Read(sec), Mqtt = MqttSection.Read(sec) };
    }
}
