namespace RelpSae.Numerics;

/// <summary>
/// How one product is shared between threads: C is cut into bands of whole micro-tiles — column
/// bands when there are enough of them (each thread packs all of the usually small A and its own
/// part of B), row bands otherwise — and each band runs the single-threaded driver. Row bands also
/// when B is packed once, small enough to share and each band has rows enough to use what it
/// streams, or, packed per call, when op(A) has more rows
/// than op(B) has columns: each thread packs all of the operand it does not split, so the larger one
/// is split (an SAE's 4096 × 3072 features against its 3072 × 768 decoder: 6.3 M floats packed per
/// thread instead of 13.8 M), and a broadcast-path product of Wᵀ with rows enough to crowd L2
/// (<see cref="BroadcastRowBands"/>). A band's sums are those of the whole product, whichever way it is cut.
/// </summary>
internal readonly unsafe struct ParallelGemm(GemmProblem problem, GemmPath path, int parts, bool byColumns, int unit)
{
    public readonly GemmProblem Problem = problem;
    public readonly GemmPath Path = path;
    public readonly int Parts = parts;
    public readonly bool ByColumns = byColumns;
    /// <summary>Band boundaries fall on multiples of this (MR for rows; NR, or a vector for a B packed per call, for columns).</summary>
    public readonly int Unit = unit;

    /// <summary>Packed B up to this many floats (16 MB) is shared by row bands: it stays in the L3 both cores read.</summary>
    private const long SharedPackedB = 4L << 20;

    /// <summary>
    /// Row bands of a shared packed B need this many micro-tile rows per thread (32 rows): each band
    /// streams all of B, and fewer rows do too little with each streamed panel to hide the stream
    /// (1×32 tokens on 2 threads: the weights' products at half the FMA peak as 16-row bands, 75–82 %
    /// as column bands).
    /// </summary>
    private const int SharedBRowTilesPerThread = 4;

    public static ParallelGemm Plan(in GemmProblem g, GemmPath path, int threads)
    {
        if (threads == 1 || (long)g.M * g.N * g.K < Gemm.ParallelThreshold)
            return new ParallelGemm(g, path, parts: 1, byColumns: true, unit: 1);
        var (mr, nr) = GemmPaths.Tile(path);
        int colTiles = (g.N + nr - 1) / nr, rowTiles = (g.M + mr - 1) / mr;
        bool byRows = g.ReadsPanels
            ? rowTiles >= SharedBRowTilesPerThread * threads && (long)g.K * g.N <= SharedPackedB
            : rowTiles >= 2 * threads && (g.M > g.N || BroadcastRowBands(g, path, (rowTiles + threads - 1) / threads * mr));
        bool byColumns = !byRows && (colTiles >= 4 * threads || colTiles >= rowTiles);
        int parts = Math.Min(threads, byColumns ? colTiles : rowTiles);
        // Column bands of a B packed per call (or transposed from panels) may start at any whole vector: 1024 columns then split
        // 512/512, each band one narrow edge tile, instead of 528/496 with a full tile's work in each.
        int unit = !byColumns ? mr : g.ReadsPanels ? nr : GemmPaths.Width(path);
        return new ParallelGemm(g, path, parts, byColumns, unit);
    }

    /// <summary>
    /// A product with Wᵀ on the broadcast path is cut into row bands, though it has fewer rows than columns, when it has more
    /// than half the rows that path takes and each band is still one it takes: each thread then packs half of op(A)ᵀ, so
    /// that its KC block and Cᵀ's band stay in L2 together (at 512 rows, 540 KB and 384 KB of the 1 MB), for the cost of
    /// each thread reading all of W. Both builds in one process, 2 threads, 512 rows: GPT-2's 768 → 3072 and 768 → 2304
    /// maps 0.953 and 0.958 of the time against column bands (320 rows: 0.989), the 3072 → 768 map (the tiled path)
    /// 0.994; the 1×512 backward passes, whose products these are a fifth of, 0.990 and 0.995.
    /// </summary>
    private static bool BroadcastRowBands(in GemmProblem g, GemmPath path, int bandRows) =>
        path == GemmPath.Vector512 && g.PanelsTransposed && g.M > PanelsBroadcast.MaxRows / 2 && PanelsBroadcast.Handles(g.Rows(0, bandRows));

    public static void RunPart(void* state, int part)
    {
        ref readonly ParallelGemm job = ref *(ParallelGemm*)state;
        int size = job.ByColumns ? job.Problem.N : job.Problem.M;
        int units = (size + job.Unit - 1) / job.Unit;
        int start = (int)((long)units * part / job.Parts) * job.Unit;
        int end = Math.Min(size, (int)((long)units * (part + 1) / job.Parts) * job.Unit);
        if (end <= start) return;
        var band = job.ByColumns ? job.Problem.Columns(start, end - start) : job.Problem.Rows(start, end - start);
        Gemm.RunSingle(band, job.Path);
    }
}
