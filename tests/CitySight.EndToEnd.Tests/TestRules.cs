using CitySight.Rules;

namespace CitySight.EndToEnd.Tests;

/// <summary>Rules for the shared clips: the parking-lot clip is a time-lapse, so a car is never still for long.</summary>
internal static class TestRules
{
    /// <summary>A vehicle present on 2 samples is a case: no dwell, no stillness asked.</summary>
    public static RuleOptions Quick => new()
    {
        ConfirmSamples = 2,
        MinConfidence = 0.3f,
        CaseTypes = new Dictionary<string, CaseTypeRuleOverrides>
        {
            ["illegal_parking"] = new() { MinDwell = TimeSpan.Zero, RequireStationary = false },
        },
    };
}
