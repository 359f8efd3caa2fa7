using System.Diagnostics;
using System.Text;
using CitySight.Tests;

namespace CitySight.EndToEnd.Tests;

/// <summary>`citysight run` as a child process whose output is kept for failure messages.</summary>
internal sealed class ServiceProcess
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServiceProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <param name="environment">Variables for the child only (e.g. the one holding a connection string).</param>
    public static ServiceProcess Start(string config, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepoRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "citysight.dll"));
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(config);
        psi.Environment["CITYSIGHT_CONFIG"] = "";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var s = new ServiceProcess(Process.Start(psi)!);
        s._process.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (s._log) s._log.AppendLine(l); };
        s._process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (s._log) s._log.AppendLine(l); };
        s._process.BeginOutputReadLine();
        s._process.BeginErrorReadLine();
        return s;
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed that was not already committed.</summary>
    public void Kill9()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }
}
