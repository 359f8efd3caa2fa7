using System.Globalization;

namespace CitySight.Domain;

/// <summary>
/// A daily window of local time, e.g. 06:00-22:00. <see cref="End"/> at or before <see cref="Start"/> wraps past
/// midnight (22:00-02:00 runs from 22:00 to 02:00 the next morning); 00:00-24:00 is the whole day.
/// </summary>
public readonly record struct DailyWindow
{
    /// <param name="start">00:00 to 23:59.</param>
    /// <param name="end">00:00 to 24:00, not equal to <paramref name="start"/>.</param>
    public DailyWindow(TimeSpan start, TimeSpan end)
    {
        if (start < TimeSpan.Zero || start >= TimeSpan.FromDays(1)) throw new ArgumentOutOfRangeException(nameof(start), start, "must be 00:00 to 23:59");
        if (end < TimeSpan.Zero || end > TimeSpan.FromDays(1)) throw new ArgumentOutOfRangeException(nameof(end), end, "must be 00:00 to 24:00");
        if (start == end)
            throw new ArgumentException("start and end must differ", nameof(end));
        Start = start;
        End = end;
    }

    public TimeSpan Start { get; }
    /// <summary>Exclusive end; up to 24:00.</summary>
    public TimeSpan End { get; }

    /// <summary>True when the window runs past midnight into the next day.</summary>
    public bool Overnight => End <= Start;

    /// <summary>"HH:MM-HH:MM", e.g. 06:00-22:00, 22:00-02:00 (overnight), 00:00-24:00 (all day).</summary>
    public static bool TryParse(string? text, out DailyWindow window, out string error)
    {
        window = default;
        var s = (text ?? "").Trim();
        var dash = s.IndexOf('-');
        if (dash <= 0 || s.IndexOf('-', dash + 1) >= 0)
        {
            error = $"expected a daily window like 06:00-22:00 (got '{s}')";
            return false;
        }
        var startText = s[..dash].Trim();
        var endText = s[(dash + 1)..].Trim();
        if (!TryParseTime(startText, allow24: false, out var start))
        {
            error = $"'{startText}' is not a start time: use HH:MM from 00:00 to 23:59, e.g. 06:00-22:00";
            return false;
        }
        if (!TryParseTime(endText, allow24: true, out var end))
        {
            error = $"'{endText}' is not an end time: use HH:MM from 00:00 to 24:00, e.g. 06:00-22:00";
            return false;
        }
        if (start == end)
        {
            error = $"'{s}' starts and ends at the same time; for the whole day write 00:00-24:00";
            return false;
        }
        window = new DailyWindow(start, end);
        error = "";
        return true;
    }

    /// <exception cref="FormatException">Not a valid window.</exception>
    public static DailyWindow Parse(string text) =>
        TryParse(text, out var w, out var error) ? w : throw new FormatException(error);

    /// <summary>H:MM or HH:MM, hours 0..23 (24:00 only as an end), minutes 0..59.</summary>
    private static bool TryParseTime(string s, bool allow24, out TimeSpan time)
    {
        time = default;
        var colon = s.IndexOf(':');
        if (colon is < 1 or > 2 || s.Length != colon + 3) return false;
        if (!int.TryParse(s.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !int.TryParse(s.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var m))
            return false;
        if (m > 59) return false;
        if (h == 24 && m == 0 && allow24)
        {
            time = TimeSpan.FromDays(1);
            return true;
        }
        if (h > 23) return false;
        time = new TimeSpan(h, m, 0);
        return true;
    }

    /// <summary>
    /// Whether local time <paramref name="timeOfDay"/> on <paramref name="day"/> falls in this window when the window
    /// is held on the days <paramref name="onDay"/> accepts. An overnight window belongs to the day it starts:
    /// Friday's 22:00-02:00 covers Saturday 01:00.
    /// </summary>
    public bool Covers(DayOfWeek day, TimeSpan timeOfDay, Func<DayOfWeek, bool> onDay)
    {
        if (!Overnight) return timeOfDay >= Start && timeOfDay < End && onDay(day);
        if (timeOfDay >= Start) return onDay(day);
        return timeOfDay < End && onDay(day == DayOfWeek.Sunday ? DayOfWeek.Saturday : day - 1);
    }

    public override string ToString() => $"{Hm(Start)}-{Hm(End)}";

    private static string Hm(TimeSpan t) => $"{(int)t.TotalHours:00}:{t.Minutes:00}";
}

/// <summary>Days of the week and daily windows: e.g. sat and sun, 08:00-20:00. No days = every day; no windows = all day.</summary>
public sealed record ScheduleEntry(IReadOnlyList<DayOfWeek> Days, IReadOnlyList<DailyWindow> Hours)
{
    /// <summary>Every day, during <paramref name="hours"/>.</summary>
    public ScheduleEntry(params DailyWindow[] hours) : this([], hours) { }

    public bool IsActiveAt(DayOfWeek day, TimeSpan timeOfDay)
    {
        if (Hours.Count == 0) return OnDay(day);
        foreach (var w in Hours)
            if (w.Covers(day, timeOfDay, OnDay))
                return true;
        return false;
    }

    private bool OnDay(DayOfWeek day) => Days.Count == 0 || Days.Contains(day);

    public override string ToString() =>
        (Days.Count == 0 ? "every day" : string.Join(",", Days.Select(ZoneSchedule.DayName)))
        + " " + (Hours.Count == 0 ? "all day" : string.Join(",", Hours));
}

/// <summary>
/// When a zone is in force, in the camera's local time: any of its entries. A zone without a schedule is always in
/// force. Used for hours of enforcement (stalls 06:00-22:00) and for approved places with hours (a night market
/// 18:00-02:00 is an exclude zone only then).
/// </summary>
public sealed record ZoneSchedule(IReadOnlyList<ScheduleEntry> Entries)
{
    /// <summary>Every day, during <paramref name="hours"/> (e.g. "06:00-22:00").</summary>
    public static ZoneSchedule Daily(params string[] hours) => new([new ScheduleEntry([], hours.Select(DailyWindow.Parse).ToList())]);

    /// <summary>Whether instant <paramref name="at"/> falls in the schedule, read in <paramref name="timeZone"/>.</summary>
    public bool IsActive(DateTimeOffset at, TimeZoneInfo timeZone)
    {
        var local = TimeZoneInfo.ConvertTime(at, timeZone);
        return IsActiveAtLocal(local.DayOfWeek, local.TimeOfDay);
    }

    public bool IsActiveAtLocal(DayOfWeek day, TimeSpan timeOfDay)
    {
        foreach (var e in Entries)
            if (e.IsActiveAt(day, timeOfDay))
                return true;
        return false;
    }

    public override string ToString() => string.Join("; ", Entries);

    private static readonly string[] Names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>The three-letter name used in the YAML: mon, tue, … sun.</summary>
    public static string DayName(DayOfWeek day) => Names[(int)day];

    /// <summary>The accepted day names, Monday first: mon, tue, wed, thu, fri, sat, sun.</summary>
    public static IReadOnlyList<string> DayNames { get; } = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// <summary>
    /// A day (mon … sun or the full English name, any case) or an inclusive range of days (mon-fri; fri-mon wraps
    /// past Sunday). Days come back in week order from the first.
    /// </summary>
    public static bool TryParseDays(string? text, out List<DayOfWeek> days, out string error)
    {
        days = [];
        var s = (text ?? "").Trim();
        var parts = s.Split('-');
        if (parts.Length > 2 || !TryDay(parts[0], out var first) || (parts.Length == 2 && !TryDay(parts[1], out _)))
        {
            error = $"'{s}' is not a day: use {string.Join(", ", DayNames)} or a range like mon-fri";
            return false;
        }
        var last = first;
        if (parts.Length == 2) TryDay(parts[1], out last);
        for (var d = first; ; d = (DayOfWeek)(((int)d + 1) % 7))
        {
            days.Add(d);
            if (d == last) break;
        }
        error = "";
        return true;
    }

    private static bool TryDay(string text, out DayOfWeek day)
    {
        var t = text.Trim().ToLowerInvariant();
        for (var i = 0; i < 7; i++)
        {
            var full = ((DayOfWeek)i).ToString().ToLowerInvariant();
            if (t == Names[i] || t == full)
            {
                day = (DayOfWeek)i;
                return true;
            }
        }
        day = default;
        return false;
    }
}

/// <summary>Time zones for "local time" in schedules.</summary>
public static class TimeZones
{
    /// <summary>The default: the customers are Chinese districts, on China Standard Time.</summary>
    public const string DefaultId = "Asia/Shanghai";

    /// <summary>
    /// Asia/Shanghai from the system's time zone data; where that data is missing (a bare container without tzdata),
    /// a fixed UTC+08:00 zone under the same id, which is exact: China has kept UTC+8 without daylight saving since 1991.
    /// </summary>
    public static TimeZoneInfo Default { get; } = TryFind(DefaultId, out var tz)
        ? tz
        : TimeZoneInfo.CreateCustomTimeZone(DefaultId, TimeSpan.FromHours(8), "China Standard Time", "China Standard Time");

    /// <summary>An IANA id (e.g. Asia/Shanghai, Europe/London, UTC) from the system's time zone data.</summary>
    public static bool TryFind(string id, out TimeZoneInfo timeZone)
    {
        timeZone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id)) return false;
        try
        {
            timeZone = TimeZoneInfo.FindSystemTimeZoneById(id.Trim());
            return true;
        }
        // A folder of the zone data ("Asia") is found but unreadable as a zone: SecurityException, not NotFound.
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException
                                      or System.Security.SecurityException or UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }
}
