using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// Integrated gradients along the straight line from the baseline to the clean activation at the hook,
/// x(α) = x′ + α(x − x′) (features and error move together): the weighted mean of the exact gradient
/// at the quadrature nodes. Only the blocks after the hook run; the path points go through the model
/// in batches of <see cref="ChunkSize"/>.
/// </summary>
public sealed class IntegratedGradients(int steps = 32, QuadratureRule rule = QuadratureRule.Midpoint, int chunkSize = 8) : IAttributionMethod
{
    /// <summary>
    /// The most steps allowed: midpoint and Gauss–Legendre errors are far below float noise long before
    /// this, and each step is a backward pass, so more only costs time (and Gauss–Legendre nodes O(n²)).
    /// </summary>
    public const int MaxSteps = 1024;

    public int Steps { get; } = steps switch
    {
        <= 0 => throw new RelpSaeException($"--ig-steps must be positive, got {steps}"),
        > MaxSteps => throw new RelpSaeException($"--ig-steps must be at most {MaxSteps}, got {steps}"),
        _ => steps,
    };
    public QuadratureRule Rule { get; } = rule;
    public int ChunkSize { get; } = Math.Max(1, chunkSize);

    public string Name => "ig";
    public PropagationRules Rules => PropagationRules.Gradient;

    public float[] HookGradient(SaeSplice splice, Metric metric)
    {
        var (nodes, weights) = Quadrature.Create(Rule, Steps);
        int size = splice.Clean.Length;
        var mean = new float[size];
        for (int start = 0; start < Steps; start += ChunkSize)
        {
            int count = Math.Min(ChunkSize, Steps - start);
            var path = new float[count * size];
            for (int j = 0; j < count; j++)
            {
                float alpha = (float)nodes[start + j];
                var row = path.AsSpan(j * size, size);
                for (int i = 0; i < size; i++)
                    row[i] = splice.BaselineActivation[i] + alpha * (splice.Clean[i] - splice.BaselineActivation[i]);
            }
            // The metric summed over the batch: row j's gradient is that of path point j alone.
            var g = splice.Downstream.Backward(path, count, splice.Tokens, metric, PropagationRules.Gradient);
            for (int j = 0; j < count; j++)
            {
                float w = (float)weights[start + j];
                var row = g.AsSpan(j * size, size);
                for (int i = 0; i < size; i++) mean[i] += w * row[i];
            }
        }
        return mean;
    }
}
