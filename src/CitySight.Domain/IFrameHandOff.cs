using System.Threading.Channels;

namespace CitySight.Domain;

/// <summary>
/// The hand-off from ingest (decoded, sampled frames) to detection. The detect stage implements it (per-camera
/// mailboxes); the ingest side writes every camera's frames through it and says when no more will come. Neither side
/// knows the other's project: this is all they share.
/// </summary>
public interface IFrameHandOff
{
    /// <summary>
    /// The writer for one camera's frames. Lossless: the writer waits until the detector has taken the camera's previous
    /// frame (a file replayed faster than real time must be seen whole); otherwise the newest frame wins and older
    /// waiting ones are dropped (live cameras). A frame written is owned by the hand-off from then on.
    /// </summary>
    ChannelWriter<Frame> For(Camera camera, bool lossless);

    /// <summary>No more frames will come from any camera: the detector finishes what waits and stops.</summary>
    void Complete();
}
