using System.Collections;
using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace CitySight.Configuration.Tests;

/// <summary>
/// Every key in <see cref="ConfigKeys"/> is read by the loader and lands where its declaration says, with the default
/// its declaration reads from the record. A key cannot be accepted without a declaration (the loader's allowed keys
/// come from it), so together these catch a key added in one place and not the other.
/// </summary>
public class KeyRegistryTests
{
    public static TheoryData<string> LeafKeys => [.. ConfigKeys.All.Where(k => k.IsLeaf).Select(k => k.ToString())];

    [Theory]
    [MemberData(nameof(LeafKeys))]
    public void A_declared_key_set_to_its_sample_changes_where_it_lands_and_its_default_is_what_loads(string id)
    {
        var key = ConfigKeys.All.Single(k => k.ToString() == id);
        Assert.False(string.IsNullOrWhiteSpace(key.Description), $"{key} has no description");
        Assert.NotNull(key.Sample);
        Assert.NotNull(key.Loaded);

        var (baseline, written) = Load(key, set: false);
        var (changed, _) = Load(key, set: true);

        Assert.NotEqual(Text(key.Loaded(baseline)), Text(key.Loaded(changed)));
        if (key.Default is { } d && !written)
            Assert.Equal(Text(d()), Text(key.Loaded(baseline)));
    }

    [Fact]
    public void Every_key_sits_in_a_declared_section_and_every_section_has_keys()
    {
        var paths = ConfigKeys.All.ToLookup(k => k.File);
        foreach (var key in ConfigKeys.All)
        {
            var parent = key.Parent.EndsWith("[]", StringComparison.Ordinal) ? key.Parent[..^2] : key.Parent;
            if (parent.EndsWith(".TYPE", StringComparison.Ordinal)) parent = parent[..^5];
            if (parent.Length > 0)
                Assert.True(paths[key.File].Any(p => p.Path == parent && !p.IsLeaf || p.Path == parent && p.Kind == ConfigKeyKind.Structured),
                    $"{key}: its parent {parent} is not declared as a section, list or map");
        }
        foreach (var container in ConfigKeys.All.Where(k => !k.IsLeaf))
        {
            var under = container.Kind switch
            {
                ConfigKeyKind.List => container.Path + "[]",
                ConfigKeyKind.MapById => container.Path + ".TYPE",
                _ => container.Path,
            };
            Assert.NotEmpty(ConfigKeys.NamesUnder(container.File, under));
        }
    }

    // ---- Loading one key: the smallest valid files that hold it, with or without its sample value ----

    private const string CameraFile =
        "group: {id: g, name: G, defaults: {detectors: [illegal_parking, garbage]}}\n" +
        "cameras:\n  - {id: c1, name: C, url: clip.mp4, latitude: 31.2, longitude: 121.4}\n";

    /// <summary>The api_keys_env a created delivery.grpc holds: another than the samples' variable, so that key's sample changes it.</summary>
    private const string BaseKeysEnv = "CITYSIGHT_SAMPLE_BASE_KEYS";

    /// <summary>What a section or list holds when a test must create it: its required keys.</summary>
    private static readonly Dictionary<string, string> Containers = new()
    {
        ["models.run"] = "[{model: m1}]",
        ["case_types"] = "[{id: illegal_parking, name_en: Sample parking}]",
        ["delivery.mqtt"] = "{host: broker.example, username: u}",
        ["delivery.mqtt.tls"] = "{client_cert: a.pem, client_key: b.pem}",
        // outcome_consumers needs consumer authentication.
        ["delivery.grpc"] = "{api_keys_env: " + BaseKeysEnv + "}",
        ["delivery.grpc.tls"] = "{cert: a.pem, key: b.pem}",
        // backend: postgres needs connection_string_env (another than the sample's variable, so that key's sample changes it).
        ["store"] = "{postgres: {connection_string_env: " + BaseKeysEnv + "}}",
        ["delivery.push"] = "{endpoint: http://dispatch.example, client_cert: a.pem, client_key: b.pem}",
        ["cameras[].zones"] = "[{name: z1, polygon: [[0, 0], [1, 0], [1, 1]]}]",
        ["cameras[].zones[].schedule"] = "{days: [mon], hours: [\"08:00-20:00\"]}",
        ["cameras[].ground"] = "[{image: [0.1, 0.9], lat: 31.2, lon: 121.4}, {image: [0.9, 0.9], lat: 31.2, lon: 121.401}, "
                               + "{image: [0.8, 0.4], lat: 31.201, lon: 121.401}, {image: [0.2, 0.4], lat: 31.201, lon: 121.4}]",
    };

