namespace CitySight.CommandCentre.Tests;

/// <summary>
/// Timed tests run alone, after the others: a budget measured while three other browsers and a model share two cores
/// measures the neighbours, not the page.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadBudgetCollection
{
    public const string Name = "load budget";
}
