using RelpSae.Attribution;
using RelpSae.Graphs;
using RelpSae.Model;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The true direct effect computed the plain way, one source at a time and without <see cref="DirectEffects"/>' rewrite:
/// one-sequence passes whose activation patches write every layer's MLP output as it was — with a skip connection, plus
/// W_skip·(live input − clean input), found layer by layer, a pass each — and the source's row less its vector; the
/// targets are read by hand from the cached input hooks and the logits.
/// </summary>
internal static class PatchedReference
{
    /// <summary>Each target's value in the plain model (no patch at all), then with <paramref name="source"/> removed and every node held.</summary>
    public static (double[] Clean, double[] Ablated) Values(GraphFixture f, EdgeSource source, IReadOnlyList<EdgeTarget> targets, float scale = 1)
    {
        var clean = Read(f, targets, []);
        int T = GraphFixture.Prompt.Length, d = f.Model.Facts.DModel;
        var held = f.Splices.Select(s => (float[])s.TrueOutput.Clone()).ToArray();
        var (hook, vector) = Vector(f, source);
        for (int l = 0; l < f.Layers; l++)
        {
            var skip = f.Splices[l].Transcoder.Skip;
            if (skip is null) continue;
            // The layer's live input with the layers before it held: one pass that stops there.
            var input = f.Splices[l].InputHook;
            using var run = f.Model.Forward(GraphFixture.Prompt, 1, new RunOptions { Patches = Patches(f, held, hook, vector, source.Position, scale), Cache = [input], StopAfter = input, Logits = LogitRows.None });
            var x = run.Cached(input);
            for (int r = 0; r < T; r++)
                for (int i = 0; i < d; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < d; j++) sum += skip[i * d + j] * (x[r * d + j] - f.Splices[l].Input[r * d + j]);
                    held[l][r * d + i] += (float)sum;
                }
        }
        return (clean, Read(f, targets, Patches(f, held, hook, vector, source.Position, scale)));
    }

    /// <summary>Where a source is written, and its vector.</summary>
    public static (HookPoint Hook, float[] Vector) Vector(GraphFixture f, EdgeSource source)
    {
        int d = f.Model.Facts.DModel, at = source.Position * d;
        if (source.Kind == SourceKind.Token)
        {
            var embed = new HookPoint(HookKind.Embed, -1);
            return (embed, f.Model.ActivationAt(embed, GraphFixture.Prompt, 1)[at..(at + d)]);
        }
        var splice = f.Splices[source.Layer];
        if (source.Kind == SourceKind.Error) return (splice.OutputHook, splice.Error[at..(at + d)]);
        int n = splice.Transcoder.DSae;
        float a = splice.Features[source.Position * n + source.Feature];
        return (splice.OutputHook, [.. splice.Transcoder.Dictionary.DecoderRow(source.Feature).ToArray().Select(w => a * w)]);
    }

    private static List<ActivationPatch> Patches(GraphFixture f, float[][] held, HookPoint hook, float[] vector, int position, float scale)
    {
        int T = GraphFixture.Prompt.Length, d = f.Model.Facts.DModel;
        var patches = new List<ActivationPatch>();
        for (int l = 0; l < f.Layers; l++)
            for (int r = 0; r < T; r++)
                patches.Add(new ActivationPatch(f.Splices[l].OutputHook, r, 0, held[l].AsMemory(r * d, d)));
        // The source row: what the patches above (or the embedding) wrote there, less the source.
        var row = hook.Kind == HookKind.Embed
            ? f.Model.ActivationAt(hook, GraphFixture.Prompt, 1)[(position * d)..((position + 1) * d)]
            : held[hook.Layer][(position * d)..((position + 1) * d)];
        for (int i = 0; i < d; i++) row[i] -= scale * vector[i];
        patches.Add(new ActivationPatch(hook, position, 0, row));
        return patches;
    }

    private static double[] Read(GraphFixture f, IReadOnlyList<EdgeTarget> targets, List<ActivationPatch> patches)
    {
        int d = f.Model.Facts.DModel, V = f.Model.Facts.VocabSize;
        var inputs = f.Splices.Select(s => s.InputHook).ToArray();
        using var run = f.Model.Forward(GraphFixture.Prompt, 1, new RunOptions { Patches = patches, Cache = inputs, Logits = LogitRows.All });
        return [.. targets.Select(t =>
        {
            if (t.Kind == TargetKind.FeatureInput)
            {
                var sae = f.Splices[t.Layer].Transcoder.Dictionary;
                var x = run.Cached(inputs[t.Layer]);
                double sum = sae.BEnc[t.Index];
                for (int j = 0; j < d; j++) sum += (double)x[t.Position * d + j] * sae.WEnc[j * sae.DSae + t.Index];
                return sum;
            }
            var logits = run.Logits.AsSpan(t.Position * V, V);
            double value = logits[t.Index];
            if (t.Kind == TargetKind.DemeanedLogit)
            {
                double mean = 0;
                foreach (var v in logits) mean += v;
                value -= mean / V;
            }
            return value;
        })];
    }
}
