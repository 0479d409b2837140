using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// Products with only a few rows of C (one token at a time during generation): here each element of B
/// is used by so few rows that packing B would cost as much as the arithmetic, so B is read where it
/// lies. op(B) = B streams along B's rows (four vectors of C at once); op(B) = Bᵀ becomes dot products
/// of rows of A with rows of B (four at once). The few ragged columns left over take the packed path.
/// </summary>
internal static unsafe class SkinnyGemm
{
    private const int Group = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, O>(in GemmProblem g) where T : struct where O : IKernelOps<T>
    {
        float* a = g.A;
        int lda = g.Lda;
        if (g.TransA)
        {
            // Rows of op(A) are columns of the stored A: gather the few of them contiguous.
            a = PackBuffers.ForThisThread.A(g.M * g.K);
            for (int i = 0; i < g.M; i++)
                for (int p = 0; p < g.K; p++) a[i * g.K + p] = g.AAt(i, p)[0];
            lda = g.K;
        }
        int done = g.TransB ? Dots<T, O>(g, a, lda) : Streams<T, O>(g, a, lda);
        if (done < g.N) GemmDriver.Run<T, O>(g.Columns(done, g.N - done));
    }

    /// <summary>C[i, j..j+4w) (+)= Σ_p A[i,p]·B[p, j..j+4w); returns the columns done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Streams<T, O>(in GemmProblem g, float* a, int lda) where T : struct where O : IKernelOps<T>
    {
        int w = O.Width, strip = Group * w, j = 0;
        for (; j + strip <= g.N; j += strip)
            for (int i = 0; i < g.M; i++)
            {
                float* ai = a + (nint)i * lda, b = g.B + j;
                T c0 = default, c1 = default, c2 = default, c3 = default;
                for (int p = 0; p < g.K; p++, b += g.Ldb)
                {
                    T x = O.Splat(ai[p]);
                    c0 = O.MulAdd(x, O.Load(b), c0);
                    c1 = O.MulAdd(x, O.Load(b + w), c1);
                    c2 = O.MulAdd(x, O.Load(b + 2 * w), c2);
                    c3 = O.MulAdd(x, O.Load(b + 3 * w), c3);
                }
                float* c = g.CAt(i, j);
                if (g.Accumulate)
                    (c0, c1, c2, c3) = (O.Add(c0, O.Load(c)), O.Add(c1, O.Load(c + w)), O.Add(c2, O.Load(c + 2 * w)), O.Add(c3, O.Load(c + 3 * w)));
                O.Store(c, c0); O.Store(c + w, c1); O.Store(c + 2 * w, c2); O.Store(c + 3 * w, c3);
            }
        return j;
    }

    /// <summary>
    /// C[i, j..j+4) (+)= A[i,:]·B[j..j+4, :]ᵀ as four dot products, for two rows of A at once (they share the loads of B);
    /// returns the columns done. Each dot's lanes are summed by <see cref="IKernelOps{T}.Sums"/>, four dots in one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Dots<T, O>(in GemmProblem g, float* a, int lda) where T : struct where O : IKernelOps<T>
    {
        int w = O.Width, j = 0, kv = g.K - g.K % w;
        for (; j + Group <= g.N; j += Group)
        {
            float* b0 = g.B + (nint)j * g.Ldb, b1 = b0 + g.Ldb, b2 = b1 + g.Ldb, b3 = b2 + g.Ldb;
            for (int i = 0; i < g.M; i += 2)
            {
                // A last row without a partner is taken twice and stored once.
                float* ai = a + (nint)i * lda, ak = i + 1 < g.M ? ai + lda : ai;
                T d0 = default, d1 = default, d2 = default, d3 = default, e0 = default, e1 = default, e2 = default, e3 = default;
                for (int p = 0; p < kv; p += w)
                {
                    T x = O.Load(ai + p), y = O.Load(ak + p), v0 = O.Load(b0 + p), v1 = O.Load(b1 + p), v2 = O.Load(b2 + p), v3 = O.Load(b3 + p);
                    d0 = O.MulAdd(x, v0, d0); d1 = O.MulAdd(x, v1, d1); d2 = O.MulAdd(x, v2, d2); d3 = O.MulAdd(x, v3, d3);
                    e0 = O.MulAdd(y, v0, e0); e1 = O.MulAdd(y, v1, e1); e2 = O.MulAdd(y, v2, e2); e3 = O.MulAdd(y, v3, e3);
                }
                Store(g, i, j, ai, kv, b0, b1, b2, b3, O.Sums(d0, d1, d2, d3));
                if (ak != ai) Store(g, i + 1, j, ak, kv, b0, b1, b2, b3, O.Sums(e0, e1, e2, e3));
            }
        }
        return j;
    }

    /// <summary>C[i, j..j+4) (+)= the four dots' vector sums <paramref name="s"/> plus their terms past <paramref name="kv"/>, one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in GemmProblem g, int i, int j, float* ai, int kv, float* b0, float* b1, float* b2, float* b3, Vector128<float> s)
    {
        if (kv < g.K)
        {
            float s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
            for (int p = kv; p < g.K; p++)
            {
                s0 += ai[p] * b0[p]; s1 += ai[p] * b1[p]; s2 += ai[p] * b2[p]; s3 += ai[p] * b3[p];
            }
            s = Vector128.Create(s0, s1, s2, s3);
        }
        float* c = g.CAt(i, j);
        if (g.Accumulate) s += Vector128.Load(c);
        s.Store(c);
    }
}
