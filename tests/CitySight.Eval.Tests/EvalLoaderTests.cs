using CitySight.Configuration;
using CitySight.Tests;

namespace CitySight.Eval.Tests;

/// <summary>
/// A broken scenario.yaml: <see cref="ScenarioLoader.Load"/> names the file, line, column and field of each mistake,
/// and <c>citysight eval</c> exits 2 without playing anything, also when the broken one is one of several.
/// </summary>
public class EvalLoaderTests
{
    private static readonly CitySightConfig BaseConfig = ConfigLoader.LoadOrThrow(Path.Combine(TestAssets.RepoRoot, "configs", "citysight.yaml"));

    /// <summary>A valid scenario, one item per line (line numbers below refer to it). Its video is clip.mp4 beside it.</summary>
    private static readonly string[] Good =
    [
        "# a test scenario",                                        // 1
        "cameras:",                                                 // 2
        "  - id: cam-a",                                            // 3
        "    name: Street",                                         // 4
        "    video: clip.mp4",                                      // 5
        "    latitude: 31.2",                                       // 6
        "    longitude: 121.4",                                     // 7
        "    sample_interval: 0.5s",                                // 8
        "    detectors: [illegal_parking]",                         // 9
        "rules:",                                                   // 10
        "  case_types:",                                            // 11
        "    illegal_parking: {min_dwell: 10s, stationary: true}",  // 12
        "expected:",                                                // 13
        "  - type: illegal_parking",                                // 14
        "    cameras: [cam-a]",                                     // 15
        "    at: [0.5, 0.7]",                                       // 16
        "    from: 10s",                                            // 17
        "    until: 20s",                                           // 18
    ];

    /// <summary>A scenario folder holding <see cref="Good"/> with the given lines (1-based) replaced, plus clip.mp4.</summary>
    private static string Write(string dir, params (int Line, string Text)[] changes)
    {
        Directory.CreateDirectory(dir);
        var lines = (string[])Good.Clone();
        foreach (var (line, text) in changes) lines[line - 1] = text;
        File.WriteAllText(Path.Combine(dir, ScenarioLoader.FileName), string.Join("\n", lines) + "\n");
        // The loader only needs the file to exist; nothing here plays it.
        File.WriteAllBytes(Path.Combine(dir, "clip.mp4"), [0]);
        return dir;
    }

    private static IReadOnlyList<ConfigError> LoadErrors(string folder)
    {
        var loaded = ScenarioLoader.Load(folder, mediaDir: null, BaseConfig);
        loaded.Scenario?.Dispose();
        Assert.True(loaded.Scenario is null, "a scenario with errors is not handed out");
        Assert.NotEmpty(loaded.Errors);
        return loaded.Errors;
    }

    private static string Show(IEnumerable<ConfigError> errors) => string.Join("\n", errors);

