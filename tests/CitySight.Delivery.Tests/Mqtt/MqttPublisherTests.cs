using System.Text.Json;
using CitySight.Cases.Sqlite;
using CitySight.Delivery.Mqtt;
using CitySight.Tests;
using MQTTnet.Protocol;
using static CitySight.Tests.CaseSamples;

namespace CitySight.Delivery.Tests.Mqtt;

/// <summary>The MQTT publisher against a real mosquitto and a real SQLite case store.</summary>
public sealed class MqttPublisherTests
{
    private static MqttOptions Options(MqttBroker broker, string? user = null, string? password = null) => new()
    {
        Host = "127.0.0.1",
        Port = broker.Port,
        ClientId = "test-" + Guid.NewGuid().ToString("N")[..8],
        TopicPrefix = "city/test",
        Username = user,
        Password = password,
        MinBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        KeepAlive = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task A_case_closed_by_dispatch_follows_on_its_topic_as_a_state_change()
    {
        using var broker = new MqttBroker();
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-state"));
        await using var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#");
        using var publisher = new MqttCasePublisher(Options(broker), store, new CapturingLogger<MqttCasePublisher>());
        await publisher.StartAsync(CancellationToken.None);
        var opened = await store.OpenAsync(Case(1));
        // An event carries the case as it is when sent: let the opening go out before dispatch closes it.
        await sub.WaitForAsync(m => m.Count >= 1, "opened");
        await store.TransitionAsync(opened.Id, CitySight.Domain.CaseState.Closed, DateTimeOffset.UtcNow, "towed");

        var got = await sub.WaitForAsync(m => m.Count >= 2, "opened and closed");
        await publisher.StopAsync(CancellationToken.None);
        using var first = JsonDocument.Parse(got[0].Payload);
        using var second = JsonDocument.Parse(got[1].Payload);
        Assert.Equal(("opened", "reported", 1L), (first.RootElement.GetProperty("event").GetString(), first.RootElement.GetProperty("state").GetString(), first.RootElement.GetProperty("sequence").GetInt64()));
        Assert.Equal(("state_changed", "closed", 2L), (second.RootElement.GetProperty("event").GetString(), second.RootElement.GetProperty("state").GetString(), second.RootElement.GetProperty("sequence").GetInt64()));
        Assert.Equal(opened.Id, second.RootElement.GetProperty("id").GetString());
        Assert.Equal("city/test/cases/illegal_parking", got[1].Topic);
    }

    [Fact]
    public async Task Committed_cases_arrive_as_qos1_json_and_the_cursor_is_acked()
    {
        using var broker = new MqttBroker();
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-cases"));
        var stored = new List<CitySight.Domain.Case>();
        for (var i = 1; i <= 3; i++) stored.Add(await store.OpenAsync(Case(i)));   // before start: replayed
        await using var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#");
        var options = Options(broker);
        using var publisher = new MqttCasePublisher(options, store, new CapturingLogger<MqttCasePublisher>());
        await publisher.StartAsync(CancellationToken.None);
        stored.Add(await store.OpenAsync(Case(4, "street_stall")));                   // live
        stored.Add(await store.OpenAsync(Case(5)));

        var got = await sub.WaitForAsync(m => m.Count >= 5, "5 cases");
        await Wait.UntilAsync(() => publisher.AckedSequence == 5, "cursor 5");
        Assert.Equal(5, await store.CursorAsync(options.ConsumerName));
        await publisher.StopAsync(CancellationToken.None);

        Assert.Equal(5, got.Count);
        Assert.All(got, m => Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, m.QoS));
        Assert.All(got, m => Assert.False(m.Retain));
        Assert.Equal("city/test/cases/street_stall", got[3].Topic);
        Assert.Equal("city/test/cases/illegal_parking", got[0].Topic);
        for (var i = 0; i < 5; i++)
        {
            var c = stored[i];
            using var doc = JsonDocument.Parse(got[i].Payload);
            var j = doc.RootElement;
            Assert.Equal(c.Id, j.GetProperty("id").GetString());
            Assert.Equal(i + 1, j.GetProperty("sequence").GetInt64());
            Assert.Equal(c.CaseType, j.GetProperty("type").GetProperty("id").GetString());
            Assert.Equal("0302", j.GetProperty("type").GetProperty("code").GetString());
            Assert.Equal("机动车乱停放", j.GetProperty("type").GetProperty("name_zh").GetString());
            Assert.Equal(c.CameraId, j.GetProperty("camera").GetString());
            Assert.Equal("xuhui-tianlin", j.GetProperty("group").GetString());
            Assert.Equal("徐汇区", j.GetProperty("district").GetString());
            Assert.Equal(c.Grid, j.GetProperty("grid").GetString());
            Assert.Equal("田林街道城管中队", j.GetProperty("responsible_unit").GetString());
            Assert.Equal(c.Zone, j.GetProperty("zone").GetString());
            Assert.Equal(c.Latitude, j.GetProperty("lat").GetDouble(), 9);
            Assert.Equal(c.Longitude, j.GetProperty("lon").GetDouble(), 9);
            Assert.Equal(c.FirstSeen, DateTimeOffset.Parse(j.GetProperty("first_seen").GetString()!));
            Assert.Equal("+08:00", j.GetProperty("first_seen").GetString()![^6..]);
            Assert.Equal(c.LastSeen.ToUnixTimeMilliseconds(), DateTimeOffset.Parse(j.GetProperty("last_seen").GetString()!).ToUnixTimeMilliseconds());
            Assert.Equal(JsonValueKind.Null, j.GetProperty("raised_at").ValueKind);
            Assert.Equal(c.Confidence, j.GetProperty("confidence").GetSingle(), 3);
            Assert.Equal(c.Box.X1, j.GetProperty("box").GetProperty("x1").GetSingle());
            Assert.Equal(1920, j.GetProperty("image").GetProperty("width").GetInt32());
            Assert.Equal("car", j.GetProperty("class_name").GetString());
            Assert.Equal("reported", j.GetProperty("state").GetString());
            Assert.Equal(MqttPayloads.EvidenceCall, j.GetProperty("evidence").GetProperty("grpc").GetString());
            Assert.True(got[i].Payload.Length < 2000, "no evidence bytes in the payload");
        }
    }

