using CitySight.Domain;

namespace CitySight.CommandCentre;

/// <summary>What the host hands the console when it maps it.</summary>
public sealed record CommandCentreOptions
{
    /// <summary>Every camera with its state (the host's view of ingest and the patrol).</summary>
    public required CameraBoard Cameras { get; init; }

    /// <summary>The port the console answers on (the service's HTTP port); null: every port the host listens on.</summary>
    public int? Port { get; init; }

    /// <summary>Where "today" begins for the overview's counts (the host passes service.timezone).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZones.Default;

    /// <summary>Each camera's latest picture (GET /api/v1/cameras/{id}/picture); null: none are taken (404).</summary>
    public CameraPictureSource? Pictures { get; init; }

    /// <summary>The cameras' zones in their group files (GET/PUT /api/v1/cameras/{id}/zones); null: no zone editing (404).</summary>
    public ICameraZoneBook? Zones { get; init; }

    /// <summary>The detector's running totals (frames per model, drops), read when the overview is asked; null: none shown.</summary>
    public Func<DetectorCounters>? Detector { get; init; }

    /// <summary>The operator's map base (console.map.geojson, absolute path); null: the map draws plain coordinates.</summary>
    public string? MapGeoJson { get; init; }

    /// <summary>Enable / disable a camera (the admin API's switch); null: the console cannot switch cameras (answers 501).</summary>
    public CameraSwitch? SwitchCamera { get; init; }
}
