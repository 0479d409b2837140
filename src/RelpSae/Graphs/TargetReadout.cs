using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Model;

namespace RelpSae.Graphs;

/// <summary>
/// Reads a graph's targets from a live pass of several sequences into [sequences × targets]: each feature's
/// pre-activation x·W_enc[:, i] + b_enc[i] as its layer's input hook passes, the logits once the pass is done.
/// </summary>
internal sealed class TargetReadout
{
    private readonly record struct FeatureRead(int Target, int Position, float[] Encoder, float Bias);
    private readonly record struct LogitRead(int Target, int Position, int Token, bool Demeaned);

    private readonly List<FeatureRead>[] byLayer;
    private readonly List<LogitRead> logits = [];
    private readonly int vocab;

    public TargetReadout(ModelFacts facts, IReadOnlyList<TranscoderSplice> splices, IReadOnlyList<EdgeTarget> targets, int tokens)
    {
        vocab = facts.VocabSize;
        Count = targets.Count;
        byLayer = [.. splices.Select(_ => new List<FeatureRead>())];
        for (int t = 0; t < targets.Count; t++)
        {
            var target = targets[t];
            if (target.Position < 0 || target.Position >= tokens)
                throw new RelpSaeException($"target {target} is at position {target.Position}, outside the prompt's {tokens} tokens");
            if (target.Kind == TargetKind.FeatureInput)
            {
                if (target.Layer < 0 || target.Layer >= splices.Count)
                    throw new RelpSaeException($"target {target} is at layer {target.Layer}; the model has layers 0..{splices.Count - 1}");
                var sae = splices[target.Layer].Transcoder.Dictionary;
                if (target.Index < 0 || target.Index >= sae.DSae)
                    throw new RelpSaeException($"target {target} names feature {target.Index}; layer {target.Layer}'s transcoder has features 0..{sae.DSae - 1}");
                var column = new float[sae.DIn];
                for (int j = 0; j < column.Length; j++) column[j] = sae.WEnc[(long)j * sae.DSae + target.Index];
                byLayer[target.Layer].Add(new FeatureRead(t, target.Position, column, sae.BEnc[target.Index]));
            }
            else
            {
                if (target.Index < 0 || target.Index >= vocab)
                    throw new RelpSaeException($"target {target} names token id {target.Index}, outside the vocabulary (0..{vocab - 1})");
                logits.Add(new LogitRead(t, target.Position, target.Index, target.Kind == TargetKind.DemeanedLogit));
            }
        }
        Rows = logits.Count == 0 ? LogitRows.None : logits.All(l => l.Position == tokens - 1) ? LogitRows.Last : LogitRows.All;
    }

    public int Count { get; }

    /// <summary>The logit rows a pass must compute for the logit targets.</summary>
    public LogitRows Rows { get; }

    /// <summary>Vocabulary-wide logit values one sequence of <paramref name="tokens"/> tokens holds in a pass.</summary>
    public long LogitValuesPerSequence(int tokens) => Rows switch { LogitRows.All => (long)tokens * vocab, LogitRows.Last => vocab, _ => 0 };

    /// <summary>The feature targets of <paramref name="layer"/> from its input hook's activation [batch × tokens × d].</summary>
    public void ReadFeatures(int layer, ReadOnlySpan<float> activation, int batch, int tokens, double[] values)
    {
        foreach (var read in byLayer[layer])
        {
            int d = read.Encoder.Length;
            for (int b = 0; b < batch; b++)
                values[b * Count + read.Target] = TensorPrimitives.Dot(activation.Slice((b * tokens + read.Position) * d, d), read.Encoder) + (double)read.Bias;
        }
    }

    /// <summary>The logit targets from a finished pass's logits (laid out as <see cref="Rows"/> asked).</summary>
    public void ReadLogits(ITransformerRun run, double[] values)
    {
        if (logits.Count == 0) return;
        for (int b = 0; b < run.Batch; b++)
            foreach (var read in logits)
            {
                int row = Rows == LogitRows.Last ? b : b * run.Tokens + read.Position;
                var logitRow = run.Logits.AsSpan(row * vocab, vocab);
                double value = logitRow[read.Token];
                if (read.Demeaned) value -= Mean(logitRow);
                values[b * Count + read.Target] = value;
            }
    }

    private static double Mean(ReadOnlySpan<float> row)
    {
        double sum = 0;
        foreach (var v in row) sum += v;
        return sum / row.Length;
    }
}
