namespace CitySight.Cases.Postgres;

/// <summary>
/// One case per place across a cluster, decided in the database: a new case joins an open case of the same type raised
/// by another camera within <paramref name="RadiusMetres"/>, last seen within <paramref name="Window"/> of the new one.
/// Each node's rules already join what they know of (the shared feed tells them); this covers two nodes raising at the
/// same instant, before either has heard of the other. A camera's own cases are its node's to tell apart (one car
/// or two at one camera's position): they never join here.
/// </summary>
public sealed record SamePlace(double RadiusMetres, TimeSpan Window);
