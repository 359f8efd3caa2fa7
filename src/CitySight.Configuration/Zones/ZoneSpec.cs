using CitySight.Domain;

namespace CitySight.Configuration;

/// <summary>
/// A zone as its camera group file writes it (cameras[].zones[]), for editing: <see cref="CaseTypes"/> null when the file
/// lists none (the camera's detectors), <see cref="Schedule"/> as YAML text: a window like <c>06:00-22:00</c>, or a flow
/// list or mapping like <c>[{days: [sat, sun], hours: ["08:00-20:00"]}]</c>; null when always in force.
/// </summary>
public sealed record ZoneSpec(
    string Name,
    IReadOnlyList<NormalisedPoint> Polygon,
    IReadOnlyList<string>? CaseTypes = null,
    bool Exclude = false,
    string? Schedule = null);
