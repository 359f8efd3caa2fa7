using CitySight.Configuration;
using CitySight.Domain;

namespace CitySight.Service.Admin;

/// <summary>
/// The configuration in force now: the one the service started with, with the camera changes of each reload applied
/// (sections that need a restart keep their start-up values). Read from any thread; replaced whole by a reload.
/// </summary>
public sealed class CameraDirectory(CitySightConfig config)
{
    private volatile State _state = new(config);

    public CitySightConfig Config => _state.Config;

    /// <summary>The camera with this id now, or null (a camera removed by a reload, or never configured).</summary>
    public Camera? Find(string id) => _state.Cameras.GetValueOrDefault(id);

    public CameraGroup? GroupOf(string cameraId) => _state.Groups.GetValueOrDefault(cameraId);

    internal void Set(CitySightConfig config) => _state = new State(config);

    private sealed class State(CitySightConfig config)
    {
        public CitySightConfig Config { get; } = config;
        public Dictionary<string, Camera> Cameras { get; } = config.Cameras.ToDictionary(c => c.Id);
        public Dictionary<string, CameraGroup> Groups { get; } =
            config.Groups.SelectMany(g => g.Cameras.Select(c => (c.Id, g))).ToDictionary(p => p.Id, p => p.g);
    }
}
