using System.Runtime.CompilerServices;

namespace RelpSae.Numerics;

/// <summary>
/// Packs a block of op(B) = Pᵀ, P a packed matrix, from P's own panels: a weight's backward product reads the
/// forward's panels, so the model holds one copy of each weight instead of a second one packed the other way.
/// Row p of P's panel (its nr lanes side by side) is a column of the block wanted, so each piece of a panel is
/// a small row-major matrix (nr floats from row to row) transposed into place, 8×8 at a time. 16-bit panels are
/// widened into a scratch buffer first. The cost is one pass over the weight per product; see docs/performance.md.
/// </summary>
internal static unsafe class PanelTranspose
{
    /// <summary>
    /// dst: op(B)'s block at rows [p0, p0 + kc) (P's columns) and this problem's columns [j0, j0 + nc) (P's rows),
    /// in nr-wide panels padded with zeros as <see cref="Packing.PackB"/> packs them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(in GemmProblem g, int p0, int kc, int j0, int nc, int nr, float* dst, float* scratch)
    {
        int size = g.Element.Size(), q0 = g.PanelCol0 + j0;
        for (int jb = 0; jb < nc; jb += nr, dst += nr * kc)
        {
            int cols = Math.Min(nr, nc - jb);
            if (cols < nr)
                for (int p = 0; p < kc; p++) Packing.ClearLanes(dst + p * nr, cols, nr);
            for (int qa = q0 + jb, qe = qa + cols; qa < qe;)
            {
                // P's rows [qa, qb) lie in one of its KC-deep blocks, its panel pp holding columns [pp, pp + nr).
                int block = qa / GemmDriver.KC * GemmDriver.KC, kcP = Math.Min(GemmDriver.KC, g.PanelRows - block);
                int qb = Math.Min(qe, block + GemmDriver.KC);
                for (int pp = p0 / nr * nr; pp < p0 + kc; pp += nr)
                {
                    int la = Math.Max(p0, pp) - pp, lb = Math.Min(p0 + kc, pp + nr) - pp;
                    byte* piece = g.Panels + ((nint)block * g.PanelCols + (nint)pp * kcP + (nint)(qa - block) * nr) * size;
                    float* src = (float*)piece;
                    if (g.Element != PanelElement.Float32)
                    {
                        PanelElements.Widen(g.Element, piece, (qb - qa) * nr, scratch);
                        src = scratch;
                    }
                    Packing.TransposeInto(src + la, nr, qb - qa, lb - la, dst + (pp + la - p0) * nr + (qa - q0 - jb), nr);
                }
                qa = qb;
            }
        }
    }
}
