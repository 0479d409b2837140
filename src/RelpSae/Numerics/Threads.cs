namespace RelpSae.Numerics;

/// <summary>How many cores the numerics kernels may use.</summary>
public static class Threads
{
    private static int count = Environment.ProcessorCount;

    /// <summary>
    /// Threads one large product, and the attention heads and row bands between products, are split over
    /// (default: the processor count; 1 = single-threaded). Small products always run on the calling thread,
    /// and work started while other work holds the worker threads (a product inside an attention head's body)
    /// runs on its calling thread alone.
    /// </summary>
    public static int Count
    {
        get => Volatile.Read(ref count);
        set
        {
            if (value < 1) throw new RelpSaeException($"thread count must be at least 1, got {value}");
            Volatile.Write(ref count, value);
        }
    }
}
