using CitySight.Configuration;
using CitySight.Rules;
using CitySight.Tracking;

namespace CitySight.Service;

/// <summary>
/// The one place the configuration's rules and dedup sections become the tracking and case-raising stages' options.
/// </summary>
public static class CaseRaisingOptions
{
    /// <summary>rules: as the camera rules take them (each case type's rule from rules.case_types over its built-in defaults).</summary>
    public static RuleOptions RulesOf(RuleSettings rules) => new()
    {
        MinConfidence = rules.MinConfidence,
        ConfirmSamples = rules.ConfirmSamples,
        SameObjectIoU = rules.SameObjectIoU,
        DedupWindow = rules.DedupWindow,
        ForType = rules.ForType,
    };

    /// <summary>dedup: as the site dedup takes it.</summary>
    public static SiteDedupOptions DedupOf(DedupSettings dedup) => new()
    {
        RadiusMetres = dedup.SamePlaceRadiusMetres,
        Window = dedup.Window,
        Cooldown = dedup.Cooldown,
        RejectCooldown = dedup.RejectCooldown,
    };

    /// <summary>The trackers' settings: what counts as stationary is each case type's own (a parked car, a pile of
    /// garbage may sit differently still), rules.case_types.TYPE.stationary_radius.</summary>
    public static TrackerOptions TrackerOf(RuleOptions rules) =>
        new() { StationaryRadiusFor = type => (float)rules.RuleFor(type).StationaryRadius };
}
