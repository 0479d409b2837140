using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

/// <summary>The hand-written backward pass against central finite differences of the loss.</summary>
public class SaeObjectiveTests
{
    private const int DIn = 6, DSae = 10, Batch = 5;

    [Theory]
    [InlineData(SaeArchitecture.Standard, true)]
    [InlineData(SaeArchitecture.Standard, false)]
    [InlineData(SaeArchitecture.JumpRelu, true)]
    [InlineData(SaeArchitecture.TopK, true)]
    [InlineData(SaeArchitecture.TopK, false)]
    public void GradientsMatchFiniteDifferences(SaeArchitecture architecture, bool applyBDec)
    {
        var config = SaeTestData.Config(architecture, DIn, DSae, k: 3, applyBDec);
        var sae = SaeTestData.RandomSae(config, 100, encoderBias: 0.2);
        var x = SaeTestData.Gaussian(Batch * DIn, 101);
        var settings = new ObjectiveSettings(Sparsity: 0.7f, JumpReluBandwidth: 1e-3f, AuxKCoefficient: 0, AuxK: 2);
        // The threshold gets a pseudo-gradient, not a derivative: it is tested on its own below.
        int checkedCount = CheckAgainstFiniteDifferences(sae, x, settings, [], skipArray: 4, onlyLatents: null);
        Assert.True(checkedCount > 100, $"only {checkedCount} entries were away from a kink");
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.JumpRelu)]
    [InlineData(SaeArchitecture.TopK)]
    public void ATranscodersLossMeasuresItsTargetAndItsGradientsMatchFiniteDifferences(SaeArchitecture architecture)
    {
        // A transcoder: b_dec is an output bias, and x̂ must match the target y (an MLP's output), not the input x.
        var config = SaeTestData.Config(architecture, DIn, DSae, k: 3, applyBDec: false);
        var sae = SaeTestData.RandomSae(config, 110, encoderBias: 0.2);
        var x = SaeTestData.Gaussian(Batch * DIn, 111);
        var y = SaeTestData.Gaussian(Batch * DIn, 112, scale: 2, mean: 0.5);
        var settings = new ObjectiveSettings(Sparsity: 0, JumpReluBandwidth: 1e-3f, AuxKCoefficient: 0, AuxK: 2);
        var terms = new SaeObjective(config, Batch, settings.AuxK).Evaluate(sae, x, settings, [], null, y);

        // Independently: Σ_b ‖decode(encode(x_b)) − y_b‖² / B, and the variance of y about its mean.
        var prediction = sae.Decode(sae.Encode(x));
        double error = 0, variance = 0;
        for (int e = 0; e < y.Length; e++)
        {
            error += Math.Pow(prediction[e] - y[e], 2);
            double mean = Enumerable.Range(0, Batch).Average(r => y[r * DIn + e % DIn]);
            variance += Math.Pow(y[e] - mean, 2);
        }
        Assert.Equal(error / Batch, terms.Reconstruction, 1e-5 * error);
        Assert.Equal(1 - error / variance, terms.ExplainedVariance, 1e-5);

        int checkedCount = CheckAgainstFiniteDifferences(sae, x, settings with { Sparsity = 0.7f }, [], skipArray: 4, onlyLatents: null, target: y);
        Assert.True(checkedCount > 100, $"only {checkedCount} entries were away from a kink");
    }

    [Fact]
    public void AuxKGradientOfDeadLatentsMatchesFiniteDifferences()
    {
        var config = SaeTestData.Config(SaeArchitecture.TopK, DIn, DSae, k: 2);
        var sae = SaeTestData.RandomSae(config, 200, encoderBias: 0.5);
        var x = SaeTestData.Gaussian(Batch * DIn, 201);
        var settings = new ObjectiveSettings(0, 1e-3f, AuxKCoefficient: 0.5f, AuxK: 3);
        var objective = new SaeObjective(config, Batch, settings.AuxK);
        objective.Evaluate(sae, x, settings, [], null);
        // Latents silent in this batch play the dead ones: their parameters reach the loss only through AuxK,
        // and the residual x − x̂ they are fitted to does not depend on them.
        var dead = Enumerable.Range(0, DSae).Select(i => objective.FiredCounts[i] == 0).ToArray();
        Assert.InRange(dead.Count(d => d), 2, DSae - 2);
        var auxOnly = objective.Evaluate(sae, x, settings, dead, null);
        Assert.True(auxOnly.Aux > 0);

        int checkedCount = CheckAgainstFiniteDifferences(sae, x, settings, dead, skipArray: -1, onlyLatents: dead);
        Assert.True(checkedCount > 20, $"only {checkedCount} entries checked");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SparseTopKPathEqualsTheDenseProducts(bool applyBDec)
    {
        // 4 of 64 latents a row: the sparse path by default; AuxK on, with the latents silent in the batch as dead.
        const int dIn = 16, dSae = 64, batch = 12;
        var config = SaeTestData.Config(SaeArchitecture.TopK, dIn, dSae, k: 4, applyBDec);
        var sae = SaeTestData.RandomSae(config, 300, encoderBias: 0.2);
        var x = SaeTestData.Gaussian(batch * dIn, 301);
        var settings = new ObjectiveSettings(0, 1e-3f, AuxKCoefficient: 0.5f, AuxK: 6);
        var sparse = new SaeObjective(config, batch, settings.AuxK);
        var dense = new SaeObjective(config, batch, settings.AuxK, sparse: false);
        dense.Evaluate(sae, x, settings, [], null);
        var dead = Enumerable.Range(0, dSae).Select(i => dense.FiredCounts[i] == 0).ToArray();
        Assert.InRange(dead.Count(d => d), 8, dSae - 8);

        var (gSparse, gDense) = (new SparseAutoencoder(config), new SparseAutoencoder(config));
        var a = sparse.Evaluate(sae, x, settings, dead, gSparse);
        var b = dense.Evaluate(sae, x, settings, dead, gDense);
        Assert.True(b.Aux > 0);
        Assert.Equal(b.Loss, a.Loss, 1e-6 * b.Loss);
        Assert.Equal(b.Aux, a.Aux, 1e-6 * b.Aux);
        Assert.Equal(dense.Reconstruction.ToArray(), sparse.Reconstruction.ToArray(), (u, v) => Math.Abs(u - v) <= 1e-5f * (1 + Math.Abs(u)));
        for (int p = 0; p < gDense.Parameters.Length; p++)
            for (int e = 0; e < gDense.Parameters[p].Length; e++)
                Assert.True(Math.Abs(gDense.Parameters[p][e] - gSparse.Parameters[p][e]) <= 1e-5f * (1 + Math.Abs(gDense.Parameters[p][e])),
                    $"array {p} entry {e}: dense {gDense.Parameters[p][e]}, sparse {gSparse.Parameters[p][e]}");
        Assert.Contains(gSparse.WEnc, v => v != 0);
    }

    [Fact]
    public void JumpReluThresholdPseudoGradientEstimatesTheL0DensityTerm()
    {
        // One latent whose pre-activation is x_0, uniform on [0, 1): the expected L0 penalty is λ·P(pre > θ)
        // = λ(1 − θ), so its derivative in θ is −λ. With W_dec = 0 nothing else depends on θ.
        const int rows = 20000;
        var config = SaeTestData.Config(SaeArchitecture.JumpRelu, 1, 1, applyBDec: false);
        var sae = new SparseAutoencoder(config);
        sae.WEnc[0] = 1;
        sae.Threshold[0] = 0.4f;
        var rng = new DeterministicRandom(7);
        var x = Enumerable.Range(0, rows).Select(_ => (float)rng.NextDouble()).ToArray();
        var grads = new SparseAutoencoder(config);
        const float lambda = 2f;
        new SaeObjective(config, rows, 1).Evaluate(sae, x, new ObjectiveSettings(lambda, 0.05f, 0, 1), [], grads);
        Assert.Equal(-lambda, grads.Threshold[0], 0.1);
    }

    [Fact]
    public void JumpReluThresholdPseudoGradientEqualsItsClosedFormOnVectorAndTailColumns()
    {
        // 19 latents: two 8-wide vectors and a 3-column tail; a wide band puts many entries in it.
        const int dIn = 5, dSae = 19, rows = 7;
        const float lambda = 0.8f, eps = 0.6f;
        var config = SaeTestData.Config(SaeArchitecture.JumpRelu, dIn, dSae);
        var sae = SaeTestData.RandomSae(config, 400, encoderBias: 0.3);
        for (int i = 0; i < dSae; i++) sae.Threshold[i] = 0.1f + 0.02f * i;
        var x = SaeTestData.Gaussian(rows * dIn, 401);
        var grads = new SparseAutoencoder(config);
        new SaeObjective(config, rows, 1).Evaluate(sae, x, new ObjectiveSettings(lambda, eps, 0, 1), [], grads);

        // In double: pre, f, x̂, dL/df = (2/B)(x̂ − x)·W_decᵀ, then −Σ_rows in band (θ·dL/df + λ/B)/ε.
        var pre = new double[rows, dSae];
        var xhat = new double[rows, dIn];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < dSae; i++)
            {
                pre[r, i] = sae.BEnc[i];
                for (int j = 0; j < dIn; j++) pre[r, i] += (x[r * dIn + j] - sae.BDec[j]) * (double)sae.WEnc[j * dSae + i];
            }
            for (int j = 0; j < dIn; j++)
            {
                xhat[r, j] = sae.BDec[j];
                for (int i = 0; i < dSae; i++)
                    if (pre[r, i] > sae.Threshold[i] && pre[r, i] > 0) xhat[r, j] += pre[r, i] * sae.WDec[i * dIn + j];
            }
        }
        int inBand = 0;
        for (int i = 0; i < dSae; i++)
        {
            double expected = 0;
            for (int r = 0; r < rows; r++)
            {
                if (Math.Abs(pre[r, i] - sae.Threshold[i]) >= eps / 2) continue;
                inBand++;
                double df = 0;
                for (int j = 0; j < dIn; j++) df += 2.0 / rows * (xhat[r, j] - x[r * dIn + j]) * sae.WDec[i * dIn + j];
                expected -= (sae.Threshold[i] * df + lambda / rows) / eps;
            }
            Assert.Equal(expected, grads.Threshold[i], 1e-4 * (1 + Math.Abs(expected)));
        }
        Assert.InRange(inBand, rows * dSae / 5, rows * dSae * 4 / 5);
    }

    private static int CheckAgainstFiniteDifferences(SparseAutoencoder sae, float[] x, ObjectiveSettings settings,
        bool[] dead, int skipArray, bool[]? onlyLatents, float[]? target = null)
    {
        var config = sae.Config;
        var objective = new SaeObjective(config, Batch, settings.AuxK);
        var grads = new SparseAutoencoder(config);
        objective.Evaluate(sae, x, settings, dead, grads, target);
        var pattern = ActivePattern(objective);

        const float h = 1e-2f;
        int checkedCount = 0;
        var parameters = sae.Parameters;
        for (int a = 0; a < parameters.Length; a++)
        {
            if (a == skipArray) continue;
            for (int e = 0; e < parameters[a].Length; e++)
            {
                if (onlyLatents is not null && LatentOf(a, e) is var latent && (latent < 0 || !onlyLatents[latent])) continue;
                float saved = parameters[a][e];
                parameters[a][e] = saved + h;
                double plus = objective.Evaluate(sae, x, settings, dead, null, target).Loss;
                bool same = pattern.SequenceEqual(ActivePattern(objective));
                parameters[a][e] = saved - h;
                double minus = objective.Evaluate(sae, x, settings, dead, null, target).Loss;
                same &= pattern.SequenceEqual(ActivePattern(objective));
                parameters[a][e] = saved;
                if (!same) continue; // a feature switched on or off inside the step: no derivative to compare
                double numeric = (plus - minus) / (2 * h);
                double analytic = grads.Parameters[a][e];
                Assert.True(Math.Abs(numeric - analytic) <= 2e-3 * (1 + Math.Abs(numeric)),
                    $"array {a} entry {e}: finite difference {numeric}, backward {analytic}");
                checkedCount++;
            }
        }
        return checkedCount;
    }

    // The latent an entry of W_enc, b_enc, W_dec or threshold belongs to; -1 for b_dec.
    private static int LatentOf(int array, int entry) => array switch
    {
        0 => entry % DSae,
        1 or 4 => entry,
        2 => entry / DIn,
        _ => -1,
    };

    // Which latents are on, in the main pass and in AuxK's selection: the loss is smooth while this holds.
    private static int[] ActivePattern(SaeObjective objective)
    {
        var pattern = objective.Features.ToArray().Select(v => v != 0 ? 1 : 0).ToList();
        for (int r = 0; r < objective.AuxCounts.Length; r++)
            pattern.AddRange(objective.AuxIndices.Slice(r * objective.AuxIndices.Length / Batch, objective.AuxCounts[r]).ToArray().Order());
        return [.. pattern];
    }
}
