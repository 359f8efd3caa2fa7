using System.Text.Json;

namespace CitySight.Bench.Tests;

/// <summary>The figures the benches report, on hand-made numbers: percentiles, medians, rounds, and the JSON report's shape.</summary>
public class BenchFiguresTests
{
    [Theory]
    [InlineData(0.50, 5)]
    [InlineData(0.95, 10)]
    [InlineData(0.99, 10)]
    [InlineData(0.10, 1)]
    [InlineData(0.11, 2)]
    public void Percentiles_are_nearest_rank_of_the_sorted_values(double q, double expected)
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(expected, InferenceBench.Percentile(sorted, q));
    }

    [Fact]
    public void A_percentile_of_nothing_is_nan()
    {
        Assert.True(double.IsNaN(InferenceBench.Percentile([], 0.5)));
    }

    [Fact]
    public void Latency_figures_are_nearest_rank_percentiles_max_and_mean_rounded_to_microseconds_and_none_for_no_values()
    {
        var values = Enumerable.Range(1, 100).Select(i => i / 10.0).Reverse().ToArray(); // 10.0 … 0.1, unsorted on purpose

        var stats = FeedBench.Stats(values)!;

        Assert.Equal(new LatencyFigures(100, 5.0, 9.5, 9.9, 10.0, 5.05), stats);
        Assert.Null(FeedBench.Stats([]));
    }

    [Theory]
    [InlineData(new double[] { 3, 1, 2 }, 2)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 2.5)]
    [InlineData(new double[] { 7 }, 7)]
    public void The_median_of_the_rounds_is_the_middle_value_or_the_mean_of_the_two_middle_ones(double[] values, double expected)
    {
        Assert.Equal(expected, FeedBench.Median(values, v => v));
    }

    [Fact]
    public void The_median_of_no_rounds_is_nan()
    {
        Assert.True(double.IsNaN(FeedBench.Median([], v => v)));
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(100, 2)]
    [InlineData(200, 4)]
    [InlineData(10_000, 4)]
    public void Rounds_default_to_one_per_fifty_frames_from_one_to_four(int frames, int rounds)
    {
        Assert.Equal(rounds, InferenceBench.DefaultRounds(frames));
    }

    [Fact]
    public void The_warm_up_is_at_least_eight_frames_or_two_full_batches_per_session_and_batch_one_waits_for_no_company()
    {
        Assert.Equal(8, InferenceBench.WarmupFrames(1, 1));
        Assert.Equal(32, InferenceBench.WarmupFrames(4, 4));
        Assert.Equal(TimeSpan.Zero, InferenceBench.DefaultMaxWait(1));
        Assert.Equal(TimeSpan.FromMilliseconds(5), InferenceBench.DefaultMaxWait(8));
    }

    [Fact]
    public void The_json_report_puts_the_best_batch_at_the_top_and_every_batch_under_runs_in_snake_case()
    {
        var records = new[] { Record(batch: 1, fps: 30), Record(batch: 4, fps: 55.5), Record(batch: 8, fps: 50) };

        using var doc = JsonDocument.Parse(BenchReport.ToJson(records));
        var root = doc.RootElement;

        Assert.Equal(4, root.GetProperty("batch").GetInt32());
        Assert.Equal(55.5, root.GetProperty("pipeline_fps").GetDouble());
        Assert.Equal(new[] { 1, 4, 8 }, root.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("batch").GetInt32()));
        Assert.Equal(12.5, root.GetProperty("latency_ms").GetProperty("p99").GetDouble());
    }

    private static BenchRecord Record(int batch, double fps) => new(
        "CPU: test", "CPUExecutionProvider", "cpu", null, "yolov8n", "/media/clip.mp4", "video", 4, 0, batch, 1, batch, true, 5,
        fps, fps * 1.05, Math.Round(1 / 1.05, 4), new LatencyMs(5, 10, 12.5, 6, 20), 0.9, 180, 190, 2, 200, 8, 4, 3.6, 210, 3.5);
}
