namespace CitySight.Rules;

/// <summary>
/// Site dedup settings. DOMAIN.md gives no figures for these; the reasoning is in each remark.
/// </summary>
public sealed record SiteDedupOptions
{
    /// <summary>
    /// Same type within this many metres is the same place. 15 m: a stall with its goods, or a parked car, spans 2–6 m;
    /// a surveyed homography is off by 1–3 m near its points and more towards the horizon, and two cameras see an object's
    /// foot from different sides; 15 m still keeps cases one short block of shop fronts apart.
    /// </summary>
    public double SamePlaceRadiusMetres { get; init; } = 15;

    /// <summary>
    /// An open case not seen by any camera for this long is gone: CitySight closes it itself (as of last seen + window,
    /// see <see cref="SiteDedup.TakeGone"/>) and its place cools down like any closed case. Until then an open case takes
    /// every same-type hit at its place, however long ago it was raised (open = suppress).
    /// 30 min: longer than the rules' own 10 min (a stall hidden by a bus, a patrol camera's revisit interval), short
    /// enough that a car that left and another that parks an hour later are two cases. Set it to
    /// <see cref="TimeSpan.MaxValue"/> when dispatch always reports closures: open cases then last until <see cref="SiteDedup.Close"/>.
    /// </summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// After a case is closed (handled), the same type at its place raises nothing for this long (measured from the
    /// close, not extended by later sightings, so a problem that is really still there comes back afterwards).
    /// 30 min: a vendor moved on often comes back within minutes; a fresh case then would reach the team that just left.
    /// </summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// After a rejection (false alarm, 不予立案), the same type at that place is suppressed this long. 24 h: the thing
    /// that fooled the detector (a sanctioned stall, a shop's own sign) is there again tomorrow; a permanent fix is an
    /// exclude zone, and rejected cases are what the district is scored on.
    /// </summary>
    public TimeSpan RejectCooldown { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// For sightings whose place is only their camera's position: against a case this camera has seen, the same place
    /// means image foot points within this normalised distance (the camera's position says nothing about where in its
    /// view the object is, so without it one camera's three parked cars would be one case).
    /// </summary>
    public double SameCameraImageDistance { get; init; } = 0.1;

    /// <summary>
    /// A sighting is the better picture when its score (confidence × √(box area / frame area), i.e. how sure × how many
    /// pixels across) beats the case's best by this fraction, so near-equal frames do not swap evidence back and forth.
    /// </summary>
    public double BetterEvidenceMargin { get; init; } = 0.05;
}