    [Fact]
    public async Task A_broker_outage_loses_no_case()
    {
        using var broker = new MqttBroker(persistence: true);
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-outage"));
        var subscriberId = "sub-" + Guid.NewGuid().ToString("N")[..8];
        var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#", persistentId: subscriberId);
        var publisher = new MqttCasePublisher(Options(broker), store, new CapturingLogger<MqttCasePublisher>());
        await publisher.StartAsync(CancellationToken.None);
        var ids = new List<string>();
        for (var i = 1; i <= 5; i++) ids.Add((await store.OpenAsync(Case(i))).Id);
        await sub.WaitForAsync(m => m.Count >= 5, "the first 5 cases");
        var before = sub.Messages;
        await sub.DisposeAsync();                                  // persistent session: the broker queues for it

        broker.Stop();
        await Wait.UntilAsync(() => !publisher.IsConnected, "the publisher to see the outage");
        for (var i = 6; i <= 12; i++) ids.Add((await store.OpenAsync(Case(i))).Id);   // committed while the broker is down
        Assert.True(publisher.AckedSequence <= 5);
        broker.Start();

        await using var sub2 = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#", persistentId: subscriberId);
        await Wait.UntilAsync(() => publisher.AckedSequence == 12, "cursor 12 after the restart");
        var seen = before.Concat(await sub2.WaitForAsync(
                m => before.Concat(m).Select(x => JsonDocument.Parse(x.Payload).RootElement.GetProperty("id").GetString()).ToHashSet().IsSupersetOf(ids),
                "every case"))
            .Select(x => JsonDocument.Parse(x.Payload).RootElement.GetProperty("id").GetString()!).ToList();
        await publisher.StopAsync(CancellationToken.None);
        publisher.Dispose();

        Assert.Empty(ids.Except(seen));
        var duplicates = seen.Count - seen.Distinct().Count();
        Assert.InRange(duplicates, 0, 12); // at-least-once: a duplicate is allowed, its id tells the receiver
    }

