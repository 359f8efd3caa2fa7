using System.Globalization;
using CitySight.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CitySight.Eval;

/// <summary>One event of the ground truth.</summary>
public sealed record ExpectedEvent(int Index, int Line, string Type, IReadOnlyList<string> Cameras, double X, double Y, TimeSpan From, TimeSpan Until)
{
    /// <summary>Where its type and its camera list are written (line, column), for errors; the event's line by default.</summary>
    public (int Line, int Column) TypeAt { get; init; } = (Line, 1);
    public (int Line, int Column) CamerasAt { get; init; } = (Line, 1);
}

/// <summary>A loaded scenario: a service config whose cameras play the scenario's videos, and its expected events.</summary>
public sealed class Scenario(string name, string folder, CitySightConfig config, IReadOnlyList<ExpectedEvent> expected, string tempDir) : IDisposable
{
    public string Name { get; } = name;
    public string Folder { get; } = folder;
    public CitySightConfig Config { get; } = config;
    public IReadOnlyList<ExpectedEvent> Expected { get; } = expected;
    public string TempDir { get; } = tempDir;

    public void Dispose()
    {
        try { Directory.Delete(TempDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed record ScenarioLoad(Scenario? Scenario, IReadOnlyList<ConfigError> Errors);

/// <summary>
/// Reads scenario.yaml. Its camera, rule and dedup sections are checked by the service's own <see cref="ConfigLoader"/>:
/// the file is copied twice into a temporary folder, line for line (sections that do not belong blanked out, and
/// <c>video:</c> renamed to <c>url:</c>), as a citysight.yaml and a camera group file, so every camera field works as in
/// the service and every error points at scenario.yaml's own line and column.
/// </summary>
public static class ScenarioLoader
{
    public const string FileName = "scenario.yaml";
    private static readonly string[] TopKeys = ["cameras", "expected", "group", "rules", "dedup", "case_types", "models", "ingest"];
    private static readonly string[] MainOnly = ["rules", "dedup", "case_types", "models", "ingest"];
    private static readonly string[] EventKeys = ["type", "cameras", "at", "from", "until"];

    public static ScenarioLoad Load(string folder, string? mediaDir, CitySightConfig baseConfig)
    {
        var path = Path.Combine(folder, FileName);
        var errors = new List<ConfigError>();
        void Error(Mark m, string field, string message) => errors.Add(new ConfigError(path, (int)m.Line, (int)m.Column, field, message));

        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException ex) { errors.Add(new ConfigError(path, 0, 0, "", ex.Message)); return new(null, errors); }

        YamlMappingNode? root;
        var scanner = new Scanner(new StringReader(text));
        try
        {
            var stream = new YamlStream();
            stream.Load(new Parser(scanner));
            root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode as YamlMappingNode : null;
        }
        catch (YamlException ex)
        {
            errors.Add(new ConfigError(path, (int)ex.Start.Line, (int)ex.Start.Column, "", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}"));
            return new(null, errors);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 18 throws this, with no position, for some unclosed flow collections (as the config loader
            // knows); the scanner stopped where it gave up.
            Error(scanner.CurrentPosition, "", "not valid YAML: the parser stopped here; look above for an unclosed '[', '{' or quote");
            return new(null, errors);
        }
        catch (ArgumentException)
        {
            // YamlDotNet 18's "unsupported event", for an alias where it cannot build a node.
            Error(scanner.CurrentPosition, "", "not valid YAML: the parser stopped here; look for a misplaced alias (*name) or indentation");
            return new(null, errors);
        }
        if (root is null)
        {
            errors.Add(new ConfigError(path, 1, 1, "", "expected a mapping with 'cameras' and 'expected'"));
            return new(null, errors);
        }

        // Where each top-level section starts, in file order, so each can be blanked out of the copy it does not belong in.
        var sections = new List<(string Key, int Line)>();
        foreach (var (k, _) in root.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            if (!TopKeys.Contains(key)) Error(k.Start, key, $"unknown key; expected one of: {string.Join(", ", TopKeys)}");
            // Unknown sections stay in the list so that both copies blank them: reported once, here.
            sections.Add((key, (int)k.Start.Line));
        }
        if (!sections.Any(s => s.Key == "cameras")) Error(root.Start, "cameras", "required: the cameras that play the scenario's videos");
        if (!sections.Any(s => s.Key == "expected")) Error(root.Start, "expected", "required: the events that must each become one case (may be [])");

        var tempDir = Path.Combine(Path.GetTempPath(), "citysight-eval", Guid.NewGuid().ToString("N"));
        var camDir = Path.Combine(tempDir, "cameras");
        Directory.CreateDirectory(camDir);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        string[] Keep(Func<string, bool> keep)
        {
            var copy = (string[])lines.Clone();
            var ordered = sections.OrderBy(s => s.Line).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                if (keep(ordered[i].Key)) continue;
                var end = i + 1 < ordered.Count ? ordered[i + 1].Line - 1 : copy.Length;
                for (var l = ordered[i].Line; l <= end && l <= copy.Length; l++) copy[l - 1] = "";
            }
            return copy;
        }

        // Camera group file: cameras (+ group), with video: → url: and each video linked beside it.
        var camLines = Keep(k => k is "cameras" or "group");
        var videos = new Dictionary<string, string>(StringComparer.Ordinal);
        var noVideo = new HashSet<string>(StringComparer.Ordinal);   // cameras[i] already reported: their url errors are ours
        if (root.Children.TryGetValue(new YamlScalarNode("cameras"), out var camsNode) && camsNode is YamlSequenceNode cams)
        {
            var i = 0;
            foreach (var cam in cams.Children)
            {
                var field = $"cameras[{i++}]";
                if (cam is not YamlMappingNode cm) continue; // the loader says what is wrong
                if (cm.Children.ContainsKey(new YamlScalarNode("url")))
                    Error(cm.Start, field + ".url", "a scenario camera plays its 'video'; give video, not url");
                var videoKey = cm.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: "video" });
                if (videoKey is null)
                {
                    Error(cm.Start, field + ".video", "required: the video file this camera plays");
                    noVideo.Add(field);
                    continue;
                }
                // "video" → "url" padded to the key's own width (quotes included): line and column stay the same.
                if (videoKey.Start.Line == videoKey.End.Line)
                {
                    var kl = (int)videoKey.Start.Line - 1;
                    var kc = (int)videoKey.Start.Column - 1;
                    var width = (int)(videoKey.End.Column - videoKey.Start.Column);
                    camLines[kl] = camLines[kl][..kc] + "url".PadRight(width) + camLines[kl][(kc + width)..];
                }
                var raw = (cm.Children[videoKey] as YamlScalarNode)?.Value?.Trim() ?? "";
                // The video is linked under the run's own folder by this name: a name climbing out of it would place a
                // link anywhere the user may write.
                if (!Path.IsPathRooted(raw) && !Path.GetFullPath(Path.Combine(camDir, raw)).StartsWith(camDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    Error(cm.Children[videoKey].Start, field + ".video",
                        $"'{raw}' climbs out of the scenario's folder; name a file in it or in the media folder, or give an absolute path");
                    noVideo.Add(field);
                    continue;
                }
                var found = FindVideo(folder, mediaDir, raw);
                if (found is null)
                {
                    Error(cm.Children[videoKey].Start, field + ".video",
                        $"no such video file: {raw} (looked in {folder}{(mediaDir is null ? "; pass --media DIR or run scenarios/make-media.sh" : $" and {mediaDir}")})");
                    noVideo.Add(field);
                    continue;
                }
                var full = Path.GetFullPath(found);
                if (!Path.IsPathRooted(raw) && raw.Length > 0)
                {
                    var link = Path.Combine(camDir, raw);
                    Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                    if (!File.Exists(link)) File.CreateSymbolicLink(link, full);
                }
                if (cm.Children.TryGetValue(new YamlScalarNode("id"), out var id) && id is YamlScalarNode { Value: { } idText })
                    videos[idText.Trim()] = full;
            }
        }
        else if (root.Children.ContainsKey(new YamlScalarNode("cameras")))
            Error(root.Children[new YamlScalarNode("cameras")].Start, "cameras", "expected a list of cameras");

        var name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        var camFile = Path.Combine(camDir, "scenario.yaml");
        var camText = string.Join("\n", camLines);
        if (!sections.Any(s => s.Key == "group")) camText += $"\ngroup: {{id: eval, name: \"scenario {name}\"}}\n";
        File.WriteAllText(camFile, camText);
        var mainFile = Path.Combine(tempDir, "citysight.yaml");
        File.WriteAllText(mainFile, string.Join("\n", Keep(k => MainOnly.Contains(k))) + "\ncameras: cameras\n");

        var expected = ReadExpected(root, path, errors);

        var loaded = ConfigLoader.Load(mainFile);
        foreach (var e in loaded.Errors)
        {
            // A camera whose video was already found wanting: the service's word on its url would only repeat it.
            if (noVideo.Any(f => e.Field == f + ".url" || e.Field.StartsWith(f + ".url.", StringComparison.Ordinal))) continue;
            errors.Add(e with { File = path });
        }
        if (loaded.Config is { } known)
        {
            var types = known.CaseTypes.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var ev in expected.Where(ev => !types.Contains(ev.Type)))
                errors.Add(new ConfigError(path, ev.TypeAt.Line, ev.TypeAt.Column, $"expected[{ev.Index}].type",
                    $"unknown case type '{ev.Type}'; known: {string.Join(", ", types.Order(StringComparer.Ordinal))}"));
        }
        if (errors.Count > 0 || loaded.Config is not { } cfg)
        {
            try { Directory.Delete(tempDir, true); } catch (IOException) { }
            return new(null, errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
        }

        var config = cfg with
        {
            SourceFile = path,
            Service = cfg.Service with
            {
                DataDir = Path.Combine(tempDir, "data"),
                TimeZone = baseConfig.Service.TimeZone,
            },
            Models = sections.Any(s => s.Key == "models") ? cfg.Models : baseConfig.Models,
            // As fast as it decodes, on the file's own clock, once through.
            Groups = cfg.Groups.Select(g => g with
            {
                Cameras = g.Cameras.Select(c => c with { Url = videos.GetValueOrDefault(c.Id, c.Url), RealTime = false, Loop = false }).ToList(),
            }).ToList(),
        };
        var cameraIds = config.Cameras.Select(c => c.Id).ToHashSet();
        foreach (var ev in expected)
            foreach (var c in ev.Cameras.Where(c => !cameraIds.Contains(c)))
                errors.Add(new ConfigError(path, ev.CamerasAt.Line, ev.CamerasAt.Column, $"expected[{ev.Index}].cameras", $"no camera '{c}' in this scenario"));
        if (errors.Count > 0)
        {
            try { Directory.Delete(tempDir, true); } catch (IOException) { }
            return new(null, errors);
        }
        return new(new Scenario(name, folder, config, expected, tempDir), errors);
    }

    /// <summary>The folder itself when it is a scenario, else its sub-folders that are, by name; null when none.</summary>
    public static List<string>? Folders(string root)
    {
        if (!Directory.Exists(root)) return null;
        if (File.Exists(Path.Combine(root, FileName))) return [root];
        var subs = Directory.EnumerateDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, FileName)))
            .Order(StringComparer.Ordinal)
            .ToList();
        return subs.Count > 0 ? subs : null;
    }

