using System.Threading.Channels;
using CitySight.Domain;
using Microsoft.Extensions.Hosting;

namespace CitySight.Rules;

/// <summary>Runs the case-raising stage for the service's lifetime: tracked frames in, cases out through the sink.
/// The last stage to finish when the frames end (the pipeline drains stage by stage).</summary>
public sealed class CaseRaisingWorker(CaseRaiser stage, ChannelReader<TrackedFrame> input) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        await stage.RunAsync(input, stoppingToken);
    }
}
