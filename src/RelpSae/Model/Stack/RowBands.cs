using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// Row-wise passes (GELU, LayerNorm and their rules) split into one band of rows per thread: on one thread the
/// GELU of a 128-token MLP was a tenth of a block's time.
/// </summary>
internal static class RowBands
{
    /// <summary>
    /// Below this many elements a pass stays on the calling thread. The worker spins between jobs, so handing it half a
    /// 32 × 768 LayerNorm costs a few microseconds and leaves it less time idle: against 65 536 (which kept every norm,
    /// residual add and norm backward of 32 tokens on the caller), both builds in one process, 2 threads, the GPT-2-small
    /// 1×32 backward 0.979 of the time, its forward 0.985, the 1×16 backward 0.972.
    /// </summary>
    internal const long ParallelElements = 1 << 13;

    /// <summary>Calls <paramref name="band"/>(firstRow, endRow) over bands covering [0, rows).</summary>
    public static void For(int rows, int width, Action<int, int> band)
    {
        int parts = (long)rows * width >= ParallelElements ? Math.Min(Threads.Count, rows) : 1;
        if (parts == 1)
        {
            band(0, rows);
            return;
        }
        WorkerTeam.For(parts, p => band((int)((long)rows * p / parts), (int)((long)rows * (p + 1) / parts)));
    }
}