    private static string? FindVideo(string folder, string? mediaDir, string raw)
    {
        if (raw.Length == 0) return null;
        if (Path.IsPathRooted(raw)) return File.Exists(raw) ? raw : null;
        var beside = Path.Combine(folder, raw);
        if (File.Exists(beside)) return beside;
        if (mediaDir is not null && File.Exists(Path.Combine(mediaDir, raw))) return Path.Combine(mediaDir, raw);
        return null;
    }

    internal static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static List<ExpectedEvent> ReadExpected(YamlMappingNode root, string path, List<ConfigError> errors)
    {
        var result = new List<ExpectedEvent>();
        void Error(Mark m, string field, string message) => errors.Add(new ConfigError(path, (int)m.Line, (int)m.Column, field, message));
        if (!root.Children.TryGetValue(new YamlScalarNode("expected"), out var node)) return result;
        if (node is YamlScalarNode { Value: "" or null }) return result;
        if (node is not YamlSequenceNode seq)
        {
            Error(node.Start, "expected", "expected a list of events");
            return result;
        }
        var i = 0;
        foreach (var item in seq.Children)
        {
            var field = $"expected[{i}]";
            var index = i++;
            if (item is not YamlMappingNode m)
            {
                Error(item.Start, field, "expected a mapping with type, cameras, at, from, until");
                continue;
            }
            foreach (var k in m.Children.Keys)
                if (k is not YamlScalarNode { Value: { } kv } || !EventKeys.Contains(kv))
                    Error(k.Start, field + "." + (k as YamlScalarNode)?.Value, $"unknown key; expected one of: {string.Join(", ", EventKeys)}");
            YamlNode? Get(string key)
            {
                if (m.Children.TryGetValue(new YamlScalarNode(key), out var v)) return v;
                Error(m.Start, $"{field}.{key}", "required");
                return null;
            }
            var ok = true;
            string? type = null;
            if (Get("type") is { } t)
            {
                if (t is YamlScalarNode { Value: { Length: > 0 } tv }) type = tv.Trim();
                else { Error(t.Start, field + ".type", "expected a case type, e.g. illegal_parking"); ok = false; }
            }
            else ok = false;
            var cameras = new List<string>();
            if (Get("cameras") is { } c)
            {
                if (c is YamlSequenceNode cs && cs.Children.Count > 0 && cs.Children.All(x => x is YamlScalarNode))
                    cameras.AddRange(cs.Children.Select(x => ((YamlScalarNode)x).Value!.Trim()));
                else { Error(c.Start, field + ".cameras", "expected a non-empty list of camera ids, e.g. [cam-a]"); ok = false; }
            }
            else ok = false;
            double x = 0, y = 0;
            if (Get("at") is { } a)
            {
                if (a is YamlSequenceNode { Children.Count: 2 } ats
                    && ats.Children[0] is YamlScalarNode { Value: { } xs } && double.TryParse(xs, NumberStyles.Float, CultureInfo.InvariantCulture, out x)
                    && ats.Children[1] is YamlScalarNode { Value: { } ys } && double.TryParse(ys, NumberStyles.Float, CultureInfo.InvariantCulture, out y)
                    && x is >= 0 and <= 1 && y is >= 0 and <= 1) { }
                else { Error(a.Start, field + ".at", "expected a normalised image point [x, y], each between 0 and 1"); ok = false; }
            }
            else ok = false;
            TimeSpan? Time(string key)
            {
                if (Get(key) is not { } v) return null;
                if (v is YamlScalarNode { Value: { } s } && Durations.TryParse(s.Trim(), out var d) && d >= TimeSpan.Zero) return d;
                Error(v.Start, $"{field}.{key}", $"expected a video time ({Durations.AcceptedForms})");
                return null;
            }
            var from = Time("from");
            var until = Time("until");
            if (from is null || until is null) ok = false;
            else if (until < from) { Error(m.Start, field + ".until", "is before 'from'"); ok = false; }
            if (ok)
            {
                var typeNode = m.Children[new YamlScalarNode("type")];
                var camerasNode = m.Children[new YamlScalarNode("cameras")];
                result.Add(new ExpectedEvent(index, (int)m.Start.Line, type!, cameras, x, y, from!.Value, until!.Value)
                {
                    TypeAt = ((int)typeNode.Start.Line, (int)typeNode.Start.Column),
                    CamerasAt = ((int)camerasNode.Start.Line, (int)camerasNode.Start.Column),
                });
            }
        }
        return result;
    }
}
