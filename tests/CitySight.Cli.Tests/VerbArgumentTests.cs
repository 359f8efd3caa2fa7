using CitySight.Cli.Bench;
using CitySight.Tests;

namespace CitySight.Cli.Tests;

/// <summary>
/// The bench and eval verbs refuse bad arguments before they start anything: exit code 2 (or System.CommandLine's own
/// 1 for a value that is not even of the option's type) and one line that names the argument and what it takes.
/// </summary>
public class VerbArgumentTests
{
    private static Task<(int Code, string Out, string Err)> Citysight(params string[] args) =>
        CitysightProcess.RunAsync(TimeSpan.FromSeconds(60), args);

    [Theory]
    [InlineData("--batch", "0", "--batch 0: expected batch sizes from 1 to 1024")]
    [InlineData("--batch", "1,x", "--batch 1,x: expected batch sizes from 1 to 1024")]
    [InlineData("--streams", "0", "--streams 0: at least 1")]
    [InlineData("--frames", "0", "--frames 0: at least 1")]
    [InlineData("--provider", "tpu", "--provider tpu: expected cpu, cuda, tensorrt or openvino")]
    [InlineData("--max-wait", "soon", "--max-wait soon: use")]
    public async Task Bench_refuses_a_bad_argument_with_exit_code_2_and_a_line_naming_it(string option, string value, string message)
    {
        var (code, _, stderr) = await Citysight("bench", "--source", TestAssets.Media("bus.jpg"), option, value);

        Assert.Equal(2, code);
        Assert.Contains("bench: " + message, stderr);
    }

    [Fact]
    public async Task Bench_without_a_source_says_the_source_is_required()
    {
        var (code, _, stderr) = await Citysight("bench", "--batch", "1");

        Assert.NotEqual(0, code);
        Assert.Contains("--source", stderr);
        Assert.Contains("required", stderr);
    }

    [Fact]
    public async Task Bench_with_a_number_option_that_is_not_a_number_says_which_one()
    {
        var (code, _, stderr) = await Citysight("bench", "--source", TestAssets.Media("bus.jpg"), "--frames", "many");

        Assert.NotEqual(0, code);
        Assert.Contains("many", stderr);
        Assert.Contains("--frames", stderr);
    }

    [Theory]
    [InlineData("--cases", "0", "--cases 0: at least 1")]
    [InlineData("--ack-every", "0", "--ack-every 0: at least 1")]
    [InlineData("--rounds", "0", "--rounds 0: at least 1")]
    [InlineData("--timeout", "0", "--timeout: more than 0")]
    public async Task Bench_feed_refuses_a_bad_argument_with_exit_code_2_and_a_line_naming_it(string option, string value, string message)
    {
        var (code, _, stderr) = await Citysight("bench-feed", option, value);

        Assert.Equal(2, code);
        Assert.Contains("bench-feed: " + message, stderr);
    }

    [Fact]
    public async Task Bench_ingest_continuous_refuses_camera_counts_that_are_not_whole_numbers_of_one_or_more()
    {
        var (code, _, stderr) = await Citysight("bench-ingest", "continuous", "--cameras", "4,eight");

        Assert.Equal(2, code);
        Assert.Contains("bench-ingest: --cameras 4,eight: expected camera counts of 1 or more", stderr);
    }

    [Fact]
    public async Task Eval_of_a_folder_without_scenarios_says_so_and_runs_nothing()
    {
        var dir = TestAssets.TempDir("cli-eval-empty");

        var (code, stdout, stderr) = await Citysight("eval", dir);

        Assert.Equal(2, code);
        Assert.Contains($"eval: {dir} holds no scenario.yaml, and no folder in it does", stderr);
        Assert.DoesNotContain("precision", stdout);
    }

    [Theory]
    [InlineData("4,8,16", new[] { 4, 8, 16 })]
    [InlineData(" 2 , 3 ", new[] { 2, 3 })]
    [InlineData("0", null)]
    [InlineData("-1", null)]
    [InlineData("x", null)]
    [InlineData("", null)]
    public void Camera_counts_parse_as_comma_separated_whole_numbers_of_one_or_more(string text, int[]? expected)
    {
        Assert.Equal(expected, IngestBenchCommand.CameraCounts(text)?.ToArray());
    }
}
