using System.Runtime.InteropServices;

namespace RelpSae.Formats;

/// <summary>
/// Lets go of a read-only file mapping's pages once they have been read. Pages of a mapped file that were
/// touched count as the process's resident memory until the mapping is closed, so reading a 10 GB checkpoint
/// through its mapping would, by the last tensor, hold the file beside the weights packed from it. Dropped
/// (Linux's MADV_DONTNEED), they stay in the page cache and a later read maps them again.
/// </summary>
internal static unsafe partial class MappedPages
{
    private const int DontNeed = 4;   // MADV_DONTNEED on Linux

    public static void Release(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        long page = Environment.SystemPageSize;
        // Whole pages inside the range only: a page shared with a neighbour it does not own is left mapped.
        long from = ((long)start + page - 1) / page * page, to = ((long)start + length) / page * page;
        if (to > from) _ = Advise((nint)from, (nuint)(to - from), DontNeed);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Advise(nint address, nuint length, int advice);
}
