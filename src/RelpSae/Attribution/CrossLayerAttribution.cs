using System.Diagnostics;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Attribution;

/// <summary>
/// Attribution to a cross-layer transcoder's features (<see cref="CrossLayerSplice"/>). The error nodes pass the gradient
/// through unchanged, so the coefficient at each layer's hook_mlp_out is the model's own (exact or rule-modified) and one
/// backward pass of the clean prompt records it at every layer (<see cref="ITransformerRun.ComponentBackward"/>). A layer-l'
/// feature writes to the outputs of layers l ≥ l', so ∂m/∂f = Σ_{l≥l'} g_l·W_dec[l'→l]ᵀ and its score at a position is
/// (f − f′)·∂m/∂f; the error nodes' is Σ_l (ε_l − ε′_l)·g_l. Scores are laid out [tokens × (layers·d_sae)], feature
/// l'·d_sae + i being layer l''s feature i. Integrated gradients would move every layer's features along a path at once
/// through a model whose MLPs are replaced; it is refused.
/// </summary>
public static class CrossLayerAttribution
{
    public static AttributionResult Run(IAttributionMethod method, ITransformer model, CrossLayerSplice splice, Metric metric, int[] tokens)
    {
        if (method is not GradientMethod)
            throw new RelpSaeException($"method {method.Name} is not supported for a cross-layer transcoder: use gradient, relp, relp-ah, attnlrp or a rule list");
        var clock = Stopwatch.StartNew();
        if (tokens.Length != splice.Tokens) throw new ArgumentException($"{tokens.Length} tokens for a splice of {splice.Tokens}", nameof(tokens));
        using var run = model.Forward(tokens, 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var recorded = run.ComponentBackward([metric], method.Rules);
        var g = splice.OutputHooks.Select(h => recorded.At(new HookPoint(HookKind.MlpOut, h.Layer))).ToArray();
        return Score(method, splice, g, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// ∂m/∂f of every layer's features [tokens × d_sae] from the coefficients <paramref name="g"/> at each layer's output
    /// [tokens × d_model]: Σ_{l≥l'} g_l·W_dec[l'→l]ᵀ.
    /// </summary>
    public static float[][] FeatureGradients(CrossLayerSplice splice, float[][] g)
    {
        var t = splice.Transcoder;
        int T = splice.Tokens, n = t.DSae, d = t.DModel;
        var result = new float[t.Layers][];
        for (int source = 0; source < t.Layers; source++)
        {
            result[source] = new float[T * n];
            for (int target = source; target < t.Layers; target++)
                Gemm.Multiply(Matrix.Of(g[target], T, d), Matrix.Of(t.Decoder(source, target), n, d).T, Matrix.Into(result[source], T, n), accumulate: true);
        }
        return result;
    }

    /// <summary>The scores from the coefficients <paramref name="g"/> at every layer's output; <paramref name="seconds"/> is what g cost.</summary>
    public static AttributionResult Score(IAttributionMethod method, CrossLayerSplice splice, float[][] g, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var t = splice.Transcoder;
        int T = splice.Tokens, n = t.DSae, d = t.DModel, width = t.Layers * n;
        var gradients = FeatureGradients(splice, g);
        var scores = new float[(long)T * width];
        var totals = new double[width];
        var errors = new double[T];
        for (int layer = 0; layer < t.Layers; layer++)
            for (int p = 0; p < T; p++)
            {
                for (int i = 0; i < n; i++)
                {
                    int k = p * n + i;
                    float score = gradients[layer][k] * (splice.Features[layer][k] - splice.BaselineFeatures[layer][k]);
                    scores[(long)p * width + layer * n + i] = score;
                    totals[layer * n + i] += score;
                }
                double e = 0;
                for (int j = 0; j < d; j++) e += (double)(splice.Error[layer][p * d + j] - splice.BaselineError[layer][p * d + j]) * g[layer][p * d + j];
                errors[p] += e;
            }
        return new AttributionResult(method.Name, method.Rules, T, width, scores, totals, errors, seconds + clock.Elapsed.TotalSeconds);
    }
}
