using Spectre.Console;

namespace CitySight.Bench;

internal static class BenchConsole
{
    /// <summary>A Spectre console on one of the standard streams; plain text (no colours, <paramref name="width"/> wide) when redirected.</summary>
    public static IAnsiConsole Create(TextWriter writer, bool redirected, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected) console.Profile.Width = width;
        return console;
    }
}
