namespace RelpSae.Numerics;

/// <summary>How many cores the numerics kernels may use.</summary>
public static class Threads
{
    private static int count = Environment.ProcessorCount;

    /// <summary>
    /// Threads one large product is split over (default: the processor count; 1 = single-threaded).
    /// Small products always run on the calling thread, and a product started while another one
    /// holds the worker threads (e.g. from inside a Parallel.For body) runs on its calling thread alone.
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
