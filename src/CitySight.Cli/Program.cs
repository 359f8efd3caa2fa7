using System.CommandLine;
using CitySight.Cli;

var root = new RootCommand("CitySight: street cameras to city-management cases.")
{
    RunCommand.Create(),
    ValidateCommand.Create(),
    DetectCommand.Create(),
    WatchCommand.Create(),
    AdminCommand.Create(),
    SimulateCommand.Create(),
    DemoCommand.Create(),
    ProbeCommand.Create(),
    EvalCommand.Create(),
    CitySight.Cli.Bench.IngestBenchCommand.Create(),
    CitySight.Cli.Bench.InferenceBenchCommand.Create(),
    CitySight.Cli.Bench.FeedBenchCommand.Create(),
    StoreCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