    [Fact]
    public void The_good_scenario_loads_with_its_camera_playing_the_video_and_its_event()
    {
        var dir = Write(TestAssets.TempDir("eval-load-good"));

        var loaded = ScenarioLoader.Load(dir, mediaDir: null, BaseConfig);
        using var s = loaded.Scenario;

        Assert.True(loaded.Errors.Count == 0, Show(loaded.Errors));
        Assert.NotNull(s);
        Assert.Equal(Path.GetFileName(dir), s.Name);
        var cam = Assert.Single(s.Config.Cameras);
        Assert.Equal("cam-a", cam.Id);
        Assert.Equal(Path.GetFullPath(Path.Combine(dir, "clip.mp4")), cam.Url);
        Assert.False(cam.RealTime);
        Assert.False(cam.Loop);
        Assert.Equal(TimeSpan.FromSeconds(10), s.Config.Rules.RuleFor("illegal_parking").MinDwell);
        var e = Assert.Single(s.Expected);
        Assert.Equal(new ExpectedEvent(0, 14, "illegal_parking", e.Cameras, 0.5, 0.7, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20))
        {
            TypeAt = (14, 11),
            CamerasAt = (15, 14),
        }, e);
        Assert.Equal(["cam-a"], e.Cameras);
        Assert.True(Directory.Exists(s.TempDir));
    }

    public static TheoryData<string, (int Line, string Text)[], int, int, string, string> Broken => new()
    {
        // name, changed lines, then the error's line, column, field and a piece of its message
        { "unknown top-level key", [(1, "notes: a typo of a key")], 1, 1, "notes", "unknown key" },
        { "camera without video", [(5, "    # no video")], 3, 5, "cameras[0].video", "required" },
        { "missing video file", [(5, "    video: nowhere.mp4")], 5, 12, "cameras[0].video", "no such video file: nowhere.mp4" },
        { "video climbing out of the folder", [(5, "    video: ../../../escape.mp4")], 5, 12, "cameras[0].video", "'../../../escape.mp4' climbs out" },
        { "unknown event key", [(17, "    start: 10s")], 17, 5, "expected[0].start", "unknown key" },
        { "at outside [0, 1]", [(16, "    at: [1.2, 0.7]")], 16, 9, "expected[0].at", "between 0 and 1" },
        { "at below 0", [(16, "    at: [0.5, -0.1]")], 16, 9, "expected[0].at", "between 0 and 1" },
        { "until before from", [(18, "    until: 5s")], 14, 5, "expected[0].until", "before 'from'" },
        { "a bad camera field, checked by the service's loader", [(6, "    latitude: 123.0")], 6, 15, "cameras[0].latitude", "" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_broken_scenario_yaml_is_reported_at_its_line_column_and_field(string what, (int Line, string Text)[] changes, int line, int column, string field, string message)
    {
        var dir = Write(TestAssets.TempDir("eval-load-bad"), changes);

        var errors = LoadErrors(dir);

        var hit = errors.FirstOrDefault(e => e.Field == field && e.Message.Contains(message));
        Assert.True(hit is not null, $"{what}: no error for {field} saying '{message}'; got:\n{Show(errors)}");
        Assert.Equal(Path.Combine(dir, "scenario.yaml"), hit.File);
        Assert.Equal((line, column), (hit.Line, hit.Column));
        Assert.Contains(message, hit.Message);
        Assert.StartsWith($"{Path.Combine(dir, "scenario.yaml")}:{line}:{column}: {field}: ", hit.ToString());
        Assert.All(errors, e => Assert.Equal(Path.Combine(dir, "scenario.yaml"), e.File));
    }

    [Fact]
    public void An_event_naming_a_camera_the_scenario_does_not_have_is_reported_on_that_event()
    {
        var dir = Write(TestAssets.TempDir("eval-load-cam"), (15, "    cameras: [cam-a, cam-z]"));

        var errors = LoadErrors(dir);

        var e = Assert.Single(errors);
        Assert.Equal("expected[0].cameras", e.Field);
        Assert.Contains("cam-z", e.Message);
        Assert.Equal(Path.Combine(dir, "scenario.yaml"), e.File);
        // The event starts on line 14; its cameras are on line 15. Either is the right place to look.
        Assert.True(e.Line is 14 or 15, e.ToString());
    }

    [Fact]
    public void Every_mistake_in_the_file_is_reported_at_once_in_line_order()
    {
        var dir = Write(TestAssets.TempDir("eval-load-many"), (1, "notes: x"), (5, "    video: nowhere.mp4"), (16, "    at: [2, 2]"));

        var errors = LoadErrors(dir);

        Assert.Contains(errors, e => (e.Line, e.Column, e.Field) == (1, 1, "notes") && e.Message.StartsWith("unknown key"));
        Assert.Contains(errors, e => (e.Line, e.Column, e.Field) == (5, 12, "cameras[0].video") && e.Message.StartsWith("no such video file"));
        Assert.Contains(errors, e => (e.Line, e.Column, e.Field) == (16, 9, "expected[0].at"));
        Assert.Equal(errors.OrderBy(e => e.Line).ThenBy(e => e.Column), errors);
    }

    // Each mistake is one error, in the scenario's own words (the service's loader sees a copy of the file).

    [Fact]
    public void A_missing_video_is_one_error_about_the_video()
    {
        var dir = Write(TestAssets.TempDir("eval-load-one-video"), (5, "    video: nowhere.mp4"));

        var errors = LoadErrors(dir);

        var e = Assert.Single(errors);
        Assert.Equal((5, 12, "cameras[0].video"), (e.Line, e.Column, e.Field));
    }

    [Fact]
    public void A_camera_without_video_is_one_error_about_the_video()
    {
        var dir = Write(TestAssets.TempDir("eval-load-no-video"), (5, "    # no video"));

        var errors = LoadErrors(dir);

        var e = Assert.Single(errors);
        Assert.Equal((3, 5, "cameras[0].video"), (e.Line, e.Column, e.Field));
    }

    [Fact]
    public void An_unknown_top_level_key_is_one_error()
    {
        var dir = Write(TestAssets.TempDir("eval-load-one-key"), (1, "notes: x"));

        var errors = LoadErrors(dir);

        var e = Assert.Single(errors);
        Assert.Equal((1, 1, "notes"), (e.Line, e.Column, e.Field));
    }

    [Fact]
    public void An_event_of_an_unknown_case_type_is_reported_at_its_type()
    {
        var dir = Write(TestAssets.TempDir("eval-load-type"), (14, "  - type: ilegal_parking"));

        var errors = LoadErrors(dir);

        var e = Assert.Single(errors);
        Assert.Equal((14, 11, "expected[0].type"), (e.Line, e.Column, e.Field));
    }

    [Fact]
    public void A_scenario_without_cameras_or_expected_is_refused()
    {
        var dir = TestAssets.TempDir("eval-load-empty");
        File.WriteAllText(Path.Combine(dir, "scenario.yaml"), "rules:\n  case_types: {}\n");

        var errors = LoadErrors(dir);

        Assert.Contains(errors, e => e.Field == "cameras" && e.Message.StartsWith("required"));
        Assert.Contains(errors, e => e.Field == "expected" && e.Message.StartsWith("required"));
    }

    [Fact]
    public void The_video_is_looked_for_in_the_media_folder_when_not_beside_the_scenario()
    {
        var dir = Write(TestAssets.TempDir("eval-load-media"), (5, "    video: elsewhere.mp4"));
        var media = TestAssets.TempDir("eval-load-media-dir");

        var missing = ScenarioLoader.Load(dir, media, BaseConfig);
        Assert.Null(missing.Scenario);
        var e = Assert.Single(missing.Errors, e => e.Message.StartsWith("no such video file"));
        Assert.Equal(("cameras[0].video", 5, 12), (e.Field, e.Line, e.Column));
        Assert.Contains(media, e.Message);

        File.WriteAllBytes(Path.Combine(media, "elsewhere.mp4"), [0]);
        var found = ScenarioLoader.Load(dir, media, BaseConfig);
        using var s = found.Scenario;
        Assert.True(found.Errors.Count == 0, Show(found.Errors));
        Assert.Equal(Path.GetFullPath(Path.Combine(media, "elsewhere.mp4")), Assert.Single(s!.Config.Cameras).Url);
    }

    // The command itself: exit 2 and the same messages on stderr.

    private static Task<(int Code, string Out, string Err)> Eval(params string[] args) =>
        CitysightProcess.RunAsync(TimeSpan.FromSeconds(180),
            ["eval", .. args, "--config", Path.Combine(TestAssets.RepoRoot, "configs", "citysight.yaml")]);

    [Fact]
    public async Task Eval_of_a_broken_scenario_exits_2_and_prints_file_line_column_field()
    {
        var dir = Write(TestAssets.TempDir("eval-cli-bad"), (16, "    at: [1.2, 0.7]"));
        var json = Path.Combine(dir, "out.json");

        var (code, stdout, stderr) = await Eval(dir, "--json", json);

        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains($"{Path.Combine(dir, "scenario.yaml")}:16:9: expected[0].at: ", stderr);
        Assert.Contains("eval: scenario invalid", stderr);
        Assert.Equal("", stdout.Trim());
        Assert.False(File.Exists(json), "no scores are written for a refused run");
    }

    [Fact]
    public async Task Eval_of_a_folder_without_scenarios_exits_2()
    {
        var dir = TestAssets.TempDir("eval-cli-none");

        var (code, _, stderr) = await Eval(dir);

        Assert.Equal(2, code);
        Assert.Contains("no scenario.yaml", stderr);
    }

    [Fact]
    public async Task One_broken_scenario_among_good_ones_refuses_the_whole_run_before_any_plays()
    {
        // Good ones before and after the broken one (scenarios run in name order), each playing a real clip: had any
        // been played, its "scenario NAME" score line would be on stdout.
        var root = TestAssets.TempDir("eval-cli-mixed");
        var clip = TestAssets.Media("highway-traffic-640x360.mp4");
        var marker = $"# marker {Guid.NewGuid():N}";
        Write(Path.Combine(root, "a-good"), (1, marker), (5, $"    video: {clip}"), (13, "expected: []"), (14, ""), (15, ""), (16, ""), (17, ""), (18, ""));
        var bad = Write(Path.Combine(root, "b-broken"), (5, $"    video: {clip}"), (15, "    cameras: [no-such-camera]"));
        Write(Path.Combine(root, "c-good"), (1, marker), (5, $"    video: {clip}"), (13, "expected: []"), (14, ""), (15, ""), (16, ""), (17, ""), (18, ""));
        var json = Path.Combine(root, "out.json");

        var (code, stdout, stderr) = await Eval(root, "--json", json);
        RemoveLeftTempFolders(marker);

        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains($"{Path.Combine(bad, "scenario.yaml")}:", stderr);
        Assert.Contains("expected[0].cameras", stderr);
        Assert.Contains("no-such-camera", stderr);
        Assert.Contains("eval: scenario invalid", stderr);
        Assert.DoesNotContain("a-good", stdout + stderr);
        Assert.DoesNotContain("c-good", stdout + stderr);
        Assert.DoesNotContain("precision", stdout);
        Assert.Equal("", stdout.Trim());
        Assert.False(File.Exists(json), "no scores are written for a refused run");
    }

    /// <summary>
    /// Deletes the loader's temporary folders (<c>citysight-eval/ID</c>, see the skipped test below) whose scenario copy
    /// holds this marker: a refused run leaves the good scenarios' ones behind today.
    /// </summary>
    private static void RemoveLeftTempFolders(string marker)
    {
        var evalTemp = Path.Combine(Path.GetTempPath(), "citysight-eval");
        if (!Directory.Exists(evalTemp)) return;
        foreach (var dir in Directory.EnumerateDirectories(evalTemp))
        {
            var copy = Path.Combine(dir, "cameras", ScenarioLoader.FileName);
            try
            {
                if (File.Exists(copy) && File.ReadAllText(copy).Contains(marker)) Directory.Delete(dir, recursive: true);
            }
            catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_refused_run_leaves_no_temporary_folder_behind()
    {
        // The loader copies scenario.yaml into <temp>/citysight-eval/<id>/cameras/; a marker finds this test's copies.
        var marker = $"# marker {Guid.NewGuid():N}";
        var root = TestAssets.TempDir("eval-cli-leak");
        Write(Path.Combine(root, "a-good"), (1, marker), (5, $"    video: {TestAssets.Media("highway-traffic-640x360.mp4")}"));
        Write(Path.Combine(root, "b-broken"), (1, marker), (16, "    at: [1.2, 0.7]"));

        var (code, stdout, stderr) = await Eval(root);

        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        try
        {
            var evalTemp = Path.Combine(Path.GetTempPath(), "citysight-eval");
            var left = Directory.Exists(evalTemp)
                ? Directory.EnumerateFiles(evalTemp, "scenario.yaml", SearchOption.AllDirectories).Where(f => File.ReadAllText(f).Contains(marker)).ToList()
                : [];
            Assert.Empty(left);
        }
        finally
        {
            RemoveLeftTempFolders(marker);
        }
    }
}
