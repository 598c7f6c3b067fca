using System.Globalization;

namespace Herald.Transports.Connections;

/// <summary>The process's open-file limit (RLIMIT_NOFILE), as Linux reports it in <c>/proc/self/limits</c>.</summary>
/// <remarks>
/// The .NET runtime raises the soft limit to the hard one when it starts, so the soft limit read
/// here is the one in force. Read from /proc rather than getrlimit so that no native call is needed.
/// </remarks>
public static class FileDescriptorLimit
{
    private static readonly Lazy<(long Soft, long Hard)?> s_current = new(() => Read("/proc/self/limits"));

    /// <summary>Soft and hard limit, or null where it cannot be read (not Linux) or is unlimited.</summary>
    public static (long Soft, long Hard)? Current => s_current.Value;

    internal static (long Soft, long Hard)? Read(string path)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                    continue;
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 2
                    && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft)
                    && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var hard)
                        ? (soft, hard)
                        : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
        }

        return null;
    }
}
