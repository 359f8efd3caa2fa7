using Spectre.Console;

namespace CitySight.Bench;

/// <summary>One bar per phase: cases committed (or, for a replay, received by the slowest consumer).</summary>
internal sealed class SpectreFeedProgress(ProgressContext ctx) : IFeedBenchProgress
{
    private readonly Dictionary<string, ProgressTask> _tasks = [];

    public void Phase(string name, int total)
    {
        lock (_tasks) _tasks[name] = ctx.AddTask(Markup.Escape(name), maxValue: total);
    }

    public void Progress(string name, int committed, int slowestReceived)
    {
        ProgressTask t;
        lock (_tasks) t = _tasks[name];
        t.Value = committed;
        t.Description = Markup.Escape($"{name}: {committed} done, slowest consumer has {slowestReceived}");
    }

    public void Done(string name, string summary)
    {
        ProgressTask t;
        lock (_tasks) t = _tasks[name];
        t.Value = t.MaxValue;
        t.Description = Markup.Escape(summary);
        t.StopTask();
    }
}
