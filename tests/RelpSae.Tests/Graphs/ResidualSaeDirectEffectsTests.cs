using RelpSae.Attribution;
using RelpSae.Formats;
using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// True direct effects over residual-stream SAEs (graph-resid-saes: one at every hook_resid_post of tarot-gpt2): removing
/// a node's vector at its hook with every hook held at its clean value changes each target as plain patched runs say —
/// a feature's pre-activation read from the hook's computed value (resid_mid + mlp_out, live through the block), with
/// the SAE's own (x − b_dec)·W_enc + b_enc — and reaches only the next hook's features (or the logits, from the last).
/// </summary>
public class ResidualSaeDirectEffectsTests
{
    private static readonly string Folder = TestPaths.Data("graph-resid-saes");

    [Fact]
    public void EffectsAreWhatPlainPatchedRunsWithEveryHookHeldGiveAndReachOnlyTheNextHook()
    {
        var model = Families.Named("tarot-gpt2").Load();
        int d = model.Facts.DModel, L = model.Facts.NLayers, V = model.Facts.VocabSize;
        using var expected = SafetensorsFile.Open(Path.Combine(Folder, "expected.safetensors"));
        int[] tokens = [.. expected.ReadFloat("tokens").Data.Select(t => (int)t)];
        int T = tokens.Length, last = T - 1;
        var splices = TranscoderSplice.All(model, GraphDictionaries.Load(Folder, model.Facts), tokens);
        var saes = Enumerable.Range(0, L).Select(l => SaeFiles.Load(Path.Combine(Folder, $"blocks.{l}.hook_resid_post"))).ToArray();

        int Active(int l, int p) => Enumerable.Range(0, saes[l].DSae).First(i => splices[l].Features[p * saes[l].DSae + i] != 0);
        var sources = new List<EdgeSource> { EdgeSource.ForToken(1), EdgeSource.ForToken(last) };
        for (int l = 0; l < L; l++)
        {
            sources.Add(EdgeSource.ForFeature(l, 2, Active(l, 2)));
            sources.Add(EdgeSource.ForError(l, 3));
        }
        var targets = new List<EdgeTarget>();
        for (int l = 0; l < L; l++)
            foreach (int p in new[] { 2, last }) targets.Add(EdgeTarget.FeatureInput(l, p, (5 * l + p) % saes[l].DSae));
        targets.Add(EdgeTarget.DemeanedLogit(last, 3));
        var effects = DirectEffects.Measure(model, tokens, splices, sources, targets, sequencesPerPass: 3);

        var resid = Enumerable.Range(0, L).Select(l => new HookPoint(HookKind.ResidPost, l)).ToArray();
        var computed = Enumerable.Range(0, L).SelectMany(l => new[] { new HookPoint(HookKind.ResidMid, l), new HookPoint(HookKind.MlpOut, l) }).ToArray();
        double[] Read(List<ActivationPatch> patches)
        {
            using var run = model.Forward(tokens, 1, new RunOptions { Patches = patches, Cache = computed, Logits = LogitRows.All });
            return [.. targets.Select(t =>
            {
                if (t.Kind == TargetKind.DemeanedLogit)
                {
                    var logits = run.Logits.AsSpan(t.Position * V, V);
                    double mean = 0;
                    foreach (var v in logits) mean += v;
                    return logits[t.Index] - mean / V;
                }
                var sae = saes[t.Layer];
                var (mid, mlp) = (run.Cached(computed[2 * t.Layer]), run.Cached(computed[2 * t.Layer + 1]));
                double sum = sae.BEnc[t.Index];
                for (int j = 0; j < d; j++)
                    sum += (mid[t.Position * d + j] + mlp[t.Position * d + j] - (double)sae.BDec[j]) * sae.WEnc[j * sae.DSae + t.Index];
                return sum;
            })];
        }

        var clean = Read([]);
        var embedding = model.ActivationAt(new HookPoint(HookKind.Embed, -1), tokens, 1);
        bool moved = false;
        for (int s = 0; s < sources.Count; s++)
        {
            var source = sources[s];
            // Every hook held at its clean value, the source's row less its vector.
            var patches = new List<ActivationPatch>();
            for (int l = 0; l < L; l++)
                for (int r = 0; r < T; r++)
                    if (!(source.Kind != SourceKind.Token && source.Layer == l && r == source.Position))
                        patches.Add(new ActivationPatch(resid[l], r, 0, splices[l].TrueOutput.AsMemory(r * d, d)));
            int p = source.Position;
            var row = (source.Kind == SourceKind.Token ? embedding : splices[source.Layer].TrueOutput)[(p * d)..((p + 1) * d)];
            var vector = source.Kind switch
            {
                SourceKind.Token => embedding[(p * d)..((p + 1) * d)],
                SourceKind.Error => splices[source.Layer].Error[(p * d)..((p + 1) * d)],
                _ => [.. saes[source.Layer].DecoderRow(source.Feature).ToArray().Select(w => w * splices[source.Layer].Features[p * saes[source.Layer].DSae + source.Feature])],
            };
            for (int j = 0; j < d; j++) row[j] -= vector[j];
            patches.Add(new ActivationPatch(source.Kind == SourceKind.Token ? new HookPoint(HookKind.Embed, -1) : resid[source.Layer], p, 0, row));
            var ablated = Read(patches);
            for (int t = 0; t < targets.Count; t++)
            {
                double want = clean[t] - ablated[t];
                Assert.True(Math.Abs(effects[s, t] - want) <= 2e-5 * (1 + Math.Abs(clean[t])), $"{source} → {targets[t]}: {effects[s, t]} vs {want}");
                Assert.True(Math.Abs(effects.Clean[t] - clean[t]) <= 2e-5 * (1 + Math.Abs(clean[t])), $"{targets[t]}: clean {effects.Clean[t]} vs {clean[t]}");
                int reaches = source.Kind == SourceKind.Token ? 0 : source.Layer + 1;
                int at = targets[t].Kind == TargetKind.FeatureInput ? targets[t].Layer : L;
                if (at != reaches || targets[t].Position < p) Assert.Equal(0.0, effects[s, t]);
                else moved |= Math.Abs(want) > 1e-2;
            }
        }
        Assert.True(moved, "no source moved any target");
    }
}
