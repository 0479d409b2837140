using RelpSae.Formats;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

public class SparseAutoencoderTests
{
    private const int DIn = 7, DSae = 12, Rows = 9;

    // f and x̂ computed entry by entry in double, straight from SAELens' definitions.
    private static (double[] F, double[] XHat) Reference(SparseAutoencoder sae, float[] x)
    {
        var f = new double[Rows * DSae];
        var xhat = new double[Rows * DIn];
        for (int r = 0; r < Rows; r++)
        {
            var pre = new double[DSae];
            for (int i = 0; i < DSae; i++)
            {
                double sum = sae.BEnc[i];
                for (int j = 0; j < DIn; j++)
                    sum += (x[r * DIn + j] - (sae.Config.ApplyBDecToInput ? sae.BDec[j] : 0)) * (double)sae.WEnc[j * DSae + i];
                pre[i] = sum;
            }
            var keep = sae.Config.Architecture == SaeArchitecture.TopK
                ? [.. Enumerable.Range(0, DSae).OrderByDescending(i => pre[i]).Take(sae.Config.K)]
                : Enumerable.Range(0, DSae).ToHashSet();
            for (int i = 0; i < DSae; i++)
            {
                bool on = keep.Contains(i) && pre[i] > 0
                    && (sae.Config.Architecture != SaeArchitecture.JumpRelu || pre[i] > sae.Threshold[i]);
                f[r * DSae + i] = on ? pre[i] : 0;
            }
            for (int j = 0; j < DIn; j++)
            {
                double sum = sae.BDec[j];
                for (int i = 0; i < DSae; i++) sum += f[r * DSae + i] * sae.WDec[i * DIn + j];
                xhat[r * DIn + j] = sum;
            }
        }
        return (f, xhat);
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard, true)]
    [InlineData(SaeArchitecture.Standard, false)]
    [InlineData(SaeArchitecture.JumpRelu, true)]
    [InlineData(SaeArchitecture.TopK, true)]
    [InlineData(SaeArchitecture.TopK, false)]
    public void EncodeAndDecodeMatchTheDefinition(SaeArchitecture architecture, bool applyBDec)
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(architecture, DIn, DSae, k: 3, applyBDec), 11);
        var x = SaeTestData.Gaussian(Rows * DIn, 12);
        var (fRef, xhatRef) = Reference(sae, x);

        var f = sae.Encode(x);
        var xhat = sae.Decode(f);

        for (int e = 0; e < f.Length; e++) Assert.Equal(fRef[e], f[e], 1e-5);
        for (int e = 0; e < xhat.Length; e++) Assert.Equal(xhatRef[e], xhat[e], 1e-5);
        Assert.Contains(f, v => v > 0);
    }

    [Fact]
    public void TopKKeepsExactlyKActivePerRow()
    {
        // A positive encoder bias makes every pre-activation positive, so exactly k survive in each row.
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.TopK, DIn, DSae, k: 4), 21, encoderBias: 20);
        var f = sae.Encode(SaeTestData.Gaussian(Rows * DIn, 22));
        for (int r = 0; r < Rows; r++)
            Assert.Equal(4, f.AsSpan(r * DSae, DSae).ToArray().Count(v => v != 0));
    }

    [Fact]
    public void JumpReluZeroesEverythingAtOrBelowItsThreshold()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.JumpRelu, DIn, DSae), 31);
        var standard = SparseAutoencoder.FromTensors(sae.Config with { Architecture = SaeArchitecture.Standard },
            sae.ToTensors().Where(t => t.Name != "threshold"), "test");
        var x = SaeTestData.Gaussian(Rows * DIn, 32, 2);
        var f = sae.Encode(x);
        var relu = standard.Encode(x); // ReLU(pre): the pre-activation wherever it is positive
        int gated = 0;
        for (int r = 0; r < Rows; r++)
            for (int i = 0; i < DSae; i++)
            {
                float pre = relu[r * DSae + i], theta = sae.Threshold[i];
                Assert.Equal(pre > theta ? pre : 0, f[r * DSae + i]);
                if (pre > 0 && pre <= theta) gated++;
            }
        Assert.True(gated > 0, "some positive pre-activations should sit below their threshold");
    }

    [Fact]
    public void FoldingAnInputScaleGivesTheSameFeaturesOnRawInputs()
    {
        const float scale = 3.5f;
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, DIn, DSae), 41);
        var raw = SaeTestData.Gaussian(Rows * DIn, 42);
        var scaled = raw.Select(v => v * scale).ToArray();
        var fScaled = sae.Encode(scaled);
        var xhatScaled = sae.Decode(fScaled);

        var folded = sae.Clone();
        folded.FoldInputScale(scale);
        var fRaw = folded.Encode(raw);
        var xhatRaw = folded.Decode(fRaw);

        for (int e = 0; e < fRaw.Length; e++) Assert.Equal(fScaled[e], fRaw[e], 1e-4);
        for (int e = 0; e < xhatRaw.Length; e++) Assert.Equal(xhatScaled[e] / scale, xhatRaw[e], 1e-5);
    }

    [Fact]
    public void FeatureContributionIsTheDecodeDifference()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, DIn, DSae), 51);
        var f = sae.Encode(SaeTestData.Gaussian(DIn, 52));
        var before = sae.Decode(f);
        f[5] += 0.75f;
        var after = sae.Decode(f);
        var patched = (float[])before.Clone();
        sae.AddFeatureContribution(5, 0.75f, patched);
        for (int j = 0; j < DIn; j++) Assert.Equal(after[j], patched[j], 1e-5);
    }

    [Fact]
    public void TensorsRoundTripExactly()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.JumpRelu, DIn, DSae), 61);
        var copy = SparseAutoencoder.FromTensors(sae.Config, sae.ToTensors(), "test");
        Assert.Equal(sae.WEnc, copy.WEnc);
        Assert.Equal(sae.BEnc, copy.BEnc);
        Assert.Equal(sae.WDec, copy.WDec);
        Assert.Equal(sae.BDec, copy.BDec);
        Assert.Equal(sae.Threshold, copy.Threshold);
    }

    [Fact]
    public void ShapeMismatchBetweenConfigAndWeightsIsAClearError()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, DIn, DSae), 71);
        var wider = sae.Config with { DIn = DIn + 1 };
        var e = Assert.Throws<RelpSaeException>(() => SparseAutoencoder.FromTensors(wider, sae.ToTensors(), "sae_weights.safetensors"));
        Assert.Contains("sae_weights.safetensors", e.Message);
        Assert.Contains("W_enc", e.Message);
        Assert.Contains("d_in 8", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingOrUnexpectedTensorsAreErrors()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, DIn, DSae), 81);
        var tensors = sae.ToTensors();
        var missing = Assert.Throws<RelpSaeException>(() =>
            SparseAutoencoder.FromTensors(sae.Config, tensors.Where(t => t.Name != "b_dec"), "w"));
        Assert.Contains("'b_dec'", missing.Message);
        var jump = Assert.Throws<RelpSaeException>(() =>
            SparseAutoencoder.FromTensors(sae.Config with { Architecture = SaeArchitecture.JumpRelu }, tensors, "w"));
        Assert.Contains("'threshold'", jump.Message);
        var extra = Assert.Throws<RelpSaeException>(() =>
            SparseAutoencoder.FromTensors(sae.Config, [.. tensors, new FloatTensor("W_gate", [1], [0f])], "w"));
        Assert.Contains("'W_gate'", extra.Message);
        // SAELens used to store an all-ones scaling_factor with every SAE: harmless, accepted.
        SparseAutoencoder.FromTensors(sae.Config, [.. tensors, new FloatTensor("scaling_factor", [DSae], Enumerable.Repeat(1f, DSae).ToArray())], "w");
    }
}