    [Fact]
    public async Task Username_and_password_connect_and_a_wrong_password_is_reported_but_never_logged()
    {
        const string user = "citysight";
        const string password = "Zq7-very-secret-9x";
        const string wrong = "Wr0ng-secret-Kp2";
        using var broker = new MqttBroker(user, password);
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-auth"));
        await store.OpenAsync(Case(1));

        var badLog = new CapturingLogger<MqttCasePublisher>();
        var badOptions = Options(broker, user, wrong);
        Assert.DoesNotContain(wrong, badOptions.ToString());
        using (var bad = new MqttCasePublisher(badOptions, store, badLog))
        {
            await bad.StartAsync(CancellationToken.None);
            await Wait.UntilAsync(() => bad.FailedConnects >= 2, "two refused connection attempts");
            Assert.False(bad.IsConnected);
            Assert.NotNull(bad.LastError);
            Assert.DoesNotContain(wrong, bad.LastError);
            await bad.StopAsync(CancellationToken.None);
        }
        Assert.Contains(badLog.Lines, l => l.Contains("cannot connect", StringComparison.Ordinal));
        Assert.DoesNotContain(badLog.Lines, l => l.Contains(wrong, StringComparison.Ordinal) || l.Contains(password, StringComparison.Ordinal));
        Assert.Equal(0, await store.CursorAsync(badOptions.ConsumerName));

        await using var sub = await MqttCollector.ConnectAsync(broker.Port, "city/test/cases/#", user: user, password: password);
        var goodLog = new CapturingLogger<MqttCasePublisher>();
        using var good = new MqttCasePublisher(Options(broker, user, password), store, goodLog);
        await good.StartAsync(CancellationToken.None);
        await sub.WaitForAsync(m => m.Count >= 1, "the case");
        Assert.True(good.IsConnected);
        await good.StopAsync(CancellationToken.None);
        Assert.DoesNotContain(goodLog.Lines, l => l.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Camera_states_and_the_service_status_are_retained()
    {
        using var broker = new MqttBroker();
        using var store = new SqliteCaseStore(TestAssets.TempDir("mqtt-cams"));
        var publisher = new MqttCasePublisher(Options(broker), store, new CapturingLogger<MqttCasePublisher>());
        var t0 = new DateTimeOffset(2025, 3, 14, 8, 0, 0, TimeSpan.Zero);
        publisher.ReportCameraStatus(new MqttCameraStatus("cam-1", "streaming", null, t0));
        publisher.ReportCameraStatus(new MqttCameraStatus("cam-2", "offline", "connection refused", t0));
        await publisher.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => publisher.IsConnected, "connected");

        // Subscribed after they were published: only retained messages can reach this subscriber.
        await using (var late = await MqttCollector.ConnectAsync(broker.Port, "city/test/#"))
        {
            var got = await late.WaitForAsync(m => m.Count(x => x.Topic.Contains("/cameras/")) >= 2 && m.Any(x => x.Topic.EndsWith("/service/status")),
                "2 camera states and the service status");
            Assert.All(got, m => Assert.True(m.Retain));
            var cam2 = got.Single(m => m.Topic == "city/test/cameras/cam-2/status");
            using var doc = JsonDocument.Parse(cam2.Payload);
            Assert.Equal("offline", doc.RootElement.GetProperty("state").GetString());
            Assert.Equal("connection refused", doc.RootElement.GetProperty("reason").GetString());
            Assert.Equal(t0, DateTimeOffset.Parse(doc.RootElement.GetProperty("since").GetString()!));
            Assert.Equal("online", got.Single(m => m.Topic == "city/test/service/status").Payload);

            publisher.ReportCameraStatus(new MqttCameraStatus("cam-2", "streaming", null, t0.AddMinutes(1)));   // a change goes out live
            await late.WaitForAsync(m => m.Any(x => x.Topic == "city/test/cameras/cam-2/status" && x.Payload.Contains("\"streaming\"")), "cam-2 streaming");
        }

        await publisher.StopAsync(CancellationToken.None);
        publisher.Dispose();
        await using var after = await MqttCollector.ConnectAsync(broker.Port, "city/test/service/status");
        var status = await after.WaitForAsync(m => m.Count >= 1, "the retained service status");
        Assert.Equal("offline", status[0].Payload);
    }
}
