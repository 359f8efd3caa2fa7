namespace CitySight.CommandCentre.Api;

/// <summary>Why a request was refused, in words an operator can act on (never what was sent: no key is echoed).</summary>
public sealed record ApiError(string Error);
