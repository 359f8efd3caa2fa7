namespace CitySight.Rules.Tests;

/// <summary>Tests that count store failures on the process-wide metric run one at a time, so each sees only its own.</summary>
[CollectionDefinition(Name)]
public sealed class StoreFaultCollection
{
    public const string Name = "store faults";
}
