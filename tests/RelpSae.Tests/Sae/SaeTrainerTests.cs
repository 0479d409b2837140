using System.Diagnostics;
using System.Numerics.Tensors;
using RelpSae.Numerics;
using RelpSae.Sae;
using Xunit.Abstractions;

namespace RelpSae.Tests.Sae;

public class SaeTrainerTests(ITestOutputHelper output)
{
    // Share of true atoms that some decoder row points along (cosine above the bar).
    private static double RecoveredShare(SparseAutoencoder sae, SyntheticDictionarySource source, double bar = 0.9)
    {
        int d = sae.DIn, recovered = 0;
        for (int a = 0; a < source.AtomCount; a++)
        {
            var atom = source.Atoms[(a * d)..((a + 1) * d)];
            double best = Enumerable.Range(0, sae.DSae).Max(i => (double)TensorPrimitives.CosineSimilarity(sae.DecoderRow(i), atom));
            if (best > bar) recovered++;
        }
        return (double)recovered / source.AtomCount;
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.TopK)]
    [InlineData(SaeArchitecture.JumpRelu)]
    public void RecoversAKnownSparseDictionary(SaeArchitecture architecture)
    {
        var source = new SyntheticDictionarySource(dIn: 32, atoms: 64, activeProbability: 3.0 / 64, seed: 5, offsetScale: 0.5f);
        var options = new SaeTrainingOptions
        {
            Architecture = architecture, DSae = 128, K = 4, BatchSize = 128, TotalSteps = 1500, Seed = 1,
            LearningRate = 3e-3f, LrWarmupSteps = 50, LrDecaySteps = 300, SparsityWarmupSteps = 200,
            SparsityCoefficient = architecture == SaeArchitecture.JumpRelu ? 0.2f : 1f,
            DeadWindowTokens = 128 * 200, ResampleIntervalSteps = 250,
        };
        var clock = Stopwatch.StartNew();
        var trainer = SaeTrainer.Start(options, source);
        var sae = trainer.Run(new Progress<SaeTrainingProgress>(p => output.WriteLine(p.ToString())), progressEverySteps: 250);
        double share = RecoveredShare(sae, source);
        output.WriteLine($"{architecture}: recovered {share:P1} in {clock.ElapsedMilliseconds} ms");
        Assert.True(share >= 0.9, $"recovered only {share:P1} of the atoms");
    }
}

