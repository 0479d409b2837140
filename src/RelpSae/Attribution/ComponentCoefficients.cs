using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The coefficient c of each method at every component hook, for the estimate (a_clean − a_corr)·c.
/// Gradient and rule presets: one backward pass of the clean run records c at every hook it passes.
/// Integrated gradients: for each chosen hook H of block L, H's activation (all positions) moves on the
/// straight line from its corrupted to its clean value while the rest of the model is clean, and c is
/// the exact gradient at H averaged over the quadrature nodes — the IG of patching H. Heads read hook_z
/// on the hook_attn_out path (z enters attn_out affinely, so the paths coincide). Its cost is
/// (chosen hooks) × ⌈steps / chunk⌉ batched forward and backward passes from blocks.L.hook_resid_pre.
/// </summary>
public static class ComponentCoefficients
{
    public static ComponentGradients For(IAttributionMethod method, ITransformer model, ITransformerRun clean, ITransformerRun corrupt, Metric metric, ComponentSelection selection) =>
        method is IntegratedGradients ig
            ? PathAverage(ig, model, clean, corrupt, metric, selection)
            : clean.ComponentBackward([metric], method.Rules);

    private static ComponentGradients PathAverage(IntegratedGradients ig, ITransformer model, ITransformerRun clean, ITransformerRun corrupt, Metric metric, ComponentSelection selection)
    {
        var c = model.Facts;
        var result = new ComponentGradients(c.NLayers);
        // A head's coefficient comes from the hook_attn_out path: walk that path when either is chosen.
        var hooks = selection.Hooks.Select(h => h.Kind == HookKind.AttnZ ? new HookPoint(HookKind.AttnOut, h.Layer) : h).Distinct();
        foreach (var hook in hooks)
        {
            var mean = new float[clean.Rows * c.DModel];
            var meanZ = hook.Kind == HookKind.AttnOut ? new float[clean.Rows * c.Width(new HookPoint(HookKind.AttnZ, hook.Layer), clean.Tokens)] : null;
            Walk(ig, model, clean, corrupt, metric, hook, (g, weight, row) =>
            {
                Accumulate(g.At(hook), row, weight, mean);
                if (meanZ is not null) Accumulate(g.Z[hook.Layer]!, row, weight, meanZ);
            });
            Slot(result, hook.Kind)[hook.Layer] = mean;
            if (meanZ is not null) result.Z[hook.Layer] = meanZ;
        }
        return result;
    }

    /// <summary>Runs the path points of one hook in passes as IG sizes them; calls back with each chunk's gradients, a point's weight and its sequence.</summary>
    private static void Walk(IntegratedGradients ig, ITransformer model, ITransformerRun clean, ITransformerRun corrupt, Metric metric, HookPoint hook,
        Action<ComponentGradients, float, int> add)
    {
        int T = clean.Tokens, d = model.Facts.DModel, size = T * d;
        var (nodes, weights) = Quadrature.Create(ig.Rule, ig.Steps);
        var start = new HookPoint(HookKind.ResidPre, hook.Layer);
        var startActivation = clean.Cached(start);
        var (a, b) = (corrupt.Cached(hook), clean.Cached(hook));
        int chunk = ig.PointsPerPass(T);
        for (int first = 0; first < ig.Steps; first += chunk)
        {
            int count = Math.Min(chunk, ig.Steps - first);
            var input = new float[count * size];
            var patches = new List<ActivationPatch>(count * T);
            for (int j = 0; j < count; j++)
            {
                startActivation.CopyTo(input, j * size);
                float alpha = (float)nodes[first + j];
                var point = new float[size];
                for (int i = 0; i < size; i++) point[i] = a[i] + alpha * (b[i] - a[i]);
                for (int t = 0; t < T; t++) patches.Add(new ActivationPatch(hook, j * T + t, 0, point.AsMemory(t * d, d)));
            }
            using var run = model.ForwardFrom(start, input, count, T, new RunOptions { KeepForBackward = true, Logits = LogitRows.None, Patches = patches });
            // The metric summed over the chunk: row j's gradient is that of path point j alone.
            var g = run.ComponentBackward([metric], PropagationRules.Gradient);
            for (int j = 0; j < count; j++) add(g, (float)weights[first + j], j);
        }
    }

    private static void Accumulate(float[] gradient, int sequence, float weight, float[] mean)
    {
        TensorPrimitives.MultiplyAdd(gradient.AsSpan(sequence * mean.Length, mean.Length), weight, mean, mean);
    }

    private static float[]?[] Slot(ComponentGradients g, HookKind kind) => kind switch
    {
        HookKind.ResidPre => g.ResidPre,
        HookKind.AttnOut => g.AttnOut,
        _ => g.MlpOut,
    };
}
