using System.Globalization;

namespace RelpSae.Model;

/// <summary>
/// The memory a run may use: what the kernel reports available (MemAvailable), bounded by the cgroup's limit
/// (a container's or a Slurm job's memory.max, less what it holds), or RELP_SAE_MEMORY_LIMIT when set
/// (bytes, or with a K, M or G suffix: a job's own budget, and how the tests ask for a small machine).
/// </summary>
public static class AvailableMemory
{
    public const string LimitVariable = "RELP_SAE_MEMORY_LIMIT";

    public static long Bytes(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment(LimitVariable) is { Length: > 0 } limit) return ParseSize(limit);
        long available = MemInfo("MemAvailable") ?? long.MaxValue;
        if (ReadNumber("/sys/fs/cgroup/memory.max") is { } max && ReadNumber("/sys/fs/cgroup/memory.current") is { } current)
            available = Math.Min(available, Math.Max(0, max - current));
        return available;
    }

    private static long ParseSize(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        long unit = t.EndsWith('G') ? 1L << 30 : t.EndsWith('M') ? 1L << 20 : t.EndsWith('K') ? 1L << 10 : 1;
        if (unit > 1) t = t[..^1];
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && v * unit < long.MaxValue
            ? (long)(v * unit)
            : throw new RelpSaeException($"{LimitVariable}=\"{text}\" is not a size (bytes, or a number with K, M or G)");
    }

    private static long? MemInfo(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith(key + ":", StringComparison.Ordinal)
                    && long.TryParse(line[(key.Length + 1)..].Trim().Split(' ')[0], out var kb))
                    return kb * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>A cgroup file's number; null when absent, unreadable or "max" (no limit).</summary>
    private static long? ReadNumber(string path)
    {
        try { return long.TryParse(File.ReadAllText(path).Trim(), out var n) ? n : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
