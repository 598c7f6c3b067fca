using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// When a delivery's attempts happen: entry i is the wait before attempt i + 1, counted from the
/// delivery's creation (i = 0) or from the failure of the attempt before. After the last entry's
/// attempt fails the delivery is dead-lettered. Written as <c>0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h</c>
/// (units <c>ms s m h d</c>).
/// </summary>
internal sealed class RetrySchedule
{
    /// <summary>Standard Webhooks' recommended schedule: 8 attempts over about 27.5 hours.</summary>
    public const string Default = "0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h";

    // 50 attempts and 7 days a step: beyond that a delivery is not "retried", it is stuck.
    private const int MaxEntries = 50;
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromDays(7);

    private readonly TimeSpan[] delays;

    private RetrySchedule(TimeSpan[] delays) => this.delays = delays;

    /// <summary>Attempts in all.</summary>
    public int Attempts => delays.Length;

    public IReadOnlyList<TimeSpan> Delays => delays;

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1 (0: before the first).</summary>
    public TimeSpan DelayBefore(int attempt) => delays[attempt];

    public static bool TryParse(string? text, [NotNullWhen(true)] out RetrySchedule? schedule, [NotNullWhen(false)] out string? error)
    {
        schedule = null;
        var entries = (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries);
        if (entries.Length is 0 or > MaxEntries || (entries.Length == 1 && entries[0].Length == 0))
        {
            error = $"the retry schedule needs 1 to {MaxEntries} comma-separated delays, e.g. '{Default}'.";
            return false;
        }

        var delays = new TimeSpan[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            if (!TryParseDelay(entries[i], out var delay) || delay < TimeSpan.Zero || delay > s_maxDelay)
            {
                error = $"'{entries[i]}' (entry {i + 1}) is not a delay from 0 to 7d: a whole number followed by ms, s, m, h or d.";
                return false;
            }

            delays[i] = delay;
        }

        schedule = new RetrySchedule(delays);
        error = null;
        return true;
    }

    public override string ToString() => string.Join(", ", delays.Select(Format));

    private static bool TryParseDelay(string text, out TimeSpan delay)
    {
        delay = default;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            digits++;
        if (digits == 0 || !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > 1_000_000_000)
            return false;

        switch (text[digits..])
        {
            case "ms": delay = TimeSpan.FromMilliseconds(value); return true;
            case "s": delay = TimeSpan.FromSeconds(value); return true;
            case "m": delay = TimeSpan.FromMinutes(value); return true;
            case "h": delay = TimeSpan.FromHours(value); return true;
            case "d": delay = TimeSpan.FromDays(value); return true;
            default: return false;
        }
    }

    private static string Format(TimeSpan delay) =>
        delay.Ticks % TimeSpan.TicksPerDay == 0 && delay > TimeSpan.Zero ? $"{delay.TotalDays:0}d"
        : delay.Ticks % TimeSpan.TicksPerHour == 0 && delay > TimeSpan.Zero ? $"{delay.TotalHours:0}h"
        : delay.Ticks % TimeSpan.TicksPerMinute == 0 && delay > TimeSpan.Zero ? $"{delay.TotalMinutes:0}m"
        : delay.Ticks % TimeSpan.TicksPerSecond == 0 ? $"{delay.TotalSeconds:0}s"
        : $"{delay.TotalMilliseconds:0}ms";
}
