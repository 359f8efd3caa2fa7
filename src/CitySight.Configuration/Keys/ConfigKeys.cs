using System.Collections.Frozen;

namespace CitySight.Configuration;

// How to add a setting
// 1. Give it a property with its default (the initialiser) on the options record of the stage that reads it
//    (IngestOptions, DetectorOptions, RuleOptions, SiteDedupOptions, MqttOptions, DispatchPushOptions, ...; host-level
//    ServiceSettings/ModelSettings in CitySightConfig.cs; Camera/CameraGroup in CitySight.Domain for camera files).
//    CitySightConfig holds those records as they are. Write the default nowhere else.
// 2. Declare the key once, in ConfigKeys.Main.cs or ConfigKeys.Cameras.cs, in the order the allowed-key list in errors
//    should show it: path, kind, range/choices, one line of description, a sample value (valid, not the default) and
//    the property it lands on. The loader accepts no key that is not declared here.
// 3. Read it in the section reader (Sections/*.cs) by its name: sec.Int("max_frame_width") takes the range from here.
// 4. Document it in configs/README.md, in the table of its section. KeyRegistryTests fails until the README names it,
//    and until loading its sample changes what the declaration says it lands on.

/// <summary>Every key of citysight.yaml and of the camera group files, each declared once.</summary>
public static partial class ConfigKeys
{
    /// <summary>All declared keys, main file first, each section's keys in the order they are listed in errors.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } = [.. MainFile(), .. CameraFile()];

    private static readonly FrozenDictionary<(ConfigFile, string), ConfigKey> ByPath =
        All.ToFrozenDictionary(k => (k.File, k.Path));

    private static readonly FrozenDictionary<(ConfigFile, string), string[]> Children =
        All.GroupBy(k => (k.File, k.Parent)).ToFrozenDictionary(g => g.Key, g => g.Select(k => k.Name).ToArray());

    /// <summary>The key declared at this path, or null.</summary>
    public static ConfigKey? Find(ConfigFile file, string path) => ByPath.GetValueOrDefault((file, path));

    /// <summary>The key declared at this path; a key read but never declared is a bug in the loader.</summary>
    public static ConfigKey Get(ConfigFile file, string path) =>
        Find(file, path) ?? throw new InvalidOperationException($"configuration key {path} is read but not declared in ConfigKeys");

    /// <summary>The names allowed in the mapping at <paramref name="parent"/> ("" for a file's top level), in order.</summary>
    public static IReadOnlyList<string> NamesUnder(ConfigFile file, string parent) =>
        Children.TryGetValue((file, parent), out var names)
            ? names
            : throw new InvalidOperationException($"configuration section '{parent}' has no keys declared in ConfigKeys");

    /// <summary>Builds the keys of one record: their defaults come from <paramref name="blank"/>, their values from <paramref name="of"/>.</summary>
    private sealed class KeysOf<T>(ConfigFile file, T blank, Func<CitySightConfig, T> of)
    {
        public ConfigKey Key<TValue>(
            string path, ConfigKeyKind kind, Func<T, TValue> property, string description, string? sample,
            double? min = null, double? max = null, bool minExclusive = false, bool required = false,
            IReadOnlyList<string>? choices = null, bool hasDefault = true) => new()
            {
                Path = path,
                File = file,
                Kind = kind,
                Description = description,
                Sample = sample,
                Min = min,
                Max = max,
                MinExclusive = minExclusive,
                Required = required,
                Choices = choices ?? [],
                Default = hasDefault && !required ? () => property(blank) : null,
                Loaded = c => property(of(c)),
            };

        public ConfigKey Choice<TEnum>(string path, Func<T, TEnum> property, string description, string sample) where TEnum : struct, Enum =>
            Key(path, ConfigKeyKind.Choice, property, description, sample, choices: ChoicesOf<TEnum>());
    }

    /// <summary>The words a Choice key accepts: the enum's names, lower case (the enum is their one home).</summary>
    public static string[] ChoicesOf<TEnum>() where TEnum : struct, Enum =>
        Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()).ToArray();

    private static ConfigKey Container(ConfigFile file, string path, ConfigKeyKind kind, string description) => new()
    {
        Path = path,
        File = file,
        Kind = kind,
        Description = description,
    };


}
