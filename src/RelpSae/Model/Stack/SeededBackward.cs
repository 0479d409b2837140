using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// A backward pass seeded by vectors instead of a metric (<see cref="GradientSeed"/>): one seed a sequence of a batch of
/// the same prompt, each entering where its target reads the residual stream, so that one pass gives the gradient of
/// many targets. It starts at the highest seed's block, records the coefficient at every component it passes, and under
/// <see cref="PropagationRules.CutMlp"/> a transcoder's skip connection is the only path through its MLP; a
/// <see cref="ResidualCut"/> stops it at hook_resid_post hooks.
/// </summary>
internal static class SeededBackward
{
    public static void Run<TLayer>(StackedTransformer<TLayer> model, BlockRun<TLayer> run, IReadOnlyList<GradientSeed> seeds, PropagationRules rules,
        ComponentGradients record, IReadOnlyList<MlpSkip> skips, ResidualCut? cut = null) where TLayer : BlockActivations
    {
        var facts = model.Facts;
        int d = facts.DModel, T = run.Tokens, L = facts.NLayers;
        if (seeds.Count == 0) throw new ArgumentException("a seeded backward pass needs at least one seed", nameof(seeds));
        foreach (var s in seeds) Check(facts, run, s);
        var f = BackwardFunctions.Resolve(rules, model.Exact);
        var dx = new float[run.Rows * d];
        var scratch = new float[d];
        var ones = new float[d];
        ones.AsSpan().Fill(1);
        int top = seeds.Max(s => Block(facts, s));
        // The top block works on the seeded rows alone when they are one a sequence (its attention's backward needs that).
        int[] topRows = [.. seeds.Where(s => Block(facts, s) == top).Select(s => s.Sequence * T + s.Position).Distinct().Order()];
        int[]? metricRows = topRows.Length == run.Batch && topRows.Select(r => r / T).Distinct().Count() == run.Batch ? topRows : null;

        // Logit directions enter through the final norm, as the metric's gradient does.
        foreach (var s in seeds.Where(s => s.Hook.Kind == HookKind.LnFinal))
        {
            int row = s.Sequence * T + s.Position;
            f.Norm(s.Vector, run.FinalHat.AsSpan(row * d, d), run.FinalRstd[row], model.FinalNormScale, dx.AsSpan(row * d, d), scratch);
        }

        void Inject(HookKind kind, int l, int row, ReadOnlySpan<float> v)
        {
            var into = dx.AsSpan(row * d, d);
            if (kind is HookKind.Ln2Normalized or HookKind.MlpHookIn)
            {
                var (hat, rstd, gamma) = model.MlpNorm(run, l);
                f.Norm(v, hat.AsSpan(row * d, d), rstd[row], kind == HookKind.MlpHookIn ? gamma : ones, into, scratch);
            }
            else TensorPrimitives.Add(into, v, into);
        }

        var skipOf = new MlpSkip?[L];
        foreach (var skip in skips) skipOf[skip.Layer] = skip;
        var packed = skips.Count > 0 ? new float[run.Rows * d] : [];
        var through = skips.Count > 0 ? new float[run.Rows * d] : [];
        var cutAfter = new bool[L];
        foreach (int l in cut?.Blocks ?? []) cutAfter[l] = true;

        BackwardLoop.Run(top + 1, 0, dx, run.Rows, metricRows,
            (l, g, rows) =>
            {
                // Here dx is the gradient at resid_post (recorded already); g is dx itself, or its copy with parallel attention.
                if (cutAfter[l])
                {
                    Array.Clear(dx);
                    if (g != dx) Array.Clear(g);
                }
                foreach (var s in seeds)
                    if (s.Hook.Kind == HookKind.ResidPost && s.Hook.Layer == l)
                    {
                        int at = (s.Sequence * T + s.Position) * d;
                        TensorPrimitives.Add(dx.AsSpan(at, d), s.Vector, dx.AsSpan(at, d));
                        if (g != dx) TensorPrimitives.Add(g.AsSpan(at, d), s.Vector, g.AsSpan(at, d));
                    }
                model.MlpBackward(run, l, g, dx, rows, f);
                if (!f.CutMlp || skipOf[l] is not { } skip) return;
                // The skip adds x·W_skipᵀ: its input's gradient is g·W_skip, which enters where the transcoder reads.
                Gemm.Multiply(Matrix.Of(rows.Gather(g, d, packed), rows.Count, d), Matrix.Of(skip.Weight, d, d), Matrix.Into(through, rows.Count, d));
                for (int i = 0; i < rows.Count; i++) Inject(skip.Input.Kind, l, rows[i], through.AsSpan(i * d, d));
            },
            (l, g, rows) => model.AttentionBackward(run, l, g, dx, rows, f),
            record, facts.ParallelResidual,
            l =>
            {
                foreach (var s in seeds)
                    if (s.Hook.Kind is not (HookKind.LnFinal or HookKind.ResidPost) && s.Hook.Layer == l) Inject(s.Hook.Kind, l, s.Sequence * T + s.Position, s.Vector);
            });
    }

    /// <summary>The block whose MLP input (or output, at hook_resid_post) a seed enters at (the last block for the final norm's output).</summary>
    private static int Block(ModelFacts facts, GradientSeed s) => s.Hook.Kind == HookKind.LnFinal ? facts.NLayers - 1 : s.Hook.Layer;

    private static void Check<TLayer>(ModelFacts facts, BlockRun<TLayer> run, GradientSeed s) where TLayer : BlockActivations
    {
        var residual = facts.ParallelResidual ? HookKind.ResidPre : HookKind.ResidMid;
        bool mlpInput = s.Hook.Kind == residual || s.Hook.Kind is HookKind.MlpResidualIn or HookKind.Ln2Normalized or HookKind.MlpHookIn or HookKind.ResidPost;
        if (s.Hook.Kind != HookKind.LnFinal && !(mlpInput && s.Hook.Layer >= 0 && s.Hook.Layer < facts.NLayers))
            throw new ArgumentException($"a seed enters at the final norm's output, at an MLP's input or at hook_resid_post, not at {s.Hook}");
        if (s.Sequence < 0 || s.Sequence >= run.Batch || s.Position < 0 || s.Position >= run.Tokens || s.Vector.Length != facts.DModel)
            throw new ArgumentException($"a seed at sequence {s.Sequence}, position {s.Position} with {s.Vector.Length} values does not fit {run.Batch} sequences of {run.Tokens} tokens of width {facts.DModel}");
    }
}
