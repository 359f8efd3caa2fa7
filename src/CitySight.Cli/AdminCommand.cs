using System.CommandLine;
using CitySight.Admin.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace CitySight.Cli;

/// <summary><c>citysight admin list|get|enable|disable|reload</c>: the CameraAdmin gRPC API from the console.</summary>
internal static class AdminCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "gRPC address of the service", DefaultValueFactory = _ => "http://127.0.0.1:50051", Recursive = true };
        var apiKeyEnv = new Option<string?>("--api-key-env") { Description = "Environment variable holding an x-api-key, when the service asks for one", Recursive = true };

        var group = new Option<string?>("--group") { Description = "Only this camera group" };
        var list = new Command("list", "List camera groups and their cameras with their states.") { group };
        list.SetAction((p, ct) => Call(p, server, apiKeyEnv, async (c, h) =>
        {
            var reply = await c.ListCamerasAsync(new ListCamerasRequest { GroupId = p.GetValue(group) ?? "" }, h, cancellationToken: ct);
            foreach (var g in reply.Groups)
            {
                Console.WriteLine($"group {g.Id}  {g.Name}{(g.District.Length > 0 ? "  (" + g.District + ")" : "")}");
                foreach (var cam in g.Cameras) Console.WriteLine("  " + Format(cam));
            }
            return 0;
        }));

        Command One(string name, string description, Func<CameraAdmin.CameraAdminClient, Metadata, string, CancellationToken, Task<CameraInfo>> call)
        {
            var id = new Argument<string>("camera-id") { Description = "Camera id" };
            var cmd = new Command(name, description) { id };
            cmd.SetAction((p, ct) => Call(p, server, apiKeyEnv, async (c, h) =>
            {
                Console.WriteLine(Format(await call(c, h, p.GetValue(id)!, ct)));
                return 0;
            }));
            return cmd;
        }

        var reload = new Command("reload", "Re-read the service's configuration files and apply camera changes (refused whole when invalid).");
        reload.SetAction((p, ct) => Call(p, server, apiKeyEnv, async (c, h) =>
        {
            var r = await c.ReloadConfigAsync(new ReloadConfigRequest(), h, cancellationToken: ct);
            if (!r.Ok)
            {
                Console.Error.WriteLine($"reload refused, nothing changed: {r.Errors.Count} error(s) in {r.SourceFile}");
                foreach (var e in r.Errors) Console.Error.WriteLine("  " + e);
                return 2;
            }
            Console.WriteLine($"reloaded {r.SourceFile}");
            foreach (var a in r.Added) Console.WriteLine($"  added    {a}");
            foreach (var x in r.Removed) Console.WriteLine($"  removed  {x}");
            foreach (var ch in r.Changed) Console.WriteLine($"  changed  {ch.CameraId}: {string.Join(", ", ch.Fields)}");
            foreach (var n in r.NeedsRestart) Console.WriteLine($"  restart  {n}");
            if (r.Added.Count + r.Removed.Count + r.Changed.Count == 0) Console.WriteLine("  no camera changes");
            return 0;
        }));

        return new Command("admin", "Camera administration over gRPC: states, enable/disable, configuration reload.")
        {
            server,
            apiKeyEnv,
            list,
            One("get", "Show one camera's state.", (c, h, id, ct) => c.GetCameraAsync(new GetCameraRequest { CameraId = id }, h, cancellationToken: ct).ResponseAsync),
            One("disable", "Stop a camera's stream (in memory: until the next reload or restart).", (c, h, id, ct) =>
                c.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = id, Enabled = false }, h, cancellationToken: ct).ResponseAsync),
            One("enable", "Start a camera's stream again (in memory: until the next reload or restart).", (c, h, id, ct) =>
                c.SetCameraEnabledAsync(new SetCameraEnabledRequest { CameraId = id, Enabled = true }, h, cancellationToken: ct).ResponseAsync),
            reload,
        };
    }

    private static async Task<int> Call(ParseResult p, Option<string> server, Option<string?> apiKeyEnv, Func<CameraAdmin.CameraAdminClient, Metadata, Task<int>> call)
    {
        var headers = new Metadata();
        if (p.GetValue(apiKeyEnv) is { } env)
        {
            var key = Environment.GetEnvironmentVariable(env);
            if (string.IsNullOrEmpty(key))
            {
                Console.Error.WriteLine($"admin: environment variable {env} is not set");
                return 1;
            }
            headers.Add("x-api-key", key);
        }
        using var channel = GrpcChannel.ForAddress(p.GetValue(server)!);
        try
        {
            return await call(new CameraAdmin.CameraAdminClient(channel), headers);
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"admin: {e.Status.StatusCode}: {e.Status.Detail}");
            return 1;
        }
    }

    public static string Format(CameraInfo c)
    {
        var state = c.State.ToString().ToLowerInvariant();
        var age = c.LastFrameAge is { } a ? $"  last frame {a.ToTimeSpan().TotalSeconds:F1} s ago" : "";
        var next = c.NextAttempt is { } n ? $"  next {n.ToDateTimeOffset().ToLocalTime():HH:mm:ss}" : "";
        var mode = c.Mode == IngestMode.Patrol ? "patrol" : "continuous";
        var node = c.Node.Length > 0 ? $"  node {c.Node}" : "";
        return $"{c.Id,-20} {state,-10} {mode,-10} {(c.Enabled ? "on" : "off")}{(c.Overridden ? " (admin)" : "")}{node}{age}{next}" +
               (c.Reason.Length > 0 ? $"  — {c.Reason}" : "");
    }
}
