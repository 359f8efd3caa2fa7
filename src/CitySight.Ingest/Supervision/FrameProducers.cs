using System.Threading.Channels;
using CitySight.Domain;

namespace CitySight.Ingest;

/// <summary>
/// The ingest side of the frame hand-off to detection, shared by its producers (the streams and the patrol): decides
/// per camera whether its frames may be dropped, and completes the hand-off once every producer has stopped.
/// </summary>
public sealed class FrameProducers(IFrameHandOff handOff, int producers)
{
    private readonly object _gate = new();
    private int _producers = producers;
    private bool _complete;

    /// <summary>Lossless for a file replayed faster than real time (evaluation), newest-wins for everything live.</summary>
    public ChannelWriter<Frame> WriterFor(Camera camera) =>
        handOff.For(camera, lossless: !VideoReader.IsNetworkUrl(camera.Url) && !camera.RealTime);

    public void ProducerStopped()
    {
        lock (_gate)
        {
            if (--_producers > 0) return;
            _complete = true;
        }
        handOff.Complete();
    }

    /// <summary>Every producer has stopped and the detector was told no more frames will come.</summary>
    public bool HandOffComplete
    {
        get { lock (_gate) return _complete; }
    }

    /// <summary>
    /// A producer that had stopped (a patrol with nothing to visit) takes cameras again. False once the hand-off has
    /// completed: every producer had stopped, and the detector has been told no more frames will come.
    /// </summary>
    public bool TryResumeProducer()
    {
        lock (_gate)
        {
            if (_complete) return false;
            _producers++;
            return true;
        }
    }
}
