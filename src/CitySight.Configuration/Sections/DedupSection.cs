using CitySight.Rules;

namespace CitySight.Configuration;

/// <summary>dedup: one case per real event across cameras, by place on the ground.</summary>
internal static class DedupSection
{
    public static SiteDedupOptions Read(Section top)
    {
        var d = new SiteDedupOptions();
        if (top.Child("dedup") is not { } sec) return d;
        return d with
        {
            SamePlaceRadiusMetres = sec.Number("same_place_radius_m") ?? d.SamePlaceRadiusMetres,
            Window = sec.Duration("window") ?? d.Window,
            Cooldown = sec.Duration("cooldown") ?? d.Cooldown,
            RejectCooldown = sec.Duration("reject_cooldown") ?? d.RejectCooldown,
        };
    }
}