public class SaeTrainerResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("relp-sae-trainer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SyntheticDictionarySource Source() => new(dIn: 16, atoms: 24, activeProbability: 0.1, seed: 9, offsetScale: 1, gain: 3);

    // Small enough to run in milliseconds, with dead latents, resampling (or AuxK) and both schedules in play.
    private static SaeTrainingOptions Options(SaeArchitecture architecture) => new()
    {
        Architecture = architecture, DSae = 48, K = 3, BatchSize = 32, TotalSteps = 40, Seed = 77,
        LearningRate = 1e-2f, LrWarmupSteps = 5, LrDecaySteps = 10, SparsityWarmupSteps = 8,
        InitializationBatches = 2, DeadWindowTokens = 32 * 4, ResampleIntervalSteps = 6, SparsityCoefficient = 2f,
        // A high starting threshold leaves JumpReLU latents silent long enough to count as dead.
        JumpReluInitialThreshold = 3f,
    };

    private sealed class Recorder(Action<SaeTrainingProgress>? onReport = null) : IProgress<SaeTrainingProgress>
    {
        public List<SaeTrainingProgress> Reports { get; } = [];
        public void Report(SaeTrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    private static void AssertBitIdentical(SparseAutoencoder expected, SparseAutoencoder actual)
    {
        string[] names = ["W_enc", "b_enc", "W_dec", "b_dec", "threshold"];
        for (int a = 0; a < expected.Parameters.Length; a++)
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.Parameters[a].AsSpan())
                .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(actual.Parameters[a].AsSpan())),
                $"{names[a]} differs");
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.JumpRelu)]
    [InlineData(SaeArchitecture.TopK)]
    public void KilledAndResumedRunEndsBitIdentical(SaeArchitecture architecture)
    {
        var options = Options(architecture);
        var uninterrupted = new Recorder();
        var expected = SaeTrainer.Start(options, Source()).Run(uninterrupted, progressEverySteps: 1);
        // The run must exercise the dead-latent machinery, or this test proves less than it claims.
        if (architecture == SaeArchitecture.TopK) Assert.Contains(uninterrupted.Reports, p => p.AuxLoss > 0);
        else Assert.Contains(uninterrupted.Reports, p => p.Resampled > 0);

        // Interrupted: Ctrl-C after step 17 checkpoints and stops; the trainer object is then dropped.
        string checkpoint = Path.Combine(_dir, "trainer_state.safetensors");
        using var cancel = new CancellationTokenSource();
        var killed = SaeTrainer.Start(options, Source());
        Assert.Throws<OperationCanceledException>(() => killed.Run(
            new Recorder(p => { if (p.Step == 17) cancel.Cancel(); }), progressEverySteps: 1,
            checkpointPath: checkpoint, checkpointEverySteps: 5, cancellationToken: cancel.Token));
        Assert.Equal(17, killed.Step);

        var resumed = SaeTrainer.Resume(checkpoint, Source());
        Assert.Equal(17, resumed.Step);
        var actual = resumed.Run(checkpointPath: checkpoint, checkpointEverySteps: 5);
        Assert.Equal(options.TotalSteps, resumed.Step);
        AssertBitIdentical(expected, actual);
        Assert.Equal([checkpoint], Directory.GetFiles(_dir)); // no temporary files left behind
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.JumpRelu)]
    [InlineData(SaeArchitecture.TopK)]
    public void OneThreadAndTwoThreadsTrainTheSameWeightsBitForBit(SaeArchitecture architecture)
    {
        // Large enough that the products, the passes over column bands and Adam split over two threads.
        var options = Options(architecture) with { DSae = 1024, K = 16, BatchSize = 256, TotalSteps = 12, LrDecaySteps = 2 };
        int saved = Threads.Count;
        try
        {
            // Threads.Count is process-wide: another test changing it meanwhile can only make the runs more alike.
            Threads.Count = 1;
            var one = SaeTrainer.Start(options, WideSource()).Run();
            Threads.Count = 2;
            var two = SaeTrainer.Start(options, WideSource()).Run();
            AssertBitIdentical(one, two);
        }
        finally { Threads.Count = saved; }
    }

    private static SyntheticDictionarySource WideSource() => new(dIn: 64, atoms: 96, activeProbability: 0.05, seed: 10, offsetScale: 1, gain: 3);

    [Fact]
    public void SameSeedSameWeightsOtherSeedOtherWeights()
    {
        var options = Options(SaeArchitecture.Standard) with { TotalSteps = 5, LrDecaySteps = 0 };
        var a = SaeTrainer.Start(options, Source()).Run();
        var b = SaeTrainer.Start(options, Source()).Run();
        var c = SaeTrainer.Start(options with { Seed = 78 }, Source()).Run();
        AssertBitIdentical(a, b);
        Assert.NotEqual(a.WDec, c.WDec);
    }

    [Fact]
    public void ExportedSaeWorksOnRawActivations()
    {
        // Activations with norm far from √d_in: training sees them rescaled, the export must not need that.
        var source = new SyntheticDictionarySource(dIn: 16, atoms: 24, activeProbability: 0.1, seed: 3, offsetScale: 0.3f, gain: 40);
        var options = Options(SaeArchitecture.Standard) with
        {
            TotalSteps = 300, LrDecaySteps = 50, ResampleIntervalSteps = 0, SparsityCoefficient = 0.5f,
        };
        var trainer = SaeTrainer.Start(options, source);
        var sae = trainer.Run();
        var trained = trainer.LastStep!;

        // The scale comes from the initialisation batches: the first InitializationBatches × BatchSize rows.
        var first = new float[options.InitializationBatches * options.BatchSize * 16];
        new SyntheticDictionarySource(dIn: 16, atoms: 24, activeProbability: 0.1, seed: 3, offsetScale: 0.3f, gain: 40).Read(first);
        double meanNorm = Enumerable.Range(0, first.Length / 16).Average(r => System.Numerics.Tensors.TensorPrimitives.Norm(first.AsSpan(r * 16, 16)));
        Assert.Equal(Math.Sqrt(16) / meanNorm, trainer.InputScale, 1e-5 * trainer.InputScale);

        var raw = new float[512 * 16];
        source.Read(raw);
        var evaluation = new SaeEvaluation(16, 48);
        evaluation.Add(sae, raw);
        var metrics = evaluation.Result();
        Assert.True(trained.ExplainedVariance > 0.8, $"training reached only EV {trained.ExplainedVariance}");
        Assert.Equal(trained.ExplainedVariance, metrics.ExplainedVariance, 0.05);
        // Same error, in raw units: MSE scales with the square of the input scale.
        Assert.Equal(trained.Mse, metrics.Mse * trainer.InputScale * trainer.InputScale, 0.2 * trained.Mse);
        Assert.Equal(trained.L0, metrics.L0, 0.5);
    }

    [Fact]
    public void ExportRecordsProvenanceAndTrainingOptionsInCfgJson()
    {
        var options = Options(SaeArchitecture.TopK) with { TotalSteps = 3, LrWarmupSteps = 0, LrDecaySteps = 0 };
        var trainer = SaeTrainer.Start(options, Source());
        var provenance = new SaeProvenance("blocks.1.hook_resid_pre", "tarot-gpt2", 64, true, "corpus.txt",
            new System.Text.Json.Nodes.JsonObject { ["relp_sae_command"] = "relp-sae train-sae --steps 3" });
        var sae = trainer.Run(provenance: provenance);
        SaeFiles.Save(_dir, sae);

        var config = SaeFiles.Load(_dir).Config;
        Assert.Equal(("blocks.1.hook_resid_pre", "tarot-gpt2", 64, true, "corpus.txt"),
            (config.HookName, config.ModelName, config.ContextSize, config.PrependBos, config.DatasetPath));
        Assert.Equal((SaeArchitecture.TopK, 16, 48, 3), (config.Architecture, config.DIn, config.DSae, config.K));
        Assert.Equal("relp-sae train-sae --steps 3", config.Extra["relp_sae_command"]!.GetValue<string>());
        var training = config.Extra["relp_sae_training"]!;
        Assert.Equal(3, training["steps"]!.GetValue<long>());
        Assert.Equal(trainer.InputScale, training["input_scale_folded"]!.GetValue<float>());
        Assert.Equal("TopK", training["options"]!["Architecture"]!.GetValue<string>());
    }

    [Fact]
    public void BadCheckpointsAreClearErrors()
    {
        string path = Path.Combine(_dir, "trainer_state.safetensors");
        var trainer = SaeTrainer.Start(Options(SaeArchitecture.Standard), Source());
        trainer.TrainStep();
        trainer.SaveCheckpoint(path);

        var wrongWidth = new SyntheticDictionarySource(dIn: 8, atoms: 4, activeProbability: 0.5, seed: 1);
        Assert.Contains("d_in 16", Assert.Throws<RelpSaeException>(() => SaeTrainer.Resume(path, wrongWidth)).Message);

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        Assert.StartsWith(path + ": ", Assert.Throws<RelpSaeException>(() => SaeTrainer.Resume(path, Source())).Message);
        File.WriteAllText(path, "not a checkpoint");
        Assert.StartsWith(path + ": ", Assert.Throws<RelpSaeException>(() => SaeTrainer.Resume(path, Source())).Message);
        // A safetensors file, but an SAE's weights rather than a trainer's state.
        RelpSae.Formats.SafetensorsWriter.Write(path, trainer.ExportSae().ToTensors());
        Assert.Contains("not a relp-sae training checkpoint", Assert.Throws<RelpSaeException>(() => SaeTrainer.Resume(path, Source())).Message);
        Assert.Contains("not found", Assert.Throws<RelpSaeException>(() => SaeTrainer.Resume(path + ".missing", Source())).Message);
    }

    [Fact]
    public void StopsCleanlyWhenTheSourceEnds()
    {
        var source = new SyntheticDictionarySource(dIn: 16, atoms: 24, activeProbability: 0.1, seed: 9) { Length = 32 * 2 + 32 * 7 + 5 };
        var trainer = SaeTrainer.Start(Options(SaeArchitecture.Standard), source);
        trainer.Run();
        Assert.True(trainer.SourceExhausted);
        Assert.Equal(7, trainer.Step);
        Assert.Equal(32 * 2 + 32 * 7, source.Position); // the partial batch is left unread
    }

    [Fact]
    public void InvalidOptionsAreOneLineErrors()
    {
        var e = Assert.Throws<RelpSaeException>(() =>
            SaeTrainer.Start(Options(SaeArchitecture.Standard) with { LrWarmupSteps = 30, LrDecaySteps = 20 }, Source()));
        Assert.Contains("warm-up (30) plus decay (20)", e.Message);
        Assert.Contains("k must be", Assert.Throws<RelpSaeException>(() =>
            SaeTrainer.Start(Options(SaeArchitecture.TopK) with { K = 0 }, Source())).Message);
    }
}
