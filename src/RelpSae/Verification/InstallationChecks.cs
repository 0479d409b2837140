using System.Diagnostics;
using System.Runtime.Intrinsics;
using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;
using RelpSae.Sae;

namespace RelpSae.Verification;

/// <summary>One check of an installation: its name, whether it passed, what was seen, how long it took.</summary>
public sealed record CheckResult(string Name, bool Passed, string Detail, double Seconds);

/// <summary>
/// What `relp-sae verify` runs: the runtime and SIMD path, the GEMM against a float64 reference, the
/// model and SAE loading and running, a finite-difference check of the backward pass, and one
/// attribution per method. Each check catches its own failure so that the rest still run. Without an
/// SAE the model is checked alone: the backward pass at its middle block, and the SAE's checks skipped.
/// </summary>
public static class InstallationChecks
{
    public static IEnumerable<CheckResult> Run(string modelDir, string? saeDir, string prompt = "The Tower")
    {
        yield return Check("runtime", () =>
        {
            var simd = Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar";
            return (true, $".NET {Environment.Version}, {Environment.ProcessorCount} cores, SIMD path {simd}");
        });
        yield return Check("GEMM vs float64", GemmAgainstReference);

        ModelFolder? model = null;
        int[] ids = [];
        yield return Check("model loads and runs", () =>
        {
            model = ModelFolder.Load(modelDir);
            // Without a tokenizer the prompt is the start token and a few ids.
            ids = model.Tokenizer?.Encode(prompt) ?? [model.Facts.BosTokenId, .. Enumerable.Range(3, 4).Select(i => i % model.Facts.VocabSize)];
            var logits = model.Transformer.Forward(ids, 1).Logits;
            bool finite = logits.All(float.IsFinite);
            int top = Enumerable.Range(0, logits.Length).MaxBy(i => logits[i]);
            string shown = model.Tokenizer is null ? string.Join(",", ids) : prompt;
            return (finite, $"{model.Facts.Architecture}, {model.Facts.NLayers} layers, d_model {model.Facts.DModel}, weights {model.Memory.TotalBytes / 1e6:F1} MB once packed; \"{shown}\" → next token \"{model.TokenText(top)}\"");
        });
        if (model is null) yield break;
        if (saeDir is null)
        {
            var middle = new HookPoint(HookKind.ResidPre, model.Facts.NLayers / 2);
            yield return Check("backward vs finite differences", () => FiniteDifferences(model.Transformer, middle, ids));
            yield return new CheckResult("SAE and attribution", true, "skipped: no SAE given", 0);
            yield break;
        }

        SparseAutoencoder? sae = null;
        HookPoint hook = default;
        yield return Check("SAE loads and reconstructs", () =>
        {
            sae = SaeFiles.Load(saeDir);
            hook = model.Facts.ParseHook(sae.Config.HookName ?? throw new RelpSaeException("the SAE's cfg.json names no hook"));
            var x = model.Transformer.ActivationAt(hook, ids, 1);
            var f = sae.Encode(x);
            var xhat = sae.Decode(f);
            double err = 0, total = 0, mean = x.Average();
            for (int i = 0; i < x.Length; i++) { err += (x[i] - xhat[i]) * (x[i] - xhat[i]); total += (x[i] - mean) * (x[i] - mean); }
            double ev = 1 - err / total;
            double l0 = f.Count(v => v != 0) / (double)(x.Length / sae.DIn);
            return (sae.DIn == model.Facts.DModel && ev > 0, $"{hook}, {sae.DSae} features; on the prompt: explained variance {ev:F3}, L0 {l0:F1}");
        });
        if (sae is null) yield break;

        yield return Check("backward vs finite differences", () => FiniteDifferences(model.Transformer, hook, ids));

        var logits = model.Transformer.Forward(ids, 1).Logits;
        var metric = new Metric(MetricKind.Logit, Enumerable.Range(0, logits.Length).MaxBy(i => logits[i]));
        var splice = SaeSplice.Create(model.Transformer, sae, hook, ids, Baseline.Zero);
        double delta = Attributor.FullPatchDelta(splice, metric);
        foreach (var method in new IAttributionMethod[] { GradientMethod.Gradient, new IntegratedGradients(32, QuadratureRule.GaussLegendre), GradientMethod.RelP, GradientMethod.RelPAh })
            yield return Check($"attribution: {method.Name}", () =>
            {
                var r = Attributor.Run(method, splice, metric);
                bool finite = r.Scores.All(float.IsFinite) && double.IsFinite(r.ErrorNode);
                var top = r.Top(1)[0];
                var detail = $"top feature #{top.Feature} ({top.Score:F3}); Σ scores + error {r.Total + r.ErrorNode:F3} vs Δm {delta:F3}";
                // Integrated gradients must add up to the full-patch change (completeness, up to quadrature error).
                bool complete = method is not IntegratedGradients || Math.Abs(r.Total + r.ErrorNode - delta) <= 0.05 * Math.Abs(delta) + 1e-3;
                return (finite && complete, detail);
            });
    }

    private static CheckResult Check(string name, Func<(bool Passed, string Detail)> check)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var (passed, detail) = check();
            return new CheckResult(name, passed, detail, clock.Elapsed.TotalSeconds);
        }
        catch (Exception e)
        {
            return new CheckResult(name, false, $"{e.GetType().Name}: {e.Message}", clock.Elapsed.TotalSeconds);
        }
    }

    private static (bool, string) GemmAgainstReference()
    {
        const int m = 37, n = 101, k = 67;
        var rng = new Random(1);
        float[] a = Enumerable.Range(0, m * k).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var c = new float[m * n];
        Gemm.Multiply(Matrix.Of(a, m, k), Matrix.Of(b, k, n), Matrix.Into(c, m, n));
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                worst = Math.Max(worst, Math.Abs(s - c[i * n + j]));
            }
        return (worst < 1e-4, $"{m}×{n}×{k}: largest error {worst:E1}");
    }

    /// <summary>Directional derivatives of the metric at the hook: the backward pass against central differences.</summary>
    private static (bool, string) FiniteDifferences(ITransformer model, HookPoint hook, int[] ids)
    {
        var x = model.ActivationAt(hook, ids, 1);
        var run = model.ForwardFrom(hook, x, 1, ids.Length, new RunOptions { KeepForBackward = true, Logits = LogitRows.Last });
        int target = Enumerable.Range(0, run.Logits.Length).MaxBy(i => run.Logits[i]);
        var metric = new Metric(MetricKind.LogProb, target);
        var g = run.Backward(metric, hook, PropagationRules.Gradient);
        var rng = new Random(2);
        double worst = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            var v = x.Select(_ => rng.NextSingle() - 0.5f).ToArray();
            double analytic = 0;
            for (int i = 0; i < x.Length; i++) analytic += (double)g[i] * v[i];
            double At(float h) => model.ForwardFrom(hook, x.Select((xi, i) => xi + h * v[i]).ToArray(), 1, ids.Length,
                new RunOptions { Logits = LogitRows.None }).MetricValues(metric)[0];
            const float step = 1e-2f;
            double numeric = (At(step) - At(-step)) / (2 * step);
            worst = Math.Max(worst, Math.Abs(numeric - analytic) / Math.Max(Math.Abs(numeric), 1e-3));
        }
        return (worst < 1e-2, $"log-prob gradient at {hook}, 3 random directions: largest relative error {worst:E1}");
    }
}
