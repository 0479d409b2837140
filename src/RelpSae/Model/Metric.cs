using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

public enum MetricKind { Logit, LogitDiff, LogProb }

/// <summary>
/// The scalar an attribution explains, read at one position (−1 = the last): the logit of a target
/// token, the logit difference target − foil, or the log-probability of the target.
/// </summary>
public sealed record Metric(MetricKind Kind, int Target, int Foil = -1, int Position = -1)
{
    public int ResolvePosition(int tokens)
    {
        int p = Position < 0 ? tokens + Position : Position;
        if (p < 0 || p >= tokens) throw new RelpSaeException($"metric position {Position} is outside a prompt of {tokens} tokens");
        return p;
    }

    public override string ToString() => Kind switch
    {
        MetricKind.Logit => $"logit[{Target}]",
        MetricKind.LogitDiff => $"logit[{Target}] - logit[{Foil}]",
        _ => $"logprob[{Target}]",
    };

    /// <summary>
    /// The metric from the final (ln_f) hidden row h: logits are h·Uᵀ with U the unembedding [V, d] (a <see cref="Linear"/> d → V), capped
    /// by <paramref name="cap"/> when the model caps them (Gemma-2).
    /// </summary>
    public double Value(ReadOnlySpan<float> h, Linear unembed, Softcap cap = default)
    {
        return Kind switch
        {
            MetricKind.Logit => cap.Apply(TensorPrimitives.Dot(h, Row(unembed, Target))),
            MetricKind.LogitDiff => cap.Apply(TensorPrimitives.Dot(h, Row(unembed, Target))) - cap.Apply(TensorPrimitives.Dot(h, Row(unembed, Foil))),
            _ => LogSoftmaxAt(h, unembed, cap),
        };
    }

    /// <summary>
    /// dm/dh for the final hidden row h: Σ_v (dm/dlogit_v)·U[v]; through a set <paramref name="cap"/> by
    /// <paramref name="capBackward"/> (its exact gradient, or the Identity-rule in its place).
    /// </summary>
    public void Gradient(ReadOnlySpan<float> h, Linear unembed, Span<float> dh, Softcap cap = default, ElementwiseBackward? capBackward = null)
    {
        if (cap.IsSet)
        {
            CappedGradient(h, unembed, dh, cap, capBackward ?? cap.Gradient);
            return;
        }
        unembed.Row(Target, dh);
        if (Kind == MetricKind.LogitDiff)
            TensorPrimitives.Subtract(dh, Row(unembed, Foil), dh);
        else if (Kind == MetricKind.LogProb)
        {
            // d log p_t / d logit_v = [v = t] − p_v: subtract the probability-weighted unembedding.
            var p = Logits(h, unembed);
            Softmax.Apply(p, p);
            unembed.Transpose(p, p.Length, 1, dh, accumulate: false);
            TensorPrimitives.Subtract(Row(unembed, Target), dh, dh);
        }
    }

    /// <summary>Token ids outside the vocabulary are the caller's error; this says which.</summary>
    public void Validate(int vocabSize)
    {
        if (Target < 0 || Target >= vocabSize) throw new RelpSaeException($"target token id {Target} is outside the vocabulary (0..{vocabSize - 1})");
        if (Kind == MetricKind.LogitDiff && (Foil < 0 || Foil >= vocabSize))
            throw new RelpSaeException($"foil token id {Foil} is outside the vocabulary (0..{vocabSize - 1})");
    }

    /// <summary>
    /// dm/dh through the cap: dm/dlogit_v on the capped logits (±1 at the target and foil, or [v = t] − p_v),
    /// taken back through the cap to the raw logits, then Σ_v · U[v].
    /// </summary>
    private void CappedGradient(ReadOnlySpan<float> h, Linear unembed, Span<float> dh, Softcap cap, ElementwiseBackward capBackward)
    {
        int[] ids = Kind switch { MetricKind.Logit => [Target], MetricKind.LogitDiff => [Target, Foil], _ => [] };
        var raw = Kind == MetricKind.LogProb ? Logits(h, unembed) : new float[ids.Length];
        for (int i = 0; i < ids.Length; i++) raw[i] = TensorPrimitives.Dot(h, Row(unembed, ids[i]));
        var capped = (float[])raw.Clone();
        cap.Apply(capped);
        var g = new float[raw.Length];
        if (Kind == MetricKind.LogProb)
        {
            Softmax.Apply(capped, g);
            TensorPrimitives.Negate(g, g);
            g[Target] += 1;
        }
        else
        {
            g[0] = 1;
            if (Kind == MetricKind.LogitDiff) g[1] = -1;
        }
        var draw = new float[raw.Length];
        capBackward(raw, capped, g, draw);
        if (Kind == MetricKind.LogProb)
        {
            unembed.Transpose(draw, draw.Length, 1, dh, accumulate: false);
            return;
        }
        dh.Clear();
        for (int i = 0; i < ids.Length; i++) TensorPrimitives.MultiplyAdd(Row(unembed, ids[i]), draw[i], dh, dh);
    }

    private double LogSoftmaxAt(ReadOnlySpan<float> h, Linear unembed, Softcap cap)
    {
        var logits = Logits(h, unembed);
        cap.Apply(logits);
        float max = TensorPrimitives.Max<float>(logits);
        double sum = 0;
        foreach (var l in logits) sum += Math.Exp(l - max);
        return logits[Target] - max - Math.Log(sum);
    }

    private static float[] Logits(ReadOnlySpan<float> h, Linear unembed)
    {
        var logits = new float[unembed.Outputs];
        unembed.Apply(h, 1, logits, unembed.Outputs);
        return logits;
    }

    /// <summary>Token <paramref name="id"/>'s row of the unembedding [V, d]: its logit's direction.</summary>
    private static float[] Row(Linear unembed, int id)
    {
        var row = new float[unembed.Inputs];
        unembed.Row(id, row);
        return row;
    }
}