    /// <summary>Loads a config holding the key's section (and its sample when <paramref name="set"/>); says whether the base files already wrote the key.</summary>
    private static (CitySightConfig Config, bool Written) Load(ConfigKey key, bool set)
    {
        var cfg = new TestConfig();
        foreach (var name in new[] { "a.pem", "b.pem", "sample.pem" }) File.WriteAllText(Path.Combine(cfg.Dir, name), "x");
        var cameraPath = cfg.Camera("g.yaml", "");
        File.WriteAllText(Path.Combine(cfg.CamerasDir, "clip.mp4"), "");
        foreach (var env in ConfigKeys.All.Where(k => k.Kind == ConfigKeyKind.EnvName).Select(k => k.Sample!).Distinct())
            Environment.SetEnvironmentVariable(env, "sample-secret-0123456789abcdef");
        Environment.SetEnvironmentVariable(BaseKeysEnv, "sample-secret-0123456789abcdef");

        var main = new YamlMappingNode();
        var doc = new YamlStream();
        doc.Load(new StringReader(CameraFile));
        var camera = (YamlMappingNode)doc.Documents[0].RootNode;
        var written = Place(key.File == ConfigFile.Main ? main : camera, key, set);
        File.WriteAllText(cfg.MainPath, Save(main));
        File.WriteAllText(cameraPath, Save(camera));

        var result = cfg.Load();
        Assert.True(result.Success, $"{key} {(set ? $"= {key.Sample}" : "(not set)")}:\n{TestConfig.AllErrors(result)}\n{File.ReadAllText(cfg.MainPath)}\n{File.ReadAllText(cameraPath)}");
        return (result.Config!, written);
    }

    /// <summary>Walks the key's path (creating sections and first list items as needed) and sets the sample there.</summary>
    private static bool Place(YamlMappingNode root, ConfigKey key, bool set)
    {
        var map = root;
        var parts = key.Path.Split('.');
        var soFar = "";
        foreach (var part in parts[..^1])
        {
            var isList = part.EndsWith("[]", StringComparison.Ordinal);
            var name = isList ? part[..^2] : part == "TYPE" ? "illegal_parking" : part;
            var at = soFar.Length == 0 ? (isList ? name : part) : $"{soFar}.{(isList ? name : part)}";
            var node = Get(map, name);
            if (node is null)
            {
                node = Parse(Containers.GetValueOrDefault(at, isList ? "[{}]" : "{}"));
                map.Children[new YamlScalarNode(name)] = node;
            }
            map = isList ? (YamlMappingNode)((YamlSequenceNode)node).Children[0] : (YamlMappingNode)node;
            soFar = soFar.Length == 0 ? part : $"{soFar}.{part}";
        }
        var last = parts[^1];
        var written = Get(map, last) is not null;
        if (set)
        {
            if (Get(map, last) is not null) map.Children.Remove(map.Children.Keys.First(k => k is YamlScalarNode s && s.Value == last));
            map.Children[new YamlScalarNode(last)] = Parse(key.Sample!);
        }
        return written;
    }

    private static YamlNode? Get(YamlMappingNode map, string name) =>
        map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode s && s.Value == name).Value;

    private static YamlNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader("v: " + yaml));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("v")];
    }

    private static string Save(YamlMappingNode root)
    {
        if (root.Children.Count == 0) return "";
        var w = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(w, assignAnchors: false);
        return w.ToString();
    }

    /// <summary>Values compared as text, lists item by item.</summary>
    private static string Text(object? value) => value switch
    {
        null => "<none>",
        string s => s,
        IEnumerable e => string.Join(";", e.Cast<object?>().Select(Text)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
