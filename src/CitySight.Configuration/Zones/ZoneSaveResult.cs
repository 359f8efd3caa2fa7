namespace CitySight.Configuration;

/// <summary>What saving a camera's zones did: the file written, or every error of the configuration it would have made (the file untouched).</summary>
public sealed record ZoneSaveResult(string File, IReadOnlyList<ConfigError> Errors)
{
    public bool Saved => Errors.Count == 0;
}
