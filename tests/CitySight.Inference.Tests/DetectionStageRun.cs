using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Inference.Tests;

/// <summary>One camera's frames through a real detect stage, as the host runs it (a lossless mailbox, the stage's loop).</summary>
internal static class DetectionStageRun
{
    /// <summary>
    /// Writes <paramref name="count"/> frames made by <paramref name="frameAt"/> (sequence 0, 1, …) to the camera's
    /// mailbox, lets the stage finish, and returns every detected frame in order (the caller disposes their frames).
    /// </summary>
    public static async Task<List<DetectedFrame>> PlayAsync(DetectionStage stage, Camera camera, int count, Func<int, Frame> frameAt)
    {
        var mailboxes = new FrameMailboxes();
        var output = Channel.CreateUnbounded<DetectedFrame>();
        var run = stage.RunAsync(mailboxes, output.Writer, CancellationToken.None);
        var writer = mailboxes.For(camera, lossless: true);
        for (var seq = 0; seq < count; seq++) await writer.WriteAsync(frameAt(seq));
        mailboxes.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(120));

        var got = new List<DetectedFrame>();
        await foreach (var d in output.Reader.ReadAllAsync()) got.Add(d);
        return got;
    }

    /// <summary>A checkered grey block of the two given levels: a textured thing nothing in COCO names.</summary>
    public static void Checker(Frame f, int x0, int y0, int w, int h, byte light = 235, byte dark = 40)
    {
        var bgr = f.Bgr;
        for (var y = y0; y < y0 + h; y++)
            for (var x = x0; x < x0 + w; x++)
            {
                var v = ((x / 10 + y / 10) & 1) == 0 ? light : dark;
                var i = (y * f.Width + x) * 3;
                bgr[i] = bgr[i + 1] = bgr[i + 2] = v;
            }
    }
}
