namespace RelpSae.Tests.Cli;

/// <summary>
/// The default SAE's recipe starts with `sample-text --documents 2000 --seed 1`: its first documents must
/// still come out byte for byte as committed in data/, or the recipe no longer reproduces the SAE.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class SampleTextTests
{
    [Fact]
    public void FirstDocumentsReproduceTheCommittedCorpus()
    {
        var corpus = File.ReadAllText(TestPaths.Data("corpus", "tarot-samples-seed1.txt"));
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "sample.txt");
        // 40 documents: one full batch of 32 and a partial one, while the corpus was sampled in 63 batches.
        var (code, output, error) = CliHarness.Run("sample-text", "--documents", "40", "--seed", "1", "--out", path);
        Assert.True(code == 0, error);
        Assert.Contains("wrote 40 documents (2,520 tokens)", output);
        var sample = File.ReadAllText(path);
        int mismatch = Enumerable.Range(0, sample.Length).FirstOrDefault(i => i >= corpus.Length || corpus[i] != sample[i], -1);
        Assert.True(mismatch < 0, $"sample-text drifted from data/tarot-samples-seed1.txt at character {mismatch}, line {sample[..Math.Max(0, mismatch)].Count(c => c == '\n') + 1}");
    }

    [Fact]
    public void DocumentIDoesNotDependOnTheDocumentCount()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        string Sample(int documents, int seed)
        {
            var path = Path.Combine(dir, $"{documents}-{seed}.txt");
            var (code, _, error) = CliHarness.Run("sample-text", "--documents", $"{documents}", "--seed", $"{seed}", "--tokens", "16", "--out", path);
            Assert.True(code == 0, error);
            return File.ReadAllText(path);
        }
        var five = Sample(5, 7);
        Assert.StartsWith(five, Sample(37, 7));
        Assert.NotEqual(five, Sample(5, 8));
    }
}
