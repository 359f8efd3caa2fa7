using System.Text;
using YamlDotNet.Core;

namespace CitySight.Configuration;

/// <summary>
/// The camera group files as the zone editor uses them: which file defines a camera, its zones as written, and saving
/// new zones into it: spliced into the text (<see cref="ZoneYaml"/>), validated with the whole configuration as it would
/// then read, and only then written, atomically (a temporary file renamed over it, its permissions kept).
/// </summary>
public static class CameraZoneFiles
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>The camera group file (absolute path) that defines the camera, or null.</summary>
    public static string? FileOf(string camerasDir, string cameraId)
    {
        if (!Directory.Exists(camerasDir)) return null;
        var files = Directory.EnumerateFiles(camerasDir)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            // Most files do not mention the id at all: no need to parse them.
            if (!text.Contains(cameraId, StringComparison.OrdinalIgnoreCase)) continue;
            try
            {
                if (ZoneYaml.HasCamera(text, cameraId)) return Path.GetFullPath(file);
            }
            catch (YamlException)
            {
                // A file broken since the last load: the loader names it when anything is saved.
            }
        }
        return null;
    }

    /// <summary>
    /// Writes <paramref name="zones"/> as the camera's zones in <paramref name="file"/> when the configuration read from
    /// <paramref name="citysightYaml"/> stays valid with them; otherwise returns every error and leaves the file as it was.
    /// </summary>
    /// <exception cref="ArgumentException">The file does not define the camera.</exception>
    /// <exception cref="IOException">The file cannot be read or written.</exception>
    public static ZoneSaveResult Save(string citysightYaml, string file, string cameraId, IReadOnlyList<ZoneSpec> zones)
    {
        var bytes = File.ReadAllBytes(file);
        var bom = bytes.AsSpan().StartsWith(Utf8Bom);
        var text = new UTF8Encoding(false).GetString(bom ? bytes[Utf8Bom.Length..] : bytes);
        string spliced;
        try
        {
            spliced = ZoneYaml.Splice(text, cameraId, zones);
        }
        catch (YamlException e)
        {
            return new ZoneSaveResult(file, [new ConfigError(file, (int)e.Start.Line, (int)e.Start.Column, "", $"YAML syntax error: {e.Message}")]);
        }
        catch (FormatException e)
        {
            return new ZoneSaveResult(file, [new ConfigError(file, 0, 0, $"cameras[id={cameraId}].zones", e.Message)]);
        }
        var loaded = ConfigLoader.Load(citysightYaml, new Dictionary<string, string> { [Path.GetFullPath(file)] = spliced });
        if (!loaded.Success) return new ZoneSaveResult(file, loaded.Errors);
        var output = Encoding.UTF8.GetBytes(spliced);
        WriteAtomically(file, bom ? [.. Utf8Bom, .. output] : output);
        return new ZoneSaveResult(file, []);
    }

    /// <summary>
    /// A reader (the file watcher of an editor, the reload) sees the old file or the new one, never half of it; a crash
    /// leaves at most a hidden temporary file beside it.
    /// </summary>
    private static void WriteAtomically(string file, byte[] content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        // Not *.yaml: the loader never takes it for a camera group file.
        var temp = Path.Combine(dir, $".{Path.GetFileName(file)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, File.GetUnixFileMode(file));
            File.Move(temp, file, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
