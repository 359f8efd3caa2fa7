namespace CitySight.CommandCentre.Api;

/// <summary>
/// One zone of a camera as its group file writes it (cameras[].zones[]). <paramref name="Points"/>: [x, y] pairs, each
/// 0..1 of the picture's width and height. <paramref name="AllCaseTypes"/>: the file lists no case_types, so the zone
/// applies to every type the camera looks for (<paramref name="CaseTypes"/> then lists those). <paramref name="Schedule"/>:
/// null (always), a window like "06:00-22:00", or a YAML flow list/mapping like [{days: [sat, sun], hours: ["08:00-20:00"]}].
/// </summary>
public sealed record ConsoleZone(
    string Id,
    IReadOnlyList<string> CaseTypes,
    IReadOnlyList<double[]> Points,
    bool Exclude,
    string? Schedule,
    bool AllCaseTypes = false);
