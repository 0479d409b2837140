using System.Numerics.Tensors;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

/// <summary>The trainer on a source of (input, target) pairs: a transcoder.</summary>
public class TranscoderTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("relp-tc-trainer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Rows of <see cref="SyntheticDictionarySource"/> as inputs x, each followed by its target y = gain·M·x + offset for a
    /// fixed random M: a map a transcoder can learn, with targets of another scale and mean than the inputs.
    /// </summary>
    private sealed class PairSource(SyntheticDictionarySource inputs, float gain) : IActivationSource
    {
        private readonly float[] _map = SaeTestData.Gaussian(inputs.DIn * inputs.DIn, 4242, 1 / Math.Sqrt(inputs.DIn));
        private readonly float[] _offset = SaeTestData.Gaussian(inputs.DIn, 4343, 3);

        public int DIn => inputs.DIn;
        public int DOut => inputs.DIn;
        public long Position => inputs.Position;
        public void Seek(long position) => inputs.Seek(position);

        public int Read(Span<float> rows)
        {
            int d = DIn;
            var x = new float[rows.Length / 2];
            int n = inputs.Read(x);
            for (int r = 0; r < n; r++)
            {
                var xr = x.AsSpan(r * d, d);
                xr.CopyTo(rows.Slice(2 * r * d, d));
                Target(xr, rows.Slice((2 * r + 1) * d, d));
            }
            return n;
        }

        public void Target(ReadOnlySpan<float> x, Span<float> y)
        {
            for (int j = 0; j < DIn; j++) y[j] = gain * TensorPrimitives.Dot(_map.AsSpan(j * DIn, DIn), x) + _offset[j];
        }
    }

    private static PairSource Source() => new(new SyntheticDictionarySource(dIn: 16, atoms: 24, activeProbability: 0.1, seed: 9, offsetScale: 0.3f, gain: 40), gain: 0.05f);

    private static SaeTrainingOptions Options(SaeArchitecture architecture) => new()
    {
        Architecture = architecture, DSae = 64, K = 8, BatchSize = 64, TotalSteps = 400, Seed = 3, ApplyBDecToInput = false,
        LearningRate = 5e-3f, LrDecaySteps = 100, SparsityCoefficient = architecture == SaeArchitecture.JumpRelu ? 0.05f : 0.2f,
        InitializationBatches = 2, JumpReluInitialThreshold = 0.001f,
    };

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.JumpRelu)]
    [InlineData(SaeArchitecture.TopK)]
    public void TrainsATranscoderThatPredictsRawTargetsFromRawInputs(SaeArchitecture architecture)
    {
        var trainer = SaeTrainer.Start(Options(architecture), Source());
        var transcoder = new Transcoder(trainer.Run(), "blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out");
        Assert.True(trainer.IsTranscoder);
        // Inputs of norm ~40·√(2.4) and targets of another size: each is scaled on its own during training.
        Assert.True(Math.Abs(trainer.InputScale - trainer.OutputScale) > 0.2 * trainer.InputScale, $"scales {trainer.InputScale} and {trainer.OutputScale}");

        // Measured on fresh raw rows against the raw targets, as eval-sae would.
        var source = Source();
        source.Seek(1_000_000);
        var rows = new float[512 * 32];
        source.Read(rows);
        var x = new float[512 * 16];
        var y = new float[512 * 16];
        for (int r = 0; r < 512; r++)
        {
            rows.AsSpan(32 * r, 16).CopyTo(x.AsSpan(16 * r));
            rows.AsSpan(32 * r + 16, 16).CopyTo(y.AsSpan(16 * r));
        }
        var features = transcoder.Encode(x);
        var evaluation = new SaeEvaluation(16, 64);
        evaluation.Add(y, transcoder.Output(features, x), features);
        var metrics = evaluation.Result();
        Assert.True(metrics.ExplainedVariance > 0.9, $"{architecture}: EV of the targets {metrics.ExplainedVariance}");
        Assert.Equal(trainer.LastStep!.ExplainedVariance, metrics.ExplainedVariance, 0.05);
        Assert.True(metrics.L0 < 32, $"L0 {metrics.L0}");
    }

    [Fact]
    public void AKilledAndResumedTranscoderRunEndsBitIdenticalAndAnSaeSourceCannotResumeIt()
    {
        var options = Options(SaeArchitecture.TopK) with { TotalSteps = 30, LrDecaySteps = 10, DeadWindowTokens = 64 * 3 };
        var expected = SaeTrainer.Start(options, Source()).Run();

        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        var killed = SaeTrainer.Start(options, Source());
        for (int i = 0; i < 13; i++) killed.TrainStep();
        killed.SaveCheckpoint(checkpoint);
        var actual = SaeTrainer.Resume(checkpoint, Source()).Run();
        for (int a = 0; a < expected.Parameters.Length; a++)
            Assert.True(expected.Parameters[a].AsSpan().SequenceEqual(actual.Parameters[a]), $"array {a} differs");

        var inputsOnly = new SyntheticDictionarySource(dIn: 16, atoms: 24, activeProbability: 0.1, seed: 9);
        Assert.Contains("trained as a transcoder (d_out 16), the activation source gives no targets",
            Assert.Throws<RelpSaeException>(() => SaeTrainer.Resume(checkpoint, inputsOnly)).Message);
    }

    [Fact]
    public void ATranscodersBDecIsAnOutputBias()
    {
        Assert.Contains("apply_b_dec_to_input must be false for a transcoder",
            Assert.Throws<RelpSaeException>(() => SaeTrainer.Start(Options(SaeArchitecture.Standard) with { ApplyBDecToInput = true }, Source())).Message);
    }
}
