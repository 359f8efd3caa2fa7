using CitySight.Tests;
using Xunit.Abstractions;

namespace CitySight.Ingest.Tests;

/// <summary>Runs alone (after the parallel tests): it counts the whole process's allocations.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationCollection))]
public sealed class AllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SteadyStateReading_AllocatesFarLessThanAFramePerFrame()
    {
        // Every decoded frame of the clip (162 at 640x480: 900 kB each), as fast as ffmpeg decodes them.
        var options = new VideoReadOptions { SampleInterval = TimeSpan.Zero, RealTime = false, Decode = DecodeMode.AllFrames };
        const int warmUp = 30;
        long startBytes = 0, lastBytes = 0;
        var frames = 0;
        await foreach (var f in VideoReader.ReadAsync("alloc-cam", TestAssets.Media("parking-lot-cctv-640x480.mp4"), options))
        {
            f.Dispose(); // the buffer goes back to the pool, as the pipeline's consumer does
            // Up to the last frame: the end of the pass (ffmpeg's exit, its last stderr lines) is not per frame.
            lastBytes = GC.GetTotalAllocatedBytes(precise: true);
            if (++frames == warmUp) startBytes = lastBytes;
        }
        var perFrame = (lastBytes - startBytes) / (double)(frames - 1 - warmUp);
        output.WriteLine($"{frames} frames; {perFrame:0} bytes allocated per frame in steady state (a frame is {640 * 480 * 3} bytes)");

        Assert.True(frames > 150);
        // What is left is the Frame object itself (a class of the Domain contract) and a little async plumbing; a frame
        // buffer allocated instead of rented, a string or regex match per stderr line, or an allocating read per pipe
        // chunk (~35 per frame) would each show up here.
        Assert.True(perFrame < 1024, $"{perFrame:0} bytes per frame");
    }
}
