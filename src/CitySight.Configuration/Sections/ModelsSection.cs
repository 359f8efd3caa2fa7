using CitySight.Domain;
using CitySight.Inference;
using YamlDotNet.Core;

namespace CitySight.Configuration;

/// <summary>models: the manifest, where model files are, and the models run at once (models.run or its shorthand).</summary>
internal static class ModelsSection
{
    public static ModelSettings Read(Section top)
    {
        var m = new ModelSettings();
        if (top.Child("models") is not { } sec) return m;
        m = m with
        {
            Manifest = sec.Text("manifest") is { Length: > 0 } p ? sec.Src.Resolve(p) : m.Manifest,
            SearchPaths = sec.TextList("search_paths") is { } paths
                ? paths.Where(x => x.Value.Length > 0).Select(x => sec.Src.Resolve(x.Value)).ToList()
                : m.SearchPaths,
            StaticObjects = StaticObjectsSection.Read(sec),
        };

        // detector/threads: the one-model-on-CPU shorthand, kept for existing configs.
        var detector = sec.Has("detector") ? sec.Text("detector", required: true) : null;
        var threads = sec.Int("threads");
        if (!sec.Has("run"))
        {
            var one = new ModelRun { Model = detector ?? m.Run[0].Model };
            return m with { Run = [one with { Detector = one.Detector with { Threads = threads ?? one.Detector.Threads } }] };
        }

        foreach (var key in new[] { "detector", "threads" })
            if (sec.Has(key))
                sec.Src.Error(sec.KeyMark(key), sec.Field(key), "give either run (a list of models) or detector/threads, not both");

        if (sec.List("run") is not { } seq) return m;
        if (seq.Children.Count == 0)
        {
            sec.Src.Error(sec.KeyMark("run"), sec.Field("run"), "the list is empty: name at least one model to run");
            return m;
        }
        var run = new List<ModelRun>();
        var firstAt = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in seq.Children)
        {
            var path = sec.Field($"run[{i++}]");
            if (Section.Open(sec.Src, item, path, item.Start, "models.run[]") is not { } r) continue;
            if (r.Text("model", required: true) is not { } model) continue;
            if (firstAt.TryGetValue(model, out var first))
            {
                sec.Src.Error(r.Value("model")!.Start, r.Field("model"), $"model '{model}' is listed twice (first at line {first.Line})");
                continue;
            }
            firstAt[model] = r.Value("model")!.Start;
            var d = new DetectorOptions();
            run.Add(new ModelRun { Model = model, Detector = d with
            {
                Provider = r.Choice<ExecutionProvider>("provider") ?? d.Provider,
                DeviceId = r.Int("device_id") ?? d.DeviceId,
                Threads = r.Int("threads") ?? d.Threads,
                MaxBatch = r.Int("max_batch") ?? d.MaxBatch,
                MaxWait = r.Duration("max_wait") ?? d.MaxWait,
                Instances = r.Int("instances") ?? d.Instances,
            } });
        }
        return run.Count > 0 ? m with { Run = run } : m;
    }
}
