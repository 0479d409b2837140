using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

public class ModelActivationSourceTests
{
    private static readonly HookPoint Hook = TarotText.Model.Facts.ParseHook("blocks.1.hook_resid_post");

    private static ModelActivationSource Source(string data, ulong seed = 3, int shuffleRows = 100) =>
        ModelActivationSource.FromText(new ModelFolder(TarotText.Model.Transformer, TarotText.Model.Tokenizer, "tarot-gpt2"), Hook, data, TarotText.Packing(),
            new ModelActivationOptions { ShuffleRows = shuffleRows, ContextsPerForward = 3, SkipFirstPosition = true, Seed = seed });

    [Fact]
    public void RowsAreTheModelsActivationsWithoutBosShuffledWithinABlock()
    {
        var data = TarotText.WriteFile();
        var source = Source(data);
        Assert.Equal(15, source.RowsPerContext);
        Assert.Equal(6, source.ContextsPerBlock);
        int d = source.DIn, rows = source.ContextsPerBlock * source.RowsPerContext;
        var block = new float[rows * d];
        Assert.Equal(rows, source.Read(block));

        // The same rows as a plain forward of the first six contexts, positions 1..15, in another order.
        var packed = new RelpSae.Text.ContextPacker(TarotText.Packing()).Pack(RelpSae.Text.Documents.ReadTokens(data, "text", TarotText.Model.Tokenizer)).Take(6).ToArray();
        var activation = TarotText.Model.Transformer.ActivationAt(Hook, packed.SelectMany(c => c).ToArray(), 6);
        var expected = Enumerable.Range(0, 6).SelectMany(c => Enumerable.Range(1, 15).Select(t => Row(activation, c * 16 + t, d))).ToList();
        var actual = Enumerable.Range(0, rows).Select(r => Row(block, r, d)).ToList();
        Assert.NotEqual(expected, actual);
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }

    private static string Row(float[] data, int row, int d) => string.Join(',', data.Skip(row * d).Take(d).Select(v => BitConverter.SingleToInt32Bits(v)));

    [Fact]
    public void SeekGivesTheSameRowsAgainAcrossBlocksAndPasses()
    {
        var source = Source(TarotText.WriteFile());
        int d = source.DIn;
        var first = new float[700 * d];
        source.Read(first); // several blocks and more than one pass over the data
        Assert.NotNull(source.ContextsPerPass);
        foreach (long at in new long[] { 613, 0, 91, 90 })
        {
            var fresh = Source(TarotText.WriteFile());
            foreach (var s in new[] { source, fresh })
            {
                s.Seek(at);
                var again = new float[50 * d];
                Assert.Equal(50, s.Read(again));
                Assert.Equal(first.AsSpan((int)at * d, 50 * d).ToArray(), again);
                Assert.Equal(at + 50, s.Position);
            }
        }
    }

    [Fact]
    public void KilledAndResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        var data = TarotText.WriteFile();
        var options = new SaeTrainingOptions
        {
            DSae = 256, BatchSize = 48, TotalSteps = 40, Seed = 9, LearningRate = 2e-3f, InitializationBatches = 2,
            DeadWindowTokens = 48 * 10, ResampleIntervalSteps = 15,
        };
        var reference = SaeTrainer.Start(options, Source(data)).Run().ToTensors();

        var checkpoint = Path.Combine(Directory.CreateTempSubdirectory().FullName, "ckpt.safetensors");
        var killed = SaeTrainer.Start(options, Source(data));
        for (int i = 0; i < 23; i++) Assert.True(killed.TrainStep());
        killed.SaveCheckpoint(checkpoint);
        killed.TrainStep(); // work after the checkpoint is lost with the process

        var resumed = SaeTrainer.Resume(checkpoint, Source(data));
        Assert.Equal(23, resumed.Step);
        var result = resumed.Run().ToTensors();
        for (int t = 0; t < reference.Count; t++)
            Assert.Equal(reference[t].Data, result[t].Data);
    }

    [Fact]
    public void TrainingLossFalls()
    {
        var options = new SaeTrainingOptions { DSae = 512, BatchSize = 128, TotalSteps = 300, Seed = 1, LearningRate = 1e-3f, SparsityCoefficient = 1f };
        var trainer = SaeTrainer.Start(options, Source(TarotText.WriteFile(), shuffleRows: 2048));
        var losses = new List<double>();
        while (trainer.TrainStep()) losses.Add(trainer.LastStep!.Loss);
        Assert.Equal(300, losses.Count);
        double early = losses.Take(20).Average(), late = losses.TakeLast(20).Average();
        Assert.True(late < 0.5 * early, $"loss {early} → {late}");
        Assert.True(trainer.LastStep!.ExplainedVariance > 0.8, $"explained variance {trainer.LastStep.ExplainedVariance}");
    }
}
