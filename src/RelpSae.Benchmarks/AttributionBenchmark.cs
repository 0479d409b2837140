using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Benchmarks;

/// <summary>
/// What attribution costs on a GPT-2-small-shaped model: each method and the ground truth for a
/// 64-token prompt with a random TopK SAE (768 → 3072, k 32) at blocks.6.hook_resid_pre, and component
/// patching's ground truth.
/// </summary>
public static class AttributionBenchmark
{
    public const int Tokens = 64;
    public const int IgSteps = 32;

    /// <summary>
    /// Integrated gradients' time in gradients of the same sitting, and its floor: the gradients its
    /// products alone would take at the FMA peak. A step is a gradient's work, so no batching can go below
    /// the floor (steps × the gradient's fraction of the peak); only less work per step can.
    /// </summary>
    public static (double Gradients, double Floor) IgCost(BenchRow ig, BenchRow gradient) =>
        (ig.Ms / gradient.Ms, ig.Gflop / ig.PeakGflops * 1000 / gradient.Ms);

    public static IEnumerable<BenchRow> Run(Gpt2 model, int threads, int warmup, int reps)
    {
        var sae = RandomTopK(model.Config.DModel, 4 * model.Config.DModel);
        var hook = model.Facts.ParseHook("blocks.6.hook_resid_pre");
        var ids = Enumerable.Range(0, Tokens).Select(i => i * 7 % model.Config.VocabSize).ToArray();
        var splice = SaeSplice.Create(model, sae, hook, ids, Baseline.Zero);
        var metric = new Metric(MetricKind.Logit, ModelBenchmark.Target);
        // Work counted for the gradient and IG only (the rules change which products run): the blocks after
        // the hook forward and back per path point, then the scores' product g·W_decᵀ once.
        double gradient = FlopCounts.Gpt2Gradient(model.Config, 1, Tokens, model.Config.NLayers - hook.Layer), scores = 2.0 * Tokens * sae.DIn * sae.DSae;
        foreach (var method in new IAttributionMethod[] { GradientMethod.Gradient, GradientMethod.RelP, GradientMethod.RelPAh, new IntegratedGradients(IgSteps) })
        {
            double flop = method switch
            {
                IntegratedGradients path => path.Steps * gradient + scores,
                _ when method == GradientMethod.Gradient => gradient + scores,
                _ => 0,
            };
            yield return new BenchRow(method is IntegratedGradients ig ? $"attribution_ig{ig.Steps}" : $"attribution_{method.Name}", 1, Tokens, threads,
                Timing.MedianMs(() => Attributor.Run(method, splice, metric), warmup, reps)) { Gflop = flop / 1e9 };
        }

        // Ground truth grows with the number of features patched: time it at several counts, then
        // once for every feature active anywhere in the prompt (what `evaluate` runs).
        var active = GroundTruth.ActiveFeatures(splice);
        var truth = new GroundTruth();
        foreach (int n in new[] { 32, 128 }.Where(n => n < active.Length))
            yield return new BenchRow("ground_truth", n, Tokens, threads,
                Timing.MedianMs(() => truth.Effects(splice, metric, active[..n]), Math.Min(warmup, 1), Math.Min(reps, 3)));
        yield return new BenchRow("ground_truth", active.Length, Tokens, threads, Timing.MedianMs(() => truth.Effects(splice, metric, active), 0, 1));
        // Patched at one late position only (--patch-position 56): the features active there.
        int late = Tokens - 8, dSae = sae.DSae;
        var activeLate = active.Where(f => splice.Features[late * dSae + f] != 0).ToArray();
        yield return new BenchRow("ground_truth_at_56", activeLate.Length, Tokens, threads,
            Timing.MedianMs(() => truth.Effects(splice, metric, activeLate, late), Math.Min(warmup, 1), Math.Min(reps, 3)));

        // Component patching's truth: every block's mlp_out at every position of a 32-token prompt where a
        // corrupted prompt differs: from position 1 on, then only in the last 8 positions; the median of three.
        var clean = ids[..32];
        foreach (var (name, from) in new[] { ("component_truth", 1), ("component_truth_last8", 24) })
        {
            var corrupt = clean.Select((id, i) => i < from ? id : (id + 1) % model.Config.VocabSize).ToArray();
            var patching = new ComponentPatching(model, [GradientMethod.Gradient], ComponentSelection.Parse("mlp_out", model.Facts));
            var runs = Enumerable.Range(0, 1 + Math.Min(reps, 3)).Select(_ => patching.Evaluate(0, "bench", clean, corrupt, metric)).Skip(1).ToArray();
            yield return new BenchRow(name, runs[0].Components.Length, clean.Length, threads,
                runs.Select(r => r.TruthSeconds * 1000).Order().ElementAt(runs.Length / 2));
        }
    }

    private static SparseAutoencoder RandomTopK(int dIn, int dSae)
    {
        var sae = new SparseAutoencoder(new SaeConfig { Architecture = SaeArchitecture.TopK, K = 32, DIn = dIn, DSae = dSae });
        var rng = new Random(1);
        for (int i = 0; i < sae.WEnc.Length; i++) sae.WEnc[i] = (rng.NextSingle() - 0.5f) * 0.05f;
        for (int i = 0; i < sae.WDec.Length; i++) sae.WDec[i] = (rng.NextSingle() - 0.5f) * 0.05f;
        return sae;
    }
}
